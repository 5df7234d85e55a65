"""Marketplaces listens to the layers below: shipped orders and sellable stock changes.

Both receivers write in the sender's transaction (so nothing is lost if the process dies
right after commit) and send to the marketplace only after commit, from a task.
"""

from django.dispatch import receiver

from inventory.signals import sellable_changed
from orders.signals import order_shipped

from .services import pushes


@receiver(order_shipped)
def confirm_shipment_on_marketplace(sender, order, units, carrier, tracking_number, **kwargs):
    if order.channel.kind not in ("amazon", "ebay", "shopify", "aliexpress"):
        return
    pushes.record_shipment(
        order=order,
        units=units,
        carrier=carrier,
        tracking_number=tracking_number,
        shipment_reference=kwargs.get("shipment_reference", ""),
        actor=kwargs["actor"],
    )


@receiver(sellable_changed)
def push_stock_later(sender, sku_ids, **kwargs):
    """Debounced: the SKU waits (one row per SKU) until beat's push_due_stock takes it."""
    pushes.request_stock_push(sku_ids)
