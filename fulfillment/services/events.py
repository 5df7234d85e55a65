"""The shipment trail and the ``shipment.*`` webhooks, written in the caller's transaction."""

from django.db import transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed as FSMTransitionNotAllowed

from oms_site import webhooks
from oms_site.actors import Actor
from oms_site.errors import NotFound, TransitionNotAllowed

from ..models import Shipment, ShipmentEvent, ShipmentStatus

# Webhook event types of this app (subscriptions list them on the settings page).
WEBHOOK_EVENTS = {
    ShipmentStatus.SHIPPED: "shipment.shipped",
    ShipmentStatus.IN_TRANSIT: "shipment.in_transit",
    ShipmentStatus.DELIVERED: "shipment.delivered",
    ShipmentStatus.EXCEPTION: "shipment.exception",
    ShipmentStatus.RETURNED_TO_SENDER: "shipment.returned_to_sender",
    ShipmentStatus.CANCELLED: "shipment.cancelled",
}
SHIPMENT_EVENT_TYPES = ["shipment.created", "shipment.tracking_updated", *WEBHOOK_EVENTS.values()]


def record_shipment_event(
    shipment,
    *,
    kind,
    actor: Actor,
    message="",
    from_status="",
    to_status="",
    occurred_at=None,
    carrier_status="",
    location="",
    external_id="",
    details=None,
) -> ShipmentEvent:
    return ShipmentEvent.objects.create(
        shipment=shipment,
        kind=kind,
        actor_label=actor.label[:150],
        actor_user_id=actor.user_id,
        from_status=from_status,
        to_status=to_status,
        message=message[:500],
        occurred_at=occurred_at or timezone.now(),
        carrier_status=carrier_status[:60],
        location=location[:200],
        external_id=external_id[:100],
        details=details or {},
    )


def shipment_subject(shipment) -> str:
    """Shipment events are sequenced with their order's events (``order:<number>``):
    a receiver ordering by sequence sees the order and its parcels in one timeline, and
    every shipment event is written under the order's row lock anyway."""
    return f"order:{shipment.order.number}"


def shipment_payload(shipment) -> dict:
    order = shipment.order
    return {
        "id": shipment.pk,
        "number": shipment.number,
        "order": order.number,
        "order_external_id": order.external_id,
        "channel": order.channel.code,
        "status": shipment.status,
        "warehouse": shipment.warehouse.code if shipment.warehouse_id else None,
        "carrier": shipment.carrier_name,
        "service": shipment.service_name,
        "tracking_number": shipment.tracking_number,
        "tracking_url": shipment.tracking_url,
        "lines": [
            {"sku": line.order_line.sku_code, "quantity": line.quantity}
            for line in shipment.lines.select_related("order_line")
        ],
    }


def run_shipment_transition(
    shipment, method_name: str, *, actor: Actor, message="", details=None, occurred_at=None
) -> Shipment:
    """Call a transition, save, write the event and the webhook — one transaction."""
    from_status = shipment.status
    try:
        getattr(shipment, method_name)()
    except FSMTransitionNotAllowed:
        label = ShipmentStatus(shipment.status).label.lower()
        raise TransitionNotAllowed(
            f"Can't {method_name.replace('mark_', '').replace('_', ' ')} shipment "
            f"{shipment.number}: it is {label}.",
            fields={"status": [f"Not allowed from {shipment.status}."]},
        )
    shipment.save()
    if shipment.status != from_status or message:
        record_shipment_event(
            shipment,
            kind=ShipmentEvent.Kind.STATUS_CHANGED,
            actor=actor,
            from_status=from_status,
            to_status=shipment.status,
            message=message,
            details=details,
            occurred_at=occurred_at,
        )
    event_type = WEBHOOK_EVENTS.get(shipment.status)
    if event_type and shipment.status != from_status:
        webhooks.publish(
            event_type,
            shipment_payload(shipment) | {"from_status": from_status},
            subject=shipment_subject(shipment),
        )
    return shipment


def lock_shipment(shipment_or_id) -> Shipment:
    assert transaction.get_connection().in_atomic_block, "lock_shipment needs a transaction"
    shipment_id = shipment_or_id.pk if isinstance(shipment_or_id, Shipment) else shipment_or_id
    shipment = (
        Shipment.objects.select_for_update(of=("self",))
        .select_related("order__channel", "warehouse", "carrier", "service")
        .filter(pk=shipment_id)
        .first()
    )
    if shipment is None:
        raise NotFound(f"Shipment {shipment_id} does not exist.")
    return shipment
