from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    name = "returns"

    def ready(self):
        from fulfillment.views.tracking import register_tracking_section
        from oms_site.webhooks import register_event_types
        from orders.audit import register_audit

        from .audit import audit_returns
        from .order_section import register_order_section
        from .services.events import RETURN_EVENT_TYPES
        from .views.customer import payment_section, tracking_section

        register_event_types(*RETURN_EVENT_TYPES)
        register_audit("returns", audit_returns)
        register_tracking_section(payment_section)
        register_tracking_section(tracking_section)
        register_order_section()
