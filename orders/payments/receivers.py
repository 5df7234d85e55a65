"""Money follows the goods: orders' own shipping signals drive capture on shipment, the
invoice of channels that invoice on shipment, and cash collected on delivery.

The signals are sent inside the shipping transaction with the order locked, so what is
written here commits or rolls back with the shipment; gateways are asked after commit.
"""

from django.dispatch import receiver

from ..models import OrderStatus
from ..signals import order_delivered, order_shipped
from . import services
from .models import PaymentMethod


@receiver(order_shipped, dispatch_uid="payments-capture-on-shipment")
def capture_and_invoice_on_shipment(sender, order, actor, **kwargs):
    services.capture_for_shipment(order, actor=actor)
    if order.status == OrderStatus.SHIPPED:
        from ..invoicing import services as invoicing

        invoicing.issue_invoice_when_due(order, moment="shipment", actor=actor)


@receiver(order_delivered, dispatch_uid="payments-cash-on-delivery")
def record_cash_on_delivery(sender, order, actor, **kwargs):
    """The carrier collected cash on delivery: the money is the merchant's now."""
    due = [
        p
        for p in order.payments.filter(method=PaymentMethod.CASH_ON_DELIVERY)
        if p.captured_amount < p.amount
    ]
    if due:
        services.capture_payment(order=order, actor=actor, payment=due[0])
