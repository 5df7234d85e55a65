"""Bulk placement: many orders in one transaction, each with what place_order gives one."""

import pytest
from django.db import connection, transaction

from inventory import stock
from inventory.models import StockLevel
from oms_site.errors import Conflict, ValidationFailed
from oms_site.models import OutboxEvent
from orders.models import Customer, Order, OrderEvent
from orders.services import place_order
from orders.services.bulk_placement import EARLY_EVENTS_FROM, place_orders

from .. import factories
from ..helpers import placement_spec as spec
from ..helpers import run_at_once

pytestmark = pytest.mark.django_db


def one_sku_in_stock(code, units, actor):
    """A channel and one SKU with ``units`` in Berlin, for the concurrency tests (which
    run on a transactional database, without the ``world`` fixture)."""
    channel = factories.ChannelFactory()
    warehouse = factories.WarehouseFactory(code="ber")
    sku = factories.SKUFactory(code=code, price="10.00")
    stock.receive(sku=sku, warehouse=warehouse, quantity=units, actor=actor)
    return channel, sku


@pytest.fixture
def world(db, system_actor):
    channel = factories.ChannelFactory()
    warehouse = factories.WarehouseFactory(code="ber")
    skus = [factories.SKUFactory(code=f"B-{i}", price="10.00") for i in range(3)]
    for sku in skus:
        stock.receive(sku=sku, warehouse=warehouse, quantity=5, actor=system_actor)
    return channel, skus


def test_a_batch_gives_each_order_what_place_order_gives_one(world, system_actor):
    channel, skus = world
    single = place_order(**spec(channel, "single", [("B-0", 1), ("B-1", 1)]), actor=system_actor)
    with transaction.atomic():
        results = place_orders(
            [spec(channel, f"batch-{i}", [("B-0", 1), ("B-1", 1)]) for i in range(3)],
            actor=system_actor,
        )
    assert all(isinstance(r, Order) for r in results)
    for order in results:
        order.refresh_from_db()
        assert order.status == single.status == "allocated"
        assert order.number == f"SO-{order.pk:07d}"
        assert order.grand_total == single.grand_total
        kinds = list(order.events.values_list("kind", flat=True))
        assert kinds == list(single.events.values_list("kind", flat=True))
        assert order.routing_decision["assignments"][0]["line"] in set(
            order.lines.values_list("pk", flat=True)
        )
    assert OutboxEvent.objects.filter(event_type="order.created").count() == 4
    assert StockLevel.objects.get(sku=skus[0]).allocated == 4


@pytest.mark.parametrize("size", [2, EARLY_EVENTS_FROM])
def test_each_trail_reads_in_order_whether_written_at_once_or_in_two_parts(
    world, system_actor, size
):
    """A small batch writes its trail in one statement, a large one its first events
    before the stock lock: either way each order's events come in the order they
    happened."""
    channel, _skus = world
    with transaction.atomic():
        results = place_orders(
            [spec(channel, f"trail-{i}", [("B-2", 1)]) for i in range(size)],
            actor=system_actor,
        )
    for order in results:
        trail = list(order.events.values_list("kind", "from_status", "to_status"))
        assert trail == [
            ("created", "", "draft"),
            ("status_changed", "draft", "pending"),
            ("status_changed", "pending", Order.objects.get(pk=order.pk).status),
            ("routed", "", ""),
        ]


def test_refused_orders_are_reported_in_place_and_the_rest_placed(world, system_actor):
    channel, _ = world
    place_order(**spec(channel, "old", [("B-0", 1)]), actor=system_actor)
    with transaction.atomic():
        results = place_orders(
            [
                spec(channel, "ok-1", [("B-0", 1)]),
                spec(channel, "bad", [("NOPE", 1)]),
                spec(channel, "old", [("B-0", 1)]),
                spec(channel, "ok-2", [("B-2", 1)]),
                spec(channel, "ok-2", [("B-2", 1)]),
            ],
            actor=system_actor,
        )
    assert isinstance(results[0], Order) and isinstance(results[3], Order)
    assert isinstance(results[1], ValidationFailed)
    assert isinstance(results[2], Conflict) and results[2].code == "duplicate_external_id"
    assert isinstance(results[4], Conflict)


def test_a_batch_never_promises_a_unit_twice(world, system_actor):
    channel, skus = world
    with transaction.atomic():
        results = place_orders(
            [spec(channel, f"hot-{i}", [("B-1", 2)]) for i in range(4)], actor=system_actor
        )
    statuses = sorted(o.status for o in results)
    assert statuses == ["allocated", "allocated", "backordered", "backordered"]
    assert StockLevel.objects.get(sku=skus[1]).allocated == 5
    assert OrderEvent.objects.filter(kind="routed").count() == 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_batches_at_once_on_the_same_stock_allocate_exactly_what_is_there(system_actor):
    channel, sku = one_sku_in_stock("RACE", 30, system_actor)

    def batch(prefix):
        with transaction.atomic():
            place_orders(
                [spec(channel, f"{prefix}-{i}", [("RACE", 1)]) for i in range(25)],
                actor=system_actor,
            )

    assert run_at_once(batch, [("a",), ("b",)]) == []
    assert StockLevel.objects.get(sku=sku).allocated == 30
    assert Order.objects.filter(status="allocated").count() == 30
    assert Order.objects.filter(status="backordered").count() == 20


def test_each_new_order_starts_its_own_webhook_sequence(world, system_actor):
    channel, _ = world
    with transaction.atomic():
        results = place_orders(
            [spec(channel, f"seq-{i}", [("B-0", 1)]) for i in range(3)], actor=system_actor
        )
    events = OutboxEvent.objects.filter(event_type="order.created")
    assert sorted(events.values_list("subject", flat=True)) == sorted(
        f"order:{o.number}" for o in results
    )
    assert set(events.values_list("sequence", flat=True)) == {1}
    from orders import services

    services.hold_order(results[0], reason="check", actor=system_actor)
    later = OutboxEvent.objects.filter(subject=f"order:{results[0].number}").order_by("sequence")
    assert list(later.values_list("sequence", flat=True)) == [1, 2]


def test_a_batch_counts_on_the_home_page_like_orders_placed_one_by_one(world, system_actor):
    from django.db.models import Sum

    from orders.models import HourlySales
    from orders.services.reporting import rebuild_sales

    channel, _ = world
    place_order(**spec(channel, "single", [("B-0", 1)]), actor=system_actor)
    with transaction.atomic():
        place_orders(
            [spec(channel, f"batch-{i}", [("B-0", 1), ("B-1", 2)]) for i in range(3)],
            actor=system_actor,
        )

    def totals():
        return HourlySales.objects.aggregate(orders=Sum("orders"), revenue=Sum("revenue"))

    kept = totals()
    assert kept["orders"] == 4
    today = Order.objects.earliest("placed_at").placed_at.date()
    rebuild_sales(first=today, last=today)
    assert totals() == kept


def test_orders_a_marketplace_collected_get_the_payment_the_ledger_follows(world, system_actor):
    from orders.payments.audit import audit_money
    from orders.payments.models import Payment

    channel, _ = world
    with transaction.atomic():
        results = place_orders(
            [spec(channel, f"paid-{i}", [("B-0", 1)]) for i in range(3)],
            actor=system_actor,
            paid_by="Amazon",
        )
    for order in results:
        order.refresh_from_db()
        assert order.payment_status == "paid"
        payment = Payment.objects.get(order=order)
        assert payment.captured_amount == payment.authorized_amount == order.grand_total
        assert sorted(payment.transactions.values_list("kind", flat=True)) == [
            "authorize",
            "capture",
        ]
    assert OutboxEvent.objects.filter(event_type="payment.captured").count() == 3
    assert audit_money() == []


def _next_order_id_from(first_id):
    """Makes the next order's primary key first_id, on PostgreSQL or SQLite."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('orders_order', 'id'), %s, false)",
                [first_id],
            )
        else:
            cursor.execute("DELETE FROM sqlite_sequence WHERE name = 'orders_order'")
            cursor.execute(
                "INSERT INTO sqlite_sequence (name, seq) VALUES ('orders_order', %s)",
                [first_id - 1],
            )


def test_numbers_past_ten_million_keep_every_digit(world, system_actor):
    channel, _ = world
    _next_order_id_from(12_345_678)
    with transaction.atomic():
        results = place_orders(
            [spec(channel, f"big-{i}", [("B-0", 1)]) for i in range(2)], actor=system_actor
        )
    for order in results:
        assert order.pk >= 12_345_678
        assert order.number == f"SO-{order.pk}"
        order.refresh_from_db()
        assert order.number == f"SO-{order.pk}"


def test_a_batch_finds_its_buyers_as_place_order_does(world, system_actor):
    """Per e-mail and channel: the channel's own customer, else the oldest not merged (a
    merged one leads to the one it was merged into), else a new one from this channel;
    a name or phone the customer lacks is filled in; a refused order creates nobody."""
    channel, _ = world
    other = factories.ChannelFactory(code="other")
    own = Customer.objects.create(email="own@example.com", channel=channel)
    Customer.objects.create(email="own@example.com", channel=other)
    kept = Customer.objects.create(email="merged@example.com", channel=other, name="Kept")
    Customer.objects.create(email="merged@example.com", channel=None, merged_into=kept)
    elsewhere = Customer.objects.create(email="elsewhere@example.com", channel=other)

    def order(external_id, email, sku="B-0", **buyer):
        return spec(channel, external_id, [(sku, 1)], customer={"email": email, **buyer})

    with transaction.atomic():
        results = place_orders(
            [
                order("a", "OWN@example.com", name="Own", phone="+47 1"),
                order("b", "merged@example.com"),
                order("c", "elsewhere@example.com"),
                order("d", "new@example.com", name="New"),
                order("e", "new@example.com", name="Other name"),
                order("f", "refused@example.com", sku="NOPE"),
            ],
            actor=system_actor,
        )
    a, b, c, d, e, refused = results
    assert a.customer == own and b.customer == kept and c.customer == elsewhere
    own.refresh_from_db()
    assert (own.name, own.phone) == ("Own", "+47 1")
    assert d.customer == e.customer and d.customer.channel == channel
    assert Customer.objects.get(email="new@example.com").name == "New"
    assert isinstance(refused, ValidationFailed)
    assert not Customer.objects.filter(email="refused@example.com").exists()
    for placed in (a, b, c, d, e):
        assert Order.objects.get(pk=placed.pk).customer_id == placed.customer.pk


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_batches_with_the_same_new_buyer_make_one_customer(system_actor):
    channel, sku = one_sku_in_stock("BUYER", 100, system_actor)

    def batch(prefix):
        with transaction.atomic():
            place_orders(
                [
                    spec(channel, f"{prefix}-{i}", [("BUYER", 1)], customer={"email": e})
                    for i, e in enumerate(["same@example.com", f"{prefix}@example.com"] * 5)
                ],
                actor=system_actor,
            )

    assert run_at_once(batch, [("a",), ("b",)]) == []
    same = Customer.objects.get(email="same@example.com")
    assert Order.objects.filter(customer=same).count() == 10
    assert Order.objects.count() == 20


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_batches_with_the_same_orders_place_each_once(system_actor):
    """Two workers import overlapping pages at once: neither sees the other's orders when
    it checks, the database's unique (channel, external id) refuses the second copy, and
    that batch falls back to placing its orders one by one: each order exists once."""
    channel, sku = one_sku_in_stock("TWICE", 100, system_actor)
    results = {}

    def batch(prefix):
        with transaction.atomic():
            results[prefix] = place_orders(
                [spec(channel, f"shared-{i}", [("TWICE", 1)]) for i in range(5)]
                + [spec(channel, f"{prefix}-{i}", [("TWICE", 1)]) for i in range(5)],
                actor=system_actor,
            )

    assert run_at_once(batch, [("a",), ("b",)]) == []
    assert Order.objects.count() == 15
    refused = [r for rs in results.values() for r in rs if isinstance(r, Conflict)]
    assert len(refused) == 5 and {r.code for r in refused} == {"duplicate_external_id"}
    assert StockLevel.objects.get(sku=sku).allocated == 15


def test_a_new_buyers_second_order_in_a_batch_is_not_a_first_order(world, system_actor, settings):
    """First order above a threshold: held once per buyer, as ``place_order`` would hold
    only the first of two orders placed one after the other."""
    from orders.models import HoldRule

    settings.OMS_BASE_CURRENCY = "EUR"
    channel, _ = world
    HoldRule.objects.create(kind=HoldRule.Kind.FIRST_ORDER_HIGH_VALUE, threshold=20)
    buyer = {"email": "first@example.com", "name": "First"}
    with transaction.atomic():
        first, second = place_orders(
            [
                spec(channel, "first-1", [("B-0", 3)], customer=buyer),
                spec(channel, "first-2", [("B-1", 3)], customer=buyer),
            ],
            actor=system_actor,
        )
    assert first.status == "on_hold" and "First order" in first.hold_reason
    assert second.status == "allocated"
