"""Running a sync in the test process (tasks run eagerly after commit)."""

from django.test import TestCase

from marketplaces import tasks
from marketplaces.models import MarketplaceConnection, SyncRun


def sync(connection, kind="manual") -> SyncRun:
    # The test's transaction never commits: run the after-commit work (page tasks) here.
    with TestCase.captureOnCommitCallbacks(execute=True):
        run_id = tasks.sync_channel(connection.pk, kind=kind, triggered_by="test")
    assert run_id is not None, "another run holds the lease"
    return SyncRun.objects.get(pk=run_id)


def fresh(connection) -> MarketplaceConnection:
    return MarketplaceConnection.objects.get(pk=connection.pk)
