from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self):
        from . import receivers  # noqa: F401  (listens to inventory's stock_arrived)
