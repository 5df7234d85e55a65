from django.apps import AppConfig


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
