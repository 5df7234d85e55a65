"""Marketplace tasks (queue ``sync``). Thin: they take ids and call the services. Every
one is safe to run twice; ``acks_late`` (the project's default) means a task a killed
worker had started is delivered again, and the services make that harmless."""

import logging

from celery import shared_task
from django.db import OperationalError

from oms_site.gc_tuning import collector_paused

from .connectors import MarketplaceError, TemporaryError
from .models import MarketplaceConnection, SyncFailure, SyncRun
from .services import pushes, replay, sync

logger = logging.getLogger(__name__)


@shared_task(name="marketplaces.tasks.sync_due_channels")
def sync_due_channels() -> int:
    """Beat: start a sync for every channel whose interval (or backoff) is over."""
    ids = sync.due_connection_ids()
    for connection_id in ids:
        sync_channel.delay(connection_id, kind=SyncRun.Kind.SCHEDULED, triggered_by="schedule")
    return len(ids)


@shared_task(name="marketplaces.tasks.sync_channel", acks_late=True)
def sync_channel(connection_id: int, kind: str = "scheduled", triggered_by: str = "") -> int | None:
    """One sync run: fetch every page; each page is imported by ``ingest_sync_page``.
    A run already holding the channel's lease makes this a no-op."""
    connection = MarketplaceConnection.objects.select_related("channel").get(pk=connection_id)
    run = sync.start_run(connection, kind=kind, triggered_by=triggered_by)
    if run is None:
        return None
    try:
        sync.fetch(run, enqueue=lambda page_id: ingest_sync_page.delay(page_id))
    except MarketplaceError:
        return run.pk  # logged on the run; the next run after a backoff tries again
    return run.pk


@shared_task(
    name="marketplaces.tasks.ingest_sync_page",
    acks_late=True,
    autoretry_for=(TemporaryError, OperationalError),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=8,
)
def ingest_sync_page(page_id: int) -> str:
    """Import one fetched page in one transaction (skipped if already done). A page is
    a bounded batch of objects, all dropped at its end: no collector passes over them."""
    with collector_paused():
        return sync.ingest_stored_page(page_id)


@shared_task(name="marketplaces.tasks.push_shipment", acks_late=True)
def push_shipment(push_id: int) -> str | None:
    push = pushes.send_shipment(push_id)
    return push.status if push else None


@shared_task(name="marketplaces.tasks.retry_due_pushes")
def retry_due_pushes() -> int:
    """Beat: shipment confirmations whose backoff is over (or whose message was lost)."""
    ids = pushes.due_shipment_ids()
    for push_id in ids:
        push_shipment.delay(push_id)
    return len(ids)


@shared_task(name="marketplaces.tasks.push_due_stock", acks_late=True)
def push_due_stock() -> int:
    """Beat: push the SKUs whose debounce is over to every channel that lists them."""
    return pushes.push_due_stock()


@shared_task(name="marketplaces.tasks.replay_failure", acks_late=True)
def replay_failure(failure_id: int) -> str:
    failure = SyncFailure.objects.get(pk=failure_id)
    return replay.replay(failure, triggered_by="task").status


@shared_task(name="marketplaces.tasks.sync_one_order", acks_late=True)
def sync_one_order(connection_id: int, external_id: str, triggered_by: str = "webhook") -> str:
    """A webhook said this order changed: fetch it and import it now."""
    connection = MarketplaceConnection.objects.select_related("channel").get(pk=connection_id)
    return replay.sync_order(connection, external_id, triggered_by=triggered_by)
