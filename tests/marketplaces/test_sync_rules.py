"""The sync algorithm's rules against a stub: one run per channel, duplicates and orders
changed while paged, slow answers, token expiry."""

import pytest
from django.test import TestCase, override_settings

from marketplaces.models import SyncRun
from marketplaces.services import sync as sync_service
from orders.models import Order

from .helpers import fresh, sync

pytestmark = pytest.mark.django_db


def test_one_run_per_channel_at_a_time(marketplace):
    server, connection = marketplace("amazon")
    first = sync_service.start_run(connection)
    assert first is not None
    assert sync_service.start_run(connection) is None  # the lease is held
    assert sync_service.due_connection_ids() == []


def test_a_run_under_an_expired_lease_is_abandoned_and_its_window_read_again(marketplace):
    from datetime import timedelta

    from django.utils import timezone

    from marketplaces.models import MarketplaceConnection

    server, connection = marketplace("amazon")
    server.marketplace.store.generate(3, status="unshipped", afn=False)
    dead = sync_service.start_run(connection)
    MarketplaceConnection.objects.filter(pk=connection.pk).update(
        locked_until=timezone.now() - timedelta(seconds=1)
    )
    run = sync(connection)
    dead.refresh_from_db()
    assert dead.status == SyncRun.Status.ABANDONED
    assert run.status == SyncRun.Status.SUCCEEDED and run.created == 3


def test_an_order_repeated_on_the_next_page_is_imported_once(marketplace):
    server, connection = marketplace("amazon", page_size=2)
    server.marketplace.store.generate(7, status="unshipped", afn=False)
    server.marketplace.faults.update({"duplicate_across_pages": True})
    run = sync(connection)
    assert run.status == SyncRun.Status.SUCCEEDED and run.failed == 0
    assert run.fetched > 7
    assert Order.objects.filter(channel=connection.channel).count() == 7


def test_an_order_changed_while_paged_holds_the_cursor_so_nothing_skipped_is_lost(marketplace):
    server, connection = marketplace("amazon", page_size=2)
    server.marketplace.store.generate(7, status="unshipped", afn=False)
    # After page 1, an order of page 1 changes: it moves to the end, and offset paging
    # skips the order that slides into its place.
    server.marketplace.faults.update({"change_during_paging": 1})
    first = sync(connection)
    assert first.status == SyncRun.Status.SUCCEEDED and first.paging_unstable
    assert Order.objects.filter(channel=connection.channel).count() == 6  # one skipped
    assert (
        fresh(connection).cursor == first.cursor_before or first.cursor_after == first.window_start
    )
    second = sync(connection)
    assert not second.paging_unstable
    assert Order.objects.filter(channel=connection.channel).count() == 7
    assert second.created == 1


@override_settings(OMS_MARKETPLACE_HTTP_TIMEOUT_SECONDS=0.3)
def test_an_answer_too_slow_fails_the_run_cleanly_and_the_next_one_catches_up(marketplace):
    server, connection = marketplace("ebay")
    server.marketplace.store.generate(2, status="unshipped")
    sync(connection)  # token fetched, orders in
    server.marketplace.store.generate(1, status="unshipped")
    server.marketplace.faults.update({"slow": 10, "slow_seconds": 0.6})
    run = sync(connection)
    assert run.status == SyncRun.Status.FAILED and "no answer" in run.error
    assert fresh(connection).consecutive_failures == 1
    server.marketplace.faults.update({"slow": 0})
    again = sync(connection)
    assert again.status == SyncRun.Status.SUCCEEDED and again.created == 1


def test_ebay_token_expiry_is_refreshed(marketplace):
    server, connection = marketplace("ebay")
    server.marketplace.store.generate(1, status="unshipped")
    sync(connection)
    server.marketplace.expire_tokens()
    server.marketplace.store.generate(1, status="unshipped")
    assert sync(connection).created == 1


def test_wrong_credentials_stop_the_channel_until_rotated(marketplace):
    server, connection = marketplace("ebay")
    connection.credentials = {**connection.credentials, "refresh_token": "revoked"}
    connection.save()
    run = sync(connection)
    assert run.status == SyncRun.Status.FAILED and "AuthError" in run.error
    # No retry storm: the next attempt waits a day or a rotation.
    from datetime import timedelta

    from django.utils import timezone

    assert fresh(connection).next_sync_at > timezone.now() + timedelta(hours=12)


def test_the_run_closes_with_its_last_page_whether_the_fetch_or_a_page_ends_last(marketplace):
    server, connection = marketplace("amazon", page_size=2)
    server.marketplace.store.generate(5, status="unshipped", afn=False)
    # Pages imported only after the whole fetch: the last page closes the run.
    run = sync_service.start_run(connection)
    pages = []
    with TestCase.captureOnCommitCallbacks(execute=True):  # the test never commits
        sync_service.fetch(run, enqueue=pages.append)
    assert len(pages) == 3
    for page_id in pages:
        fresh_run = SyncRun.objects.get(pk=run.pk)
        assert fresh_run.status == SyncRun.Status.RUNNING
        assert sync_service.ingest_stored_page(page_id) == "done"
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED and run.created == 5
    assert fresh(connection).cursor == run.cursor_after

    # Pages imported while the fetch goes on (each sees the fetch unfinished): none closes
    # the run; the fetch does as it completes.
    server.marketplace.store.generate(3, status="unshipped", afn=False)
    second = sync_service.start_run(fresh(connection))
    pages = []
    with TestCase.captureOnCommitCallbacks(execute=True):
        sync_service.fetch(second, enqueue=pages.append)
    SyncRun.objects.filter(pk=second.pk).update(fetch_complete=False)
    for page_id in pages:
        assert sync_service.ingest_stored_page(page_id) == "done"
    second.refresh_from_db()
    assert second.status == SyncRun.Status.RUNNING and second.pages_done == second.pages
    SyncRun.objects.filter(pk=second.pk).update(fetch_complete=True)  # as fetch ends
    assert sync_service.maybe_finish(second.pk) is True
    second.refresh_from_db()
    assert second.status == SyncRun.Status.SUCCEEDED and second.created == 3
