"""Amazon SP-API connector against the Amazon stub: orders in exactly once, in step with
Amazon's changes, tracking and stock out, faults."""

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.test import TestCase

from inventory import stock
from inventory.models import StockLevel, StockMovement
from marketplaces.connectors.base import MalformedRecord
from marketplaces.models import MarketplaceOrder, SyncFailure, SyncRun
from oms_site.actors import Actor
from orders import services
from orders.models import Order, OrderEvent, OrderStatus

from .. import factories
from .helpers import fresh, sync

pytestmark = pytest.mark.django_db


def test_orders_are_imported_once_across_pages_and_a_second_run_changes_nothing(marketplace):
    server, connection = marketplace("amazon", page_size=2)
    server.marketplace.store.generate(5, status="unshipped", afn=False)
    run = sync(connection)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert (run.pages, run.fetched, run.created, run.failed) == (3, 5, 5, 0)
    orders = Order.objects.filter(channel=connection.channel)
    assert orders.count() == 5
    assert set(orders.values_list("status", flat=True)) == {OrderStatus.ALLOCATED}
    assert set(orders.values_list("payment_status", flat=True)) == {"paid"}
    events = OrderEvent.objects.count()
    movements = StockMovement.objects.count()

    again = sync(connection)
    assert again.status == SyncRun.Status.SUCCEEDED
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)
    assert OrderEvent.objects.count() == events
    assert StockMovement.objects.count() == movements
    assert fresh(connection).cursor == max(o.marketplace_link.remote_updated_at for o in orders)


def test_amounts_currency_and_address_are_amazons(marketplace):
    server, connection = marketplace("amazon")
    order = server.marketplace.store.generate(
        1,
        status="unshipped",
        afn=False,
        currency="EUR",
        lines=[{"sku": "MK-MUG", "quantity": 3, "unit_price": "10.00"}],
    )[0]
    sync(connection)
    ours = Order.objects.get(external_id=order["id"])
    link = ours.marketplace_link
    assert ours.currency == "EUR"
    # 3 x 10.00 incl. 20 % VAT = 30.00 gross, 5.00 VAT; net unit 8.34 with 0.02 rounding.
    line = ours.lines.get()
    assert line.quantity == 3 and line.tax_amount == 5 and line.line_total == 30
    assert ours.grand_total == Decimal("30.00") + Decimal(order["shipping"])
    assert ours.grand_total == Decimal(link.marketplace_totals["grand_total"])
    assert ours.shipping_address["city"] == order["address"]["city"]
    assert link.line_refs == {str(line.pk): order["lines"][0]["line_id"]}


def test_pending_order_waits_on_hold_without_stock_until_paid(marketplace):
    server, connection = marketplace("amazon")
    order = server.marketplace.store.generate(1, status="pending", afn=False)[0]
    sync(connection)
    ours = Order.objects.get(external_id=order["id"])
    assert ours.status == OrderStatus.ON_HOLD
    assert ours.hold_reason.startswith("Awaiting payment on Amazon")
    assert not ours.lines.filter(quantity_allocated__gt=0).exists()

    server.marketplace.store.act(order["id"], "pay", {})
    run = sync(connection)
    assert run.updated == 1
    ours.refresh_from_db()
    assert ours.status == OrderStatus.ALLOCATED
    assert ours.payment_status == "paid"
    assert ours.shipping_address["line1"] == order["address"]["line1"]


def test_a_cancellation_on_amazon_cancels_and_gives_the_stock_back(marketplace, stocked):
    server, connection = marketplace("amazon")
    order = server.marketplace.store.generate(
        1, status="unshipped", afn=False, lines=[{"sku": "MK-TEE-M", "quantity": 2}]
    )[0]
    sync(connection)
    level = StockLevel.objects.get(sku=stocked[0])
    assert level.allocated == 2
    server.marketplace.store.act(order["id"], "cancel", {})
    sync(connection)
    assert Order.objects.get(external_id=order["id"]).status == OrderStatus.CANCELLED
    level.refresh_from_db()
    assert level.allocated == 0


def test_fba_orders_are_history_only(marketplace):
    server, connection = marketplace("amazon")
    order = server.marketplace.store.generate(1, status="unshipped", afn=True)[0]
    sync(connection)
    ours = Order.objects.get(external_id=order["id"])
    assert ours.fulfilled_by_channel and ours.status == OrderStatus.PENDING
    assert not ours.lines.filter(quantity_allocated__gt=0).exists()
    movements = StockMovement.objects.count()
    server.marketplace.store.act(order["id"], "ship", {})
    sync(connection)
    ours.refresh_from_db()
    assert ours.status == OrderStatus.SHIPPED
    assert StockMovement.objects.count() == movements


def test_a_malformed_record_is_kept_and_the_rest_imported(marketplace):
    server, connection = marketplace("amazon")
    server.marketplace.store.generate(3, status="unshipped", afn=False)
    server.marketplace.faults.update({"malformed": 1})
    run = sync(connection)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert (run.created, run.failed) == (3, 1)
    failure = SyncFailure.objects.get()
    assert failure.external_id == "999-0000000-0000000"
    assert failure.payload["lastUpdatedTime"] == "not a date"


def test_an_unknown_sku_fails_that_order_and_replay_imports_it_once_fixed(marketplace):
    from marketplaces.services import replay

    from .. import factories

    server, connection = marketplace("amazon")
    order = server.marketplace.store.generate(
        1,
        status="unshipped",
        afn=False,
        lines=[{"sku": "NEW-SKU", "quantity": 1, "unit_price": "9.00"}],
    )[0]
    run = sync(connection)
    assert run.failed == 1
    failure = SyncFailure.objects.get()
    assert "NEW-SKU" in failure.error
    factories.SKUFactory(code="NEW-SKU")
    failure = replay.replay(failure, triggered_by="test")
    assert failure.status == SyncFailure.Status.RESOLVED
    assert failure.resolved_order.external_id == order["id"]
    assert Order.objects.filter(external_id=order["id"]).count() == 1


def test_a_429_storm_is_waited_out_and_the_run_completes(marketplace):
    server, connection = marketplace("amazon", page_size=2)
    server.marketplace.store.generate(4, status="unshipped", afn=False)
    server.marketplace.faults.update({"rate_limit": 6, "retry_after": 0.05})
    run = sync(connection)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.created == 4
    assert run.throttled >= 6


def test_marketplace_down_fails_the_run_cleanly_and_keeps_the_cursor(marketplace):
    server, connection = marketplace("amazon")
    server.marketplace.store.generate(2, status="unshipped", afn=False)
    sync(connection)
    cursor = fresh(connection).cursor
    server.marketplace.faults.update({"down": True})
    run = sync(connection)
    assert run.status == SyncRun.Status.FAILED
    connection = fresh(connection)
    assert connection.cursor == cursor
    assert connection.consecutive_failures == 1 and connection.next_sync_at is not None
    assert connection.locked_until is None
    server.marketplace.faults.update({"down": False})
    assert sync(connection).status == SyncRun.Status.SUCCEEDED


def test_an_expired_token_is_refreshed(marketplace):
    server, connection = marketplace("amazon")
    server.marketplace.store.generate(1, status="unshipped", afn=False)
    sync(connection)
    server.marketplace.expire_tokens()
    server.marketplace.store.generate(1, status="unshipped", afn=False)
    run = sync(connection)
    assert run.status == SyncRun.Status.SUCCEEDED and run.created == 1


def test_shipping_here_confirms_the_shipment_on_amazon_once(marketplace):
    server, connection = marketplace("amazon")
    order = server.marketplace.store.generate(1, status="unshipped", afn=False)[0]
    sync(connection)
    ours = Order.objects.get(external_id=order["id"])
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.ship_order(
            ours, actor=Actor.system("test"), carrier="Royal Mail", tracking_number="RM123456789GB"
        )
    received = server.marketplace.store.received["shipments"]
    assert len(received) == 1
    assert received[0]["trackingNumber"] == "RM123456789GB"
    assert {i["orderItemId"] for i in received[0]["orderItems"]} == {
        ln["line_id"] for ln in order["lines"]
    }
    push = ours.shipment_pushes.get()
    assert push.status == "sent"
    # Amazon now says Shipped: the next sync changes nothing and sends nothing back.
    sync(connection)
    assert len(server.marketplace.store.received["shipments"]) == 1
    assert MarketplaceOrder.objects.get(order=ours).marketplace_status == "SHIPPED"


def test_stock_changes_are_pushed_to_the_listing(marketplace, stocked):
    from marketplaces.services import pushes

    server, connection = marketplace("amazon")
    warehouse = StockLevel.objects.filter(sku=stocked[1]).first().warehouse
    stock.adjust(
        sku=stocked[1], warehouse=warehouse, change=-5, actor=Actor.system("t"), note="damaged"
    )
    pushes.push_due_stock()
    received = server.marketplace.store.received["stock"]
    assert {"sku": "MK-MUG", "quantity": 45} in received


def test_a_page_of_orders_is_one_search_orders_call_with_the_items_inline(marketplace):
    server, connection = marketplace("amazon", page_size=2)
    server.marketplace.store.generate(5, status="unshipped", afn=False)
    calls, route = [], server.marketplace.route

    def recording(method, path, *args):
        calls.append((method, path, args[0]))
        return route(method, path, *args)

    server.marketplace.route = recording
    run = sync(connection)
    assert run.created == 5
    # Three pages, one call each (a stale token may add a retry): none per order.
    searches = [c for c in calls if c[1] != "/auth/o2/token"]
    assert {(method, path) for method, path, _query in searches} == {
        ("GET", "/orders/2026-01-01/orders")
    }
    assert len({query.get("paginationToken") for _m, _p, query in searches}) == 3


def test_the_sandbox_holds_page_tokens_to_the_request_that_made_them(marketplace):
    import requests

    server, connection = marketplace("amazon", page_size=1)
    server.marketplace.store.generate(2, status="unshipped", afn=False)
    token, _ttl = server.marketplace.issue_token("Atza|")
    url = f"{server.url}/orders/2026-01-01/orders"
    headers = {"x-amz-access-token": token}
    first = {"lastUpdatedAfter": "2020-01-01T00:00:00Z", "maxResultsPerPage": "1"}
    page = requests.get(url, params=first, headers=headers, timeout=5).json()
    assert [o["orderItems"][0]["product"]["sellerSku"] for o in page["orders"]]
    assert "proceeds" not in page["orders"][0]  # only the includedData asked for
    following = page["pagination"]["nextToken"]
    moved = {"lastUpdatedAfter": "2021-01-01T00:00:00Z", "paginationToken": following}
    refused = requests.get(url, params=moved, headers=headers, timeout=5)
    assert refused.status_code == 400 and refused.json()["errors"][0]["code"] == "InvalidInput"
    same = {**first, "paginationToken": following, "includedData": "PROCEEDS"}
    answer = requests.get(url, params=same, headers=headers, timeout=5).json()
    assert len(answer["orders"]) == 1 and "proceeds" in answer["orders"][0]
    assert "pagination" not in answer


def test_prices_before_tax_discounts_and_a_unit_price_alone_are_read_as_amazon_means(
    marketplace,
):
    from marketplaces.connectors import connector_for

    _server, connection = marketplace("amazon", prices_include_tax=False)
    connector = connector_for(connection)

    def usd(amount):
        return {"amount": amount, "currencyCode": "USD"}

    record = {
        "orderId": "114-9876543-1234567",
        "createdTime": "2025-03-10T14:00:00Z",
        "lastUpdatedTime": "2025-03-10T14:30:00Z",
        "salesChannel": {"channelName": "AMAZON", "marketplaceId": "ATVPDKIKX0DER"},
        "fulfillment": {"fulfillmentStatus": "UNSHIPPED", "fulfilledBy": "MERCHANT"},
        "proceeds": {"grandTotal": usd("61.49")},
        "orderItems": [
            {
                "orderItemId": "11498765431234",
                "quantityOrdered": 2,
                "product": {"sellerSku": "MK-MUG", "price": {"unitPrice": usd("20.00")}},
                "proceeds": {
                    "proceedsTotal": usd("49.99"),
                    "breakdowns": [
                        {"type": "ITEM", "subtotal": usd("40.00")},
                        {"type": "SHIPPING", "subtotal": usd("5.00")},
                        {
                            "type": "DISCOUNT",
                            "subtotal": usd("-4.00"),
                            "detailedBreakdowns": [
                                {"subtype": "ITEM", "value": usd("-3.00")},
                                {"subtype": "SHIPPING", "value": usd("-1.00")},
                            ],
                        },
                        {"type": "TAX", "subtotal": usd("2.99")},
                    ],
                },
            },
            {
                "orderItemId": "11498765435678",
                "quantityOrdered": 1,
                "product": {"sellerSku": "MK-CAP", "price": {"unitPrice": usd("7.50")}},
            },
        ],
    }
    order = connector.map_order(record)
    assert order.currency == "USD" and order.grand_total == Decimal("61.49")
    mug, cap = order.lines
    # Tax on top: 40.00 for two before tax, 2.99 of tax, 3.00 off.
    assert (mug.quantity, mug.unit_price, mug.tax, mug.discount) == (
        2,
        Decimal("20.00"),
        Decimal("2.99"),
        Decimal("3.00"),
    )
    assert (cap.unit_price, cap.tax, cap.discount) == (Decimal("7.50"), 0, 0)
    assert order.shipping_total == Decimal("4.00") and order.shipping_tax == 0
    assert order.target == "to_ship" and not order.fulfilled_by_marketplace

    del record["fulfillment"]
    with pytest.raises(MalformedRecord):
        connector.map_order(record)


def test_after_a_lost_answer_the_shipment_is_found_on_amazon(marketplace):
    from marketplaces.connectors import connector_for

    server, connection = marketplace("amazon")
    order = server.marketplace.store.generate(1, status="unshipped", afn=False)[0]
    sync(connection)
    ours = Order.objects.get(external_id=order["id"])
    link = ours.marketplace_link
    push = SimpleNamespace(
        lines=[
            {"external_line_id": ln["line_id"], "quantity": ln["quantity"]} for ln in order["lines"]
        ]
    )
    connector = connector_for(connection)
    assert not connector.shipment_landed(link=link, push=push)
    server.marketplace.store.act(order["id"], "ship", {})
    assert connector.shipment_landed(link=link, push=push)


def test_only_a_listed_sku_waits_for_a_stock_push(marketplace, stocked):
    from marketplaces.models import MarketplaceListing, StockPushRequest

    _server, connection = marketplace("amazon")
    warehouse = StockLevel.objects.filter(sku=stocked[0]).first().warehouse
    unlisted = factories.SKUFactory(code="MK-NOT-LISTED")
    MarketplaceListing.objects.filter(connection=connection, sku=stocked[2]).update(active=False)
    StockPushRequest.objects.all().delete()
    actor = Actor.system("t")
    for sku in (stocked[0], stocked[2], unlisted):
        stock.receive(sku=sku, warehouse=warehouse, quantity=3, actor=actor)
    stock.receive(sku=stocked[0], warehouse=warehouse, quantity=1, actor=actor)
    # One waiting row for the listed SKU (debounced); none for the unlisted or inactive.
    assert list(StockPushRequest.objects.values_list("sku_id", flat=True)) == [stocked[0].pk]
