"""A real Celery worker on the real broker is SIGKILLed in the middle of a marketplace
sync: the next run finishes the work, and no order is duplicated or lost.

PostgreSQL only (the worker is another process on the same database). The Amazon stub
runs in this process; the worker reaches it over HTTP like a real marketplace."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection as db
from django.utils import timezone

from marketplaces.models import MarketplaceConnection, MarketplaceListing, SyncRun
from oms_site.celery_app import app
from orders.models import Order, OrderEvent, SalesChannel
from sandboxes import SandboxServer, build

from .. import factories
from ..marketplaces.conftest import CREDENTIALS, OPTIONS

ROOT = Path(__file__).resolve().parents[2]

# Real workers share one broker: under pytest-xdist these tests run on one test
# process, one after another, so no worker takes another test's task.
pytestmark = pytest.mark.xdist_group("real_celery_worker")

ORDERS = 120


def _database_url():
    d = db.settings_dict
    return f"postgres://{d['USER']}@{d['HOST']}:{d['PORT']}/{d['NAME']}"


def start_worker():
    env = os.environ | {
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_FILESYSTEM_DIR": str(settings.CELERY_FILESYSTEM_DIR),
        "OMS_CREDENTIALS_KEYS": ",".join(settings.OMS_CREDENTIALS_KEYS),
        "OMS_STOCK_PUSH_DEBOUNCE_SECONDS": "0",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "oms_site", "worker", "--pool", "solo",
         "--queues", "sync", "--loglevel", "WARNING", "--without-heartbeat",
         "--without-gossip", "--without-mingle"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


def worker_mid_page() -> bool:
    """Whether the worker is inside a page's transaction (it has written): killed now,
    the page rolls back and its task message stays unacknowledged."""
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
        )
        return cursor.fetchone()[0] > 0


def wait_for(condition, seconds, what, *, every=0.2):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.postgres
@pytest.mark.timeout(600)
@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_loses_and_duplicates_nothing():
    warehouse = factories.WarehouseFactory(code="lds", city="Leeds", country="GB")
    skus = [factories.SKUFactory(code=f"KILL-{i}") for i in range(3)]
    from inventory import stock
    from oms_site.actors import Actor

    for sku in skus:
        stock.receive(sku=sku, warehouse=warehouse, quantity=10_000, actor=Actor.system("t"))
    catalog = [{"sku": s.code, "title": s.code, "price": "9.00", "quantity": 100_000} for s in skus]
    market = build("amazon", catalog, credentials=CREDENTIALS["amazon"] | OPTIONS["amazon"])
    market.store.generate(ORDERS, status="unshipped", afn=False)
    server = SandboxServer(market).start()
    channel = SalesChannel.objects.create(
        code="amazon-kill", name="Amazon", kind="amazon", currency="GBP"
    )
    connection = MarketplaceConnection.objects.create(
        channel=channel,
        api_base_url=server.url,
        options=OPTIONS["amazon"],
        # Small pages, each its own task: the run is still going when the worker dies.
        page_size=5,
        rate_per_second=1000,
        rate_burst=100,
        lease_seconds=4,
    )
    connection.credentials = CREDENTIALS["amazon"]
    connection.save()
    MarketplaceListing.objects.bulk_create(
        [MarketplaceListing(connection=connection, sku=s, seller_sku=s.code) for s in skus]
    )
    app.conf.task_always_eager = False
    from marketplaces.tasks import sync_channel

    worker = start_worker()
    try:
        sync_channel.delay(connection.pk, kind="scheduled", triggered_by="kill-test")
        # Killed in the middle of a page: between two pages it would lose no message, and
        # the restarted worker would simply finish the run.
        wait_for(
            lambda: Order.objects.filter(channel=channel).count() >= 30 and worker_mid_page(),
            120,
            "a part of the run",
            every=0.005,
        )
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        first = SyncRun.objects.get()
        assert first.status == SyncRun.Status.RUNNING  # killed: nobody closed it
        assert Order.objects.filter(channel=channel).count() < ORDERS

        worker = start_worker()

        def finished():
            if SyncRun.objects.filter(status=SyncRun.Status.SUCCEEDED).exists():
                return True
            # The dead run's lease expires (beat would then start the next run).
            lease = MarketplaceConnection.objects.get(pk=connection.pk).locked_until
            if lease is None or lease < timezone.now():
                sync_channel.delay(connection.pk, kind="scheduled", triggered_by="next run")
                time.sleep(2)
            return False

        wait_for(finished, 240, "the next run to finish")
    finally:
        worker.kill()
        worker.wait(timeout=10)
        server.stop()
        app.conf.task_always_eager = True

    first.refresh_from_db()
    # Abandoned: its page's message died with the worker, and the next run read the
    # window again. (Succeeded only if the page committed in the instant between the
    # check and the kill: the restarted worker then finished the run itself.)
    assert first.status in (SyncRun.Status.ABANDONED, SyncRun.Status.SUCCEEDED)
    assert SyncRun.objects.filter(status=SyncRun.Status.SUCCEEDED).exists()
    imported = Order.objects.filter(channel=channel)
    assert imported.count() == ORDERS
    assert set(imported.values_list("external_id", flat=True)) == set(market.store.orders)
    created_events = OrderEvent.objects.filter(order__channel=channel, kind=OrderEvent.Kind.CREATED)
    assert created_events.count() == ORDERS
    assert MarketplaceConnection.objects.get(pk=connection.pk).cursor is not None
