"""Replaying a failed record, and importing one order on demand (webhooks).

Both run outside the channel's lease (they touch one order, under its row locks, and
never move the cursor) and are logged as runs of their own, so the health page shows
them beside the scheduled ones.
"""

from django.db import transaction
from django.utils import timezone

from ..connectors import MarketplaceError, connector_for
from ..models import MarketplaceOrder, SyncFailure, SyncRun
from .ingest import ingest_page


def _single_run(connection, *, kind, triggered_by) -> SyncRun:
    now = timezone.now()
    return SyncRun.objects.create(
        connection=connection,
        kind=kind,
        triggered_by=triggered_by[:150],
        window_start=now,
        window_end=now,
        fetch_complete=True,
        pages=1,
    )


def _import(connection, connector, run, record):
    with transaction.atomic():
        result = ingest_page(connection, connector, run, [record])
        SyncRun.objects.filter(pk=run.pk).update(
            pages_done=1,
            fetched=1,
            created=result.created,
            updated=result.updated,
            unchanged=result.unchanged,
            failed=result.failed,
        )
        run.refresh_from_db()
        if result.failed:
            run.fail(result.failures[0].error)
        else:
            run.succeed()
        run.save()
    return result


def replay(failure: SyncFailure, *, triggered_by: str) -> SyncFailure:
    """Import the kept record again (after its cause was fixed: a SKU created, a listing
    added). Success resolves the failure; a new failure is logged with the new error."""
    connection = failure.connection
    connector = connector_for(connection)
    record = dict(failure.payload)
    run = _single_run(connection, kind=SyncRun.Kind.REPLAY, triggered_by=triggered_by)
    try:
        if record.pop("_fetch_error", None) is not None:
            record = connector.complete([record])[0]
    except MarketplaceError as exc:
        with transaction.atomic():
            run.fail(exc.message)
            run.save()
        SyncFailure.objects.filter(pk=failure.pk).update(attempts=failure.attempts + 1)
        failure.refresh_from_db()
        return failure
    result = _import(connection, connector, run, record)
    with transaction.atomic():
        failure = SyncFailure.objects.select_for_update(of=("self",)).get(pk=failure.pk)
        failure.attempts += 1
        if not result.failed and failure.status == SyncFailure.Status.OPEN:
            link = MarketplaceOrder.objects.filter(
                connection=connection, external_id=failure.external_id
            ).first()
            failure.resolve(link.order if link else None)
        failure.save()
    return failure


def ignore(failure: SyncFailure) -> SyncFailure:
    with transaction.atomic():
        failure = SyncFailure.objects.select_for_update(of=("self",)).get(pk=failure.pk)
        failure.ignore()
        failure.save()
    return failure


def sync_order(connection, external_id: str, *, triggered_by: str) -> str:
    """Fetch one order from the marketplace and import it (a webhook's nudge)."""
    connector = connector_for(connection)
    run = _single_run(connection, kind=SyncRun.Kind.WEBHOOK, triggered_by=triggered_by)
    try:
        record = connector.fetch_order(external_id)
    except MarketplaceError as exc:
        with transaction.atomic():
            run.fail(exc.message)
            run.save()
        raise
    if record is None:
        with transaction.atomic():
            run.fail(f"{external_id} was not found on the marketplace.")
            run.save()
        return "missing"
    record = connector.complete([record])[0]
    result = _import(connection, connector, run, record)
    return "created" if result.created else "updated" if result.updated else "unchanged"
