from django.apps import AppConfig


class OmsSiteConfig(AppConfig):
    name = "oms_site"
    verbose_name = "OMS site"

    def ready(self):
        from . import lookups, webhooks  # noqa: F401  (webhooks: the subscriptions cache)

        lookups.register()
