from django.apps import AppConfig


class MarketplacesConfig(AppConfig):
    name = "marketplaces"
    verbose_name = "Marketplaces"

    def ready(self):
        from . import receivers  # noqa: F401  (orders' order_shipped, inventory's sellable_changed)
