"""Carrier tracking updates: each one an event on the shipment and, where it changes it,
a transition of the shipment (in transit, delivered, exception, returned to sender) and
of the order (delivered, once all its shipments are). Updates arrive by the signed
webhook and by the polling task; the same carrier event twice is recorded once."""

import hashlib
import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django_fsm import can_proceed

from oms_site import webhooks
from oms_site.actors import Actor
from orders.services.events import lock_order

from ..carriers import CarrierError, TrackingStatus, TrackingUpdate, adapter_for
from ..models import CarrierAccount, Shipment, ShipmentEvent
from ..models.shipments import UNDERWAY_STATUSES
from .events import (
    lock_shipment,
    record_shipment_event,
    run_shipment_transition,
    shipment_payload,
    shipment_subject,
)
from .shipping import _notify, deliver_order_if_complete

logger = logging.getLogger(__name__)

TRANSITIONS = {
    TrackingStatus.IN_TRANSIT: "mark_in_transit",
    TrackingStatus.DELIVERED: "mark_delivered",
    TrackingStatus.EXCEPTION: "mark_exception",
    TrackingStatus.RETURNED_TO_SENDER: "mark_returned_to_sender",
}


def _event_key(update: TrackingUpdate) -> str:
    if update.event_id:
        return update.event_id[:100]
    raw = f"{update.tracking_number}|{update.carrier_status}|{update.occurred_at.isoformat()}"
    return "h:" + hashlib.sha256(raw.encode()).hexdigest()[:40]


@transaction.atomic
def apply_tracking_updates(shipment, updates, *, actor: Actor) -> int:
    """Record new carrier events in the order they happened; returns how many were new."""
    shipment = Shipment.objects.only("pk", "order_id").get(pk=shipment.pk)
    order = lock_order(shipment.order_id)
    shipment = lock_shipment(shipment)
    known = set(shipment.events.exclude(external_id="").values_list("external_id", flat=True))
    new = 0
    for update in sorted(updates, key=lambda u: u.occurred_at):
        key = _event_key(update)
        if key in known:
            continue
        known.add(key)
        new += 1
        record_shipment_event(
            shipment,
            kind=ShipmentEvent.Kind.TRACKING,
            actor=actor,
            message=update.description,
            carrier_status=update.carrier_status,
            location=update.location,
            occurred_at=update.occurred_at,
            external_id=key,
        )
        shipment.carrier_status = update.carrier_status[:60]
        method = TRANSITIONS.get(update.status)
        if (
            method
            and can_proceed(getattr(shipment, method))
            and (method != "mark_in_transit" or shipment.status != "in_transit")
        ):
            if method == "mark_delivered":
                shipment.delivered_at = update.occurred_at
            run_shipment_transition(
                shipment,
                method,
                actor=actor,
                message=f"{update.carrier_status}: {update.description}"[:500],
                occurred_at=update.occurred_at,
            )
            if method == "mark_delivered":
                _notify(shipment.pk, "delivered")
    shipment.tracking_checked_at = timezone.now()
    shipment.save(update_fields=["carrier_status", "tracking_checked_at", "updated_at"])
    if new:
        webhooks.publish(
            "shipment.tracking_updated",
            shipment_payload(shipment) | {"carrier_status": shipment.carrier_status},
            subject=shipment_subject(shipment),
        )
    deliver_order_if_complete(order, actor=actor)
    return new


def receive_webhook(carrier: CarrierAccount, payload) -> dict:
    """Updates pushed by a carrier (signature already checked): applied per shipment."""
    updates = adapter_for(carrier).parse_webhook(payload)
    by_number = {}
    for update in updates:
        by_number.setdefault(update.tracking_number, []).append(update)
    actor = Actor.system(f"carrier:{carrier.code}")
    applied, unknown = 0, []
    shipments = {
        s.tracking_number: s
        for s in Shipment.objects.filter(carrier=carrier, tracking_number__in=list(by_number))
    }
    for number, items in by_number.items():
        shipment = shipments.get(number)
        if shipment is None:
            unknown.append(number)
            continue
        try:
            applied += apply_tracking_updates(shipment, items, actor=actor)
        except IntegrityError:
            # The same event arrived by webhook and by polling at once: the other won.
            logger.info("duplicate tracking event for %s skipped", number)
    return {"updates": len(updates), "new_events": applied, "unknown_tracking_numbers": unknown}


def poll_shipment(shipment_id: int) -> int:
    """Ask the carrier for news on one shipment underway. Safe to run twice."""
    shipment = (
        Shipment.objects.select_related("carrier")
        .filter(pk=shipment_id, status__in=UNDERWAY_STATUSES)
        .first()
    )
    if shipment is None or shipment.carrier is None or not shipment.tracking_number:
        return 0
    adapter = adapter_for(shipment.carrier)
    if not adapter.supports_tracking:
        return 0
    try:
        updates = adapter.track(shipment.tracking_number)
    except CarrierError as exc:
        logger.warning("tracking %s failed: %s", shipment.number, exc.message)
        raise
    try:
        return apply_tracking_updates(
            shipment, updates, actor=Actor.system(f"carrier:{shipment.carrier.code}")
        )
    except IntegrityError:
        return 0


def shipments_due_for_polling(*, older_than_minutes: int = 30, limit: int = 500) -> list[int]:
    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    return list(
        Shipment.objects.filter(
            status__in=UNDERWAY_STATUSES,
            carrier__poll_tracking=True,
            carrier__kind__in=[CarrierAccount.Kind.BRING],
        )
        .exclude(tracking_number="")
        .filter(Q(tracking_checked_at__isnull=True) | Q(tracking_checked_at__lt=cutoff))
        .order_by("tracking_checked_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
