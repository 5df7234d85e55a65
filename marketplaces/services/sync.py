"""A sync run: lease, fetch pages, ingest them (in parallel workers), move the cursor.

1. ``start_run`` takes the channel's lease (a conditional UPDATE: one run per channel at
   a time, across all workers). Runs still marked running under an expired lease belong
   to a worker that died: they are marked abandoned. The window starts at the cursor
   minus the overlap (late-indexed orders are read again on purpose).
2. ``fetch`` pages through the marketplace; each page is stored (``SyncPage``) and, after
   commit, handed to ``ingest_sync_page`` tasks — several workers share one run's pages.
3. ``ingest_stored_page`` completes the page's records over HTTP (no transaction held),
   then imports them in one transaction (``ingest.ingest_page``) and adds to the run.
4. ``maybe_finish`` (called by the page that finds itself the last, or by the fetch as
   it completes): when the last page is in, the cursor moves to the newest
   last-updated time seen — only now, when every order it covers is committed — and the
   lease is released. A run that fails (marketplace down, credentials refused) leaves
   the cursor where it was; the next run, after a backoff, reads the window again.
"""

import logging
import random
import secrets
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ..connectors import AuthError, MarketplaceError, connector_for
from ..models import MarketplaceConnection, MarketplaceOrder, SyncPage, SyncRun
from .ingest import ingest_page

logger = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 3600


def acquire_lease(connection: MarketplaceConnection) -> str | None:
    token = secrets.token_hex(10)
    now = timezone.now()
    taken = (
        MarketplaceConnection.objects.filter(pk=connection.pk)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .update(lock_token=token, locked_until=now + timedelta(seconds=connection.lease_seconds))
    )
    return token if taken else None


def renew_lease(connection: MarketplaceConnection, token: str) -> bool:
    return bool(
        MarketplaceConnection.objects.filter(pk=connection.pk, lock_token=token).update(
            locked_until=timezone.now() + timedelta(seconds=connection.lease_seconds)
        )
    )


def release_lease(connection_id: int, token: str) -> None:
    MarketplaceConnection.objects.filter(pk=connection_id, lock_token=token).update(
        lock_token="", locked_until=None
    )


def backoff_seconds(failures: int, interval: int) -> float:
    base = min(30 * 2 ** max(failures - 1, 0), MAX_BACKOFF_SECONDS)
    return max(base, 5) * random.uniform(0.8, 1.2)


def start_run(connection, *, kind=SyncRun.Kind.SCHEDULED, triggered_by="") -> SyncRun | None:
    """Take the channel's lease and open a run; None if another run holds the lease."""
    token = acquire_lease(connection)
    if token is None:
        return None
    with transaction.atomic():
        connection = MarketplaceConnection.objects.select_related("channel").get(pk=connection.pk)
        for stale in SyncRun.objects.filter(connection=connection, status=SyncRun.Status.RUNNING):
            stale.abandon()
            stale.save()
        now = timezone.now()
        if connection.cursor is not None:
            start = connection.cursor - timedelta(seconds=connection.overlap_seconds)
        else:
            start = now - timedelta(days=connection.initial_lookback_days)
        run = SyncRun.objects.create(
            connection=connection,
            kind=kind,
            triggered_by=triggered_by[:150],
            lock_token=token,
            window_start=start,
            window_end=now,
            cursor_before=connection.cursor,
        )
        MarketplaceConnection.objects.filter(pk=connection.pk).update(last_run_at=now)
    return run


def fetch(run: SyncRun, *, enqueue) -> SyncRun:
    """Page through the marketplace; ``enqueue(page_id)`` is called after each page commits."""
    connection = run.connection
    connector = connector_for(connection)
    token, sequence = None, run.pages
    seen, unstable = set(), False
    try:
        while True:
            page = connector.fetch_orders(updated_after=run.window_start, page_token=token)
            ids = [connector.record_id(r) for r in page.records if isinstance(r, dict)]
            unstable = unstable or bool(seen.intersection(ids))
            seen.update(ids)
            with transaction.atomic():
                stored = SyncPage.objects.create(run=run, sequence=sequence, records=page.records)
                SyncRun.objects.filter(pk=run.pk).update(
                    pages=sequence + 1,
                    fetched=run.fetched + len(page.records),
                    throttled=connector.http.throttled,
                )
                run.fetched += len(page.records)
                renew_lease(connection, run.lock_token)
                page_id = stored.pk
                transaction.on_commit(lambda page_id=page_id: enqueue(page_id))
            sequence += 1
            token = page.next_token
            if not token:
                break
    except MarketplaceError as exc:
        fail_run(run.pk, f"{type(exc).__name__}: {exc.message}", auth=isinstance(exc, AuthError))
        raise
    SyncRun.objects.filter(pk=run.pk).update(
        fetch_complete=True, pages=sequence, paging_unstable=unstable
    )
    maybe_finish(run.pk)
    run.refresh_from_db()
    return run


def _unchanged_ids(connection, connector, records) -> set:
    """Orders of the page whose marketplace version we already have (no need to fetch
    their lines again)."""
    stamps = {}
    for record in records:
        if isinstance(record, dict):
            stamp = parse_datetime(connector.record_updated_at(record) or "")
            if stamp is not None:
                stamps[connector.record_id(record)] = stamp
    known = MarketplaceOrder.objects.filter(
        connection=connection, external_id__any=list(stamps)
    ).values_list("external_id", "remote_updated_at")
    return {ext for ext, at in known if at is not None and at == stamps.get(ext)}


def ingest_stored_page(page_id: int) -> str:
    """Import one stored page (idempotent: a page done, or of an abandoned run, is skipped)."""
    page = SyncPage.objects.select_related("run__connection__channel").filter(pk=page_id).first()
    if page is None or page.done:
        return "skipped"
    run = page.run
    if run.status == SyncRun.Status.ABANDONED:
        return "abandoned"
    connection = run.connection
    connector = connector_for(connection)
    records = page.records
    if connector.completes_records:
        records = connector.complete(
            records, skip_ids=_unchanged_ids(connection, connector, records)
        )
    with transaction.atomic():
        # The lock, not the records again (read above; a hundred orders of JSON).
        done = (
            SyncPage.objects.select_for_update(of=("self",))
            .values_list("done", flat=True)
            .get(pk=page_id)
        )
        if done:
            return "skipped"
        result = ingest_page(connection, connector, run, records)
        # The records are kept where needed (failures, order links): the page's copy goes.
        SyncPage.objects.filter(pk=page_id).update(done=True, done_at=timezone.now(), records=[])
        locked = SyncRun.objects.select_for_update(of=("self",)).get(pk=run.pk)
        newest = locked.max_remote_updated_at
        if result.max_updated_at and (newest is None or result.max_updated_at > newest):
            newest = result.max_updated_at
        SyncRun.objects.filter(pk=run.pk).update(
            pages_done=locked.pages_done + 1,
            created=locked.created + result.created,
            updated=locked.updated + result.updated,
            unchanged=locked.unchanged + result.unchanged,
            failed=locked.failed + result.failed,
            throttled=locked.throttled + connector.http.throttled,
            max_remote_updated_at=newest,
        )
        renew_lease(connection, run.lock_token)
        # Seen under the run's lock: fetching is over and this was the last page. Else
        # a later page, or the fetch as it completes, closes the run (either sees this
        # page done), and this page costs no second transaction.
        last_page = locked.fetch_complete and locked.pages_done + 1 >= locked.pages
    if last_page:
        maybe_finish(run.pk)
    return "done"


def maybe_finish(run_id: int) -> bool:
    """Close the run once every page is in: move the cursor, release the lease."""
    with transaction.atomic():
        run = SyncRun.objects.select_for_update(of=("self",)).get(pk=run_id)
        if run.status != SyncRun.Status.RUNNING or not run.fetch_complete:
            return False
        if run.pages_done < run.pages:
            return False
        connection = MarketplaceConnection.objects.select_for_update(of=("self",)).get(
            pk=run.connection_id
        )
        cursor = connection.cursor
        if run.paging_unstable:
            # Something moved while we paged: read this window again next time (the
            # upserts make the re-read cheap and harmless) rather than risk a gap.
            cursor = cursor or run.window_start
        elif run.max_remote_updated_at and (cursor is None or run.max_remote_updated_at > cursor):
            cursor = run.max_remote_updated_at
        elif cursor is None:
            cursor = run.window_end
        run.cursor_after = cursor
        run.succeed()
        run.save()
        now = timezone.now()
        MarketplaceConnection.objects.filter(pk=connection.pk).update(
            cursor=cursor,
            last_success_at=now,
            last_error="",
            consecutive_failures=0,
            next_sync_at=now + timedelta(seconds=connection.sync_interval_seconds),
        )
        release_lease(connection.pk, run.lock_token)
    return True


def fail_run(run_id: int, error: str, *, auth: bool = False) -> None:
    """The run stops here: the cursor stays, the lease is released, the next run waits
    a backoff (credentials refused: until a person rotates them)."""
    with transaction.atomic():
        run = SyncRun.objects.select_for_update(of=("self",)).get(pk=run_id)
        if run.status != SyncRun.Status.RUNNING:
            return
        run.fail(error)
        run.save()
        connection = MarketplaceConnection.objects.select_for_update(of=("self",)).get(
            pk=run.connection_id
        )
        failures = connection.consecutive_failures + 1
        delay = 24 * 3600 if auth else backoff_seconds(failures, connection.sync_interval_seconds)
        MarketplaceConnection.objects.filter(pk=connection.pk).update(
            last_error=error[:4000],
            consecutive_failures=failures,
            next_sync_at=timezone.now() + timedelta(seconds=delay),
        )
        release_lease(connection.pk, run.lock_token)
    logger.warning("sync run %s of %s failed: %s", run_id, run.connection_id, error)


def due_connection_ids(now=None) -> list[int]:
    now = now or timezone.now()
    return list(
        MarketplaceConnection.objects.filter(sync_enabled=True, channel__active=True)
        .filter(Q(next_sync_at__isnull=True) | Q(next_sync_at__lte=now))
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .values_list("pk", flat=True)
    )
