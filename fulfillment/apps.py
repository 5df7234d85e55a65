from django.apps import AppConfig


class FulfillmentConfig(AppConfig):
    name = "fulfillment"
    verbose_name = "Fulfillment"

    def ready(self):
        from . import receivers  # noqa: F401  (listens to orders' signals)
