"""eBay, Shopify and AliExpress connectors against their stubs: orders in once, changes in
step, tracking and stock out in each one's own format."""

import pytest
from django.test import TestCase

from inventory import stock
from inventory.models import StockLevel
from marketplaces.models import SyncFailure, SyncRun
from marketplaces.services import pushes
from oms_site.actors import Actor
from orders import services
from orders.models import Order, OrderStatus

from .helpers import sync

pytestmark = pytest.mark.django_db


def ship(order, carrier="UPS", tracking="1Z999AA10123456784"):
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.ship_order(
            order, actor=Actor.system("test"), carrier=carrier, tracking_number=tracking
        )


@pytest.mark.parametrize("kind", ["ebay", "shopify", "aliexpress"])
def test_orders_come_in_once_and_a_second_run_changes_nothing(marketplace, kind):
    server, connection = marketplace(kind, page_size=2)
    server.marketplace.store.generate(5, status="unshipped")
    run = sync(connection)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert (run.created, run.failed) == (5, 0), list(
        SyncFailure.objects.values_list("error", flat=True)
    )
    assert set(
        Order.objects.filter(channel=connection.channel).values_list("status", flat=True)
    ) == {OrderStatus.ALLOCATED}
    again = sync(connection)
    assert (again.created, again.updated, again.unchanged, again.failed) == (0, 0, 5, 0)


@pytest.mark.parametrize("kind", ["ebay", "shopify", "aliexpress"])
def test_cancellation_and_shipment_confirmation(marketplace, kind):
    server, connection = marketplace(kind)
    kept, cancelled = server.marketplace.store.generate(2, status="unshipped")
    sync(connection)
    server.marketplace.store.act(cancelled["id"], "cancel", {})
    sync(connection)
    assert Order.objects.get(external_id=cancelled["id"]).status == OrderStatus.CANCELLED
    ship(Order.objects.get(external_id=kept["id"]), tracking=f"TRACK-{kind}")
    received = server.marketplace.store.received["shipments"]
    assert len(received) == 1, Order.objects.get(external_id=kept["id"]).shipment_pushes.values()
    assert f"TRACK-{kind}" in str(received[0])
    assert server.marketplace.store.orders[kept["id"]]["status"] == "shipped"


@pytest.mark.parametrize("kind", ["ebay", "shopify", "aliexpress"])
def test_stock_push(marketplace, stocked, kind):
    server, connection = marketplace(kind)
    level = StockLevel.objects.filter(sku=stocked[2]).first()
    stock.adjust(
        sku=stocked[2], warehouse=level.warehouse, change=-8, actor=Actor.system("t"), note="count"
    )
    pushes.push_due_stock()
    assert {"sku": "MK-CAP", "quantity": 42} in server.marketplace.store.received["stock"]
    batch = connection.stock_batches.get()
    assert batch.failed == 0
    assert batch.results["MK-CAP"] == {"quantity": 42, "ok": True, "message": ""}
    # Nothing changed since: the next push sends nothing.
    stock.adjust(
        sku=stocked[2], warehouse=level.warehouse, change=1, actor=Actor.system("t"), note="x"
    )
    stock.adjust(
        sku=stocked[2], warehouse=level.warehouse, change=-1, actor=Actor.system("t"), note="x"
    )
    pushes.push_due_stock()
    assert connection.stock_batches.count() == 1


def test_shopify_partial_cancellation_and_address_edit(marketplace, stocked):
    server, connection = marketplace("shopify")
    order = server.marketplace.store.generate(
        1,
        status="unshipped",
        lines=[{"sku": "MK-TEE-M", "quantity": 3}, {"sku": "MK-MUG", "quantity": 1}],
    )[0]
    sync(connection)
    ours = Order.objects.get(external_id=order["id"])
    assert StockLevel.objects.get(sku=stocked[0]).allocated == 3
    server.marketplace.store.act(order["id"], "cancel_line", {"index": 0, "quantity": 2})
    server.marketplace.store.act(
        order["id"], "address", {"line1": "1 New Street", "city": "Boston", "country": "US"}
    )
    run = sync(connection)
    assert run.updated == 1, run.error
    ours.refresh_from_db()
    tee = ours.lines.get(sku_code="MK-TEE-M")
    assert (tee.quantity_cancelled, tee.quantity_allocated) == (2, 1)
    assert StockLevel.objects.get(sku=stocked[0]).allocated == 1
    assert ours.shipping_address["line1"] == "1 New Street"
    assert ours.status == OrderStatus.ALLOCATED


def test_shopify_throttled_answers_are_waited_out(marketplace):
    server, connection = marketplace("shopify")
    server.marketplace.store.generate(3, status="unshipped")
    server.marketplace.faults.update({"rate_limit": 3, "retry_after": 0.05})
    run = sync(connection)
    assert run.status == SyncRun.Status.SUCCEEDED and run.created == 3


def test_aliexpress_refuses_a_wrong_signature(marketplace):
    server, connection = marketplace("aliexpress")
    connection.credentials = {**connection.credentials, "app_secret": "wrong"}
    connection.save()
    run = sync(connection)
    assert run.status == SyncRun.Status.FAILED
    assert "signature" in run.error
