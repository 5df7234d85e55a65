from django.apps import AppConfig


class MarketplacesConfig(AppConfig):
    name = "marketplaces"
    verbose_name = "Marketplaces"

    def ready(self):
        from celery.signals import worker_init

        from . import receivers  # noqa: F401  (orders' order_shipped, inventory's sellable_changed)

        worker_init.connect(_warm_up, weak=False)


def _warm_up(**kwargs):
    """A sync worker places orders: load the offline geocoder's city index once at start
    (a few seconds) instead of in the first page's transaction."""
    from inventory import geocoding

    geocoding.locate("GB", "London")
