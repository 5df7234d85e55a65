"""Fulfillment tasks: thin, take ids, safe to run twice."""

import logging

from celery import shared_task
from django.conf import settings

from .carriers import CarrierUnavailable
from .services import tracking

logger = logging.getLogger(__name__)


@shared_task(
    name="fulfillment.tasks.poll_tracking",
    autoretry_for=(CarrierUnavailable,),
    retry_backoff=60,
    retry_jitter=True,
    max_retries=5,
)
def poll_tracking(shipment_id: int) -> int:
    """Ask the carrier about one shipment underway. Idempotent: a carrier event already
    recorded is not recorded again."""
    return tracking.poll_shipment(shipment_id)


@shared_task(name="fulfillment.tasks.poll_due_tracking")
def poll_due_tracking() -> int:
    """Beat: enqueue a poll for every shipment underway not checked recently."""
    ids = tracking.shipments_due_for_polling(older_than_minutes=settings.OMS_TRACKING_POLL_MINUTES)
    for shipment_id in ids:
        poll_tracking.delay(shipment_id)
    return len(ids)


@shared_task(name="fulfillment.tasks.send_shipment_email")
def send_shipment_email(shipment_id: int, what: str) -> bool:
    """The customer's "shipped" / "delivered" e-mail. Sent at most once per shipment and
    kind (the shipment's trail remembers it), so a retried task sends nothing twice."""
    from .notifications import send_shipment_email as send

    return send(shipment_id, what)
