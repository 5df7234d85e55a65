from django.apps import AppConfig
from django.db.models.signals import post_migrate


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self):
        from oms_site import channel_choices

        from . import (
            cached,  # noqa: F401  (connects its caches to model saves)
            receivers,  # noqa: F401  (listens to inventory's stock_arrived)
        )
        from .selectors import sales_channel_choices

        channel_choices.register(sales_channel_choices)
        post_migrate.connect(_recount_status_counters_on_sqlite, sender=self)


def _recount_status_counters_on_sqlite(using="default", **kwargs):
    """SQLite's ``flush`` (tests) empties tables one by one: order rows it deletes after the
    counter tables leave -1 deltas behind. Recount there (small databases only); on
    PostgreSQL a TRUNCATE empties the counters with the orders (a trigger)."""
    from django.db import connections

    if connections[using].vendor != "sqlite":
        return
    from .services import status_counts

    status_counts.rebuild(using=using)
