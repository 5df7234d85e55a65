from django.apps import AppConfig


class OmsSiteConfig(AppConfig):
    name = "oms_site"
    verbose_name = "OMS site"

    def ready(self):
        from . import webhooks  # noqa: F401  (connects the subscriptions cache to saves)
