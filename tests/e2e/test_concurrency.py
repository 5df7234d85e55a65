"""Races on PostgreSQL with real threads: nothing oversold, no deadlock, no half work."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from inventory.models import StockLevel
from oms_site.actors import Actor
from oms_site.models import ApiKey
from orders import services
from orders.audit import audit_stock
from orders.models import Order, OrderStatus

from ..factories import ChannelFactory, SKUFactory, WarehouseFactory, stock
from ..helpers import order_payload

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_concurrently(count, work):
    """Start `count` threads at the same moment; each gets its own DB connection."""
    barrier = threading.Barrier(count)

    def worker(index):
        try:
            barrier.wait(timeout=30)
            return work(index)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(worker, range(count)))


def place(channel_code, lines, **kwargs):
    from orders.models import SalesChannel

    body = order_payload(lines=lines)
    return services.place_order(
        channel=SalesChannel.objects.get(code=channel_code),
        lines=body["lines"],
        shipping_address=body["shipping_address"],
        actor=Actor.system("race"),
        **kwargs,
    )


def test_fifty_placements_race_for_the_last_ten_units():
    ChannelFactory()
    warehouse = WarehouseFactory(code="ber")
    sku = SKUFactory(code="HOT-1")
    stock(sku, warehouse, 10)

    results = run_concurrently(50, lambda i: place("web", (("HOT-1", 1),)).status)

    assert results.count(OrderStatus.ALLOCATED) == 10
    assert results.count(OrderStatus.BACKORDERED) == 40
    level = StockLevel.objects.get(sku=sku)
    assert (level.on_hand, level.allocated) == (10, 10)
    assert audit_stock() == []


def test_multi_line_orders_in_opposite_sku_order_never_deadlock_or_half_allocate():
    ChannelFactory()
    warehouse = WarehouseFactory(code="ber")
    skus = [SKUFactory(code=f"PAIR-{n}") for n in range(3)]
    for sku in skus:
        stock(sku, warehouse, 20)

    def work(index):
        codes = [s.code for s in skus]
        if index % 2:
            codes.reverse()
        return place("web", tuple((code, 1) for code in codes)).status

    results = run_concurrently(30, work)

    assert results.count(OrderStatus.ALLOCATED) == 20
    for order in Order.objects.filter(status=OrderStatus.BACKORDERED):
        # Every SKU had the same stock, so each order got all three lines or none.
        assert [line.quantity_allocated for line in order.lines.all()] == [0, 0, 0]
    for sku in skus:
        level = StockLevel.objects.get(sku=sku)
        assert level.allocated == level.on_hand == 20
    assert audit_stock() == []


def api_client():
    _, raw = ApiKey.objects.create_key(
        name="race", scopes=["orders:write", "orders:read", "reservations:write"]
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client


def test_concurrent_requests_with_one_idempotency_key_create_one_order():
    ChannelFactory()
    stock(SKUFactory(code="TSHIRT-BLK-M"), WarehouseFactory(code="ber"), 50)
    client = api_client()
    body = order_payload(external_id="retry-1")

    responses = run_concurrently(
        8,
        lambda i: client.post(
            "/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="same-key"
        ),
    )

    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["number"] for r in responses}) == 1
    assert Order.objects.count() == 1
    assert StockLevel.objects.get().allocated == 2


def test_concurrent_imports_of_one_external_id_create_one_order():
    ChannelFactory()
    stock(SKUFactory(code="TSHIRT-BLK-M"), WarehouseFactory(code="ber"), 50)
    client = api_client()
    body = order_payload(external_id="amz-777")

    responses = run_concurrently(8, lambda i: client.post("/api/v1/orders/", body, format="json"))

    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 1 and codes.count(409) == 7, codes
    assert Order.objects.count() == 1
    assert audit_stock() == []


def test_forty_api_orders_at_once_for_thirty_units_are_placed_together_and_exactly():
    """Plain API orders that arrive together are placed in shared transactions
    (grouped placement): still exactly the stock there is, each answer its own order."""
    from orders.services import grouped_placement

    ChannelFactory()
    sku = SKUFactory(code="TSHIRT-BLK-M")
    stock(sku, WarehouseFactory(code="ber"), 30)
    client = api_client()
    group = grouped_placement._group
    before = group.grouped_orders

    responses = run_concurrently(
        40,
        lambda i: client.post(
            "/api/v1/orders/",
            order_payload(external_id=f"together-{i}", lines=(("TSHIRT-BLK-M", 1),)),
            format="json",
        ),
    )

    assert {r.status_code for r in responses} == {201}
    assert group.grouped_orders - before == 40
    statuses = [r.json()["status"] for r in responses]
    assert statuses.count(OrderStatus.ALLOCATED) == 30
    assert statuses.count(OrderStatus.BACKORDERED) == 10
    for index, response in enumerate(responses):
        created = response.json()
        assert created["external_id"] == f"together-{index}"
        assert client.get(f"/api/v1/orders/{created['number']}/").json() == created
    assert StockLevel.objects.get(sku=sku).allocated == 30
    assert audit_stock() == []


def test_forty_checkouts_for_thirty_units_hold_exactly_thirty_and_refuse_cleanly():
    ChannelFactory()
    stock(SKUFactory(code="TSHIRT-BLK-M"), WarehouseFactory(code="ber"), 30)
    client = api_client()

    responses = run_concurrently(
        40,
        lambda i: client.post(
            "/api/v1/reservations/",
            {"items": [{"sku": "TSHIRT-BLK-M", "quantity": 1}], "minutes": 5},
            format="json",
        ),
    )

    codes = [r.status_code for r in responses]
    assert codes.count(201) == 30 and codes.count(409) == 10, codes
    assert StockLevel.objects.get().allocated == 30
    assert audit_stock() == []
    assert connection.vendor == "postgresql"


def test_checkout_with_a_hold_races_plain_orders_without_deadlock():
    """Converting a hold locks every level of its SKUs in pk order, like routing does."""
    from inventory import services as inventory_services

    ChannelFactory()
    first = WarehouseFactory(code="aaa", rank=1)  # lower pk: locked first by routing
    second = WarehouseFactory(code="bbb", rank=2)
    sku = SKUFactory(code="HOLD-1")
    stock(sku, first, 20)
    stock(sku, second, 200)
    tokens = []
    for _ in range(10):
        token, rows = inventory_services.reserve(items=[(sku, 3)], actor=Actor.system("t"))
        assert rows[0].warehouse == second  # most available
        tokens.append(token)

    def work(index):
        if index % 2:
            return place("web", (("HOLD-1", 5),), reservation_token=tokens[index // 2]).status
        return place("web", (("HOLD-1", 2),)).status

    results = run_concurrently(20, work)

    assert results.count(OrderStatus.ALLOCATED) == 20
    assert audit_stock() == []
