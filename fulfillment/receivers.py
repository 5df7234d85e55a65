"""Fulfillment listens to orders (orders never imports fulfillment).

- ``order_shipped`` without a shipment reference: the order's own ship action shipped
  units outside the warehouse flow; record shipments for them.
- ``order_delivered`` by the order's own action: its shipments underway are delivered.
- ``allocations_released`` (cancel, re-route): open shipments there are cancelled.
All run inside the order's transaction, so they commit or roll back with it.
"""

from django.dispatch import receiver

from orders.signals import allocations_released, order_delivered, order_shipped

from .services import shipping


@receiver(order_shipped)
def record_shipments_for_outside_shipping(
    sender, order, units, carrier, tracking_number, shipment_reference, actor, **kwargs
):
    if shipment_reference:
        return  # one of ours: the shipment is already recorded
    shipping.record_order_shipped_outside(
        order=order, units=units, carrier=carrier, tracking_number=tracking_number, actor=actor
    )


@receiver(order_delivered)
def deliver_shipments_with_the_order(sender, order, actor, source, **kwargs):
    if source == "order":
        shipping.mark_underway_delivered_by_hand(order=order, actor=actor)


@receiver(allocations_released)
def cancel_shipments_of_released_units(sender, order, released, reason, actor, **kwargs):
    shipping.cancel_open_shipments_for_released(
        order=order, released=released, reason=reason, actor=actor
    )
