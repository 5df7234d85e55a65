"""Webhook tasks. Both are idempotent: a delivery that is done or not yet due is skipped."""

from celery import shared_task
from django.utils import timezone

from . import webhooks


@shared_task(name="oms_site.tasks.deliver_webhook")
def deliver_webhook(delivery_id: int) -> None:
    """Make one attempt at a delivery. Retries are scheduled with backoff by the row's
    ``next_attempt_at``; a countdown task is sent too so a retry need not wait for beat."""
    delivery, attempted = webhooks.attempt_delivery(delivery_id)
    if attempted and delivery.status == delivery.Status.RETRYING:
        countdown = max((delivery.next_attempt_at - timezone.now()).total_seconds(), 0)
        deliver_webhook.apply_async((delivery_id,), countdown=countdown)


@shared_task(name="oms_site.tasks.deliver_webhooks")
def deliver_webhooks(delivery_ids: list[int]) -> None:
    """``deliver_webhook`` for a batch (bulk changes publish thousands of events at once:
    one message per batch instead of one per delivery). Idempotent like it."""
    for delivery_id in delivery_ids:
        deliver_webhook(delivery_id)


@shared_task(name="oms_site.tasks.dispatch_due_webhooks")
def dispatch_due_webhooks() -> int:
    """Beat's safety net: re-send deliveries that are due (lost messages, broker outages)."""
    ids = webhooks.due_delivery_ids()
    for delivery_id in ids:
        deliver_webhook.delay(delivery_id)
    return len(ids)
