"""The order counts per status come from counters kept by database triggers: they must
equal a real COUNT after anything that writes orders, and a read never counts the table."""

import random
import threading

import pytest
from django.core.management import call_command
from django.db import connections
from django.test.utils import CaptureQueriesContext

from oms_site.actors import Actor
from orders import selectors, services
from orders.models import Order, OrderStatus, OrderStatusCount, OrderStatusDelta
from orders.services import status_counts

from ..factories import ChannelFactory, SKUFactory, WarehouseFactory, stock
from ..helpers import order_payload

ACTOR = Actor.system("counts-test")


def place(channel, lines=(("CNT-1", 1),), **kwargs):
    body = order_payload(lines=lines)
    return services.place_order(
        channel=channel,
        lines=body["lines"],
        shipping_address=body["shipping_address"],
        actor=ACTOR,
        **kwargs,
    )


def assert_exact():
    assert status_counts.current() == status_counts.table_counts()


@pytest.fixture
def shop(db):
    channel = ChannelFactory()
    warehouse = WarehouseFactory(code="ber")
    sku = SKUFactory(code="CNT-1")
    stock(sku, warehouse, 6)
    return channel, warehouse, sku


@pytest.mark.django_db
def test_counters_follow_every_kind_of_write(shop):
    channel, warehouse, sku = shop
    allocated = [place(channel) for _ in range(4)]
    backordered = [place(channel, lines=(("CNT-1", 5),)) for _ in range(2)]
    draft = place(channel, draft=True)
    assert_exact()

    services.hold_order(allocated[0], reason="check the address", actor=ACTOR)
    services.release_order(allocated[0], actor=ACTOR)
    services.cancel_order(allocated[1], actor=ACTOR)
    services.ship_order(allocated[2], actor=ACTOR)
    services.deliver_order(allocated[2], actor=ACTOR)
    services.reroute_order(allocated[3], actor=ACTOR)
    services.submit_draft(draft, actor=ACTOR)
    assert_exact()

    status_counts.compact()
    assert not OrderStatusDelta.objects.exists()
    assert_exact()

    # Writes that bypass the services: a bulk insert, a queryset update, a delete.
    Order.objects.bulk_create(
        [Order(channel=channel, currency="EUR", tracking_token=f"bulk-{i}") for i in range(3)]
    )
    Order.objects.filter(pk=backordered[0].pk).update(status=OrderStatus.CANCELLED)
    Order.objects.filter(tracking_token="bulk-0").delete()
    assert_exact()
    counts = status_counts.current()
    assert counts[OrderStatus.DRAFT] == 2
    assert counts[OrderStatus.DELIVERED] == 1


@pytest.mark.django_db
def test_the_unfiltered_list_counts_read_no_order_rows(shop):
    channel, _, _ = shop
    for _ in range(3):
        place(channel)
    with CaptureQueriesContext(connections["default"]) as queries:
        counts = selectors.status_counts(filters={"status": "allocated"})
    assert counts[OrderStatus.ALLOCATED] == 3
    assert len(queries) == 1
    assert (
        'orders_order"' not in queries[0]["sql"] and "FROM orders_order " not in (queries[0]["sql"])
    )


@pytest.mark.django_db
def test_filtered_counts_are_counted_under_the_filters(shop):
    channel, _, _ = shop
    place(channel)
    other = ChannelFactory(code="ebay", name="eBay")
    place(other)
    counts = selectors.status_counts(filters={"channel": "ebay"})
    assert counts[OrderStatus.ALLOCATED] == 1


@pytest.mark.django_db
def test_a_read_folds_deltas_when_too_many_have_piled_up(shop, monkeypatch):
    channel, _, _ = shop
    monkeypatch.setattr(status_counts, "COMPACT_WHEN_PENDING", 3)
    for _ in range(3):
        place(channel)
    assert OrderStatusDelta.objects.count() > 3
    assert status_counts.current()[OrderStatus.ALLOCATED] == 3
    assert not OrderStatusDelta.objects.exists()
    assert OrderStatusCount.objects.get(status=OrderStatus.ALLOCATED).count == 3


@pytest.mark.django_db
def test_rebuild_and_check_command(shop, capsys):
    channel, _, _ = shop
    place(channel)
    # A counter gone wrong (say, a bulk load with the triggers disabled).
    OrderStatusDelta.objects.create(status=OrderStatus.PENDING, delta=5)
    with pytest.raises(SystemExit):
        call_command("order_status_counts", "--check")
    assert "MISMATCH pending" in capsys.readouterr().out
    call_command("order_status_counts", "--rebuild")
    call_command("order_status_counts", "--check")
    assert "Counters equal the orders table." in capsys.readouterr().out
    assert_exact()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_counters_stay_exact_under_concurrent_writes_and_compaction():
    channel = ChannelFactory()
    warehouse = WarehouseFactory(code="ber")
    sku = SKUFactory(code="CNT-1")
    stock(sku, warehouse, 40)
    stop = threading.Event()
    errors = []

    def compactor():
        try:
            while not stop.is_set():
                status_counts.compact()
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    def worker(seed):
        rng = random.Random(seed)
        try:
            for _ in range(12):
                order = place(channel, lines=(("CNT-1", rng.choice([1, 1, 2])),))
                action = rng.choice(["keep", "cancel", "hold", "reroute"])
                if action == "cancel":
                    services.cancel_order(order, actor=ACTOR)
                elif action == "hold":
                    services.hold_order(order, reason="review", actor=ACTOR)
                elif action == "reroute" and order.status == OrderStatus.ALLOCATED:
                    services.reroute_order(order, actor=ACTOR)
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=compactor)] + [
        threading.Thread(target=worker, args=(seed,)) for seed in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads[1:]:
        thread.join()
    stop.set()
    threads[0].join()

    assert not errors, errors
    assert Order.objects.count() == 96
    assert_exact()
    status_counts.compact()
    assert_exact()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_beat_gives_the_delta_tables_pages_back_after_a_burst(monkeypatch):
    """A burst of deltas (a backfill) leaves the folded table's pages behind unless it is
    vacuumed with its index cleaned; the counts would then read them all on every request."""
    from django.db import connection

    from orders.tasks import compact_status_counts

    monkeypatch.setattr(status_counts, "SHRINK_ABOVE_BYTES", 1024 * 1024)
    with connection.cursor() as cursor:
        # 100,000 zero deltas: the counts stay what they are, the table grows to ~4 MB.
        cursor.execute(
            "INSERT INTO orders_orderstatusdelta (status, delta) "
            "SELECT 'pending', 0 FROM generate_series(1, 100000)"
        )
        cursor.execute("SELECT pg_relation_size('orders_orderstatusdelta')")
        assert cursor.fetchone()[0] > 1024 * 1024
    assert compact_status_counts() == 100_000
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_relation_size('orders_orderstatusdelta')")
        assert cursor.fetchone()[0] < 1024 * 1024
    assert not status_counts.shrink_if_bloated()  # nothing left to give back
