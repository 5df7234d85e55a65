from django.apps import AppConfig


class FulfillmentConfig(AppConfig):
    name = "fulfillment"
    verbose_name = "Fulfillment"

    def ready(self):
        from oms_site.webhooks import register_event_types

        from . import receivers  # noqa: F401  (listens to orders' signals)
        from .bulk_actions import register_bulk_actions
        from .order_section import register_order_section
        from .services.events import SHIPMENT_EVENT_TYPES

        register_event_types(*SHIPMENT_EVENT_TYPES)
        register_bulk_actions()
        register_order_section()
