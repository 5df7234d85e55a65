"""Editing an order after placement: quantities, lines, address, totals and tax, events,
the payment difference, and the states that refuse it."""

from decimal import Decimal

import pytest

from inventory.models import StockLevel, StockMovement, WarehouseAccess
from oms_site.actors import Actor
from oms_site.errors import PermissionDenied, ValidationFailed
from oms_site.models import OutboxEvent
from orders.models import Order, OrderEvent, OrderStatus, PaymentStatus
from orders.services import cancel_order, edit_order, place_order, ship_order
from orders.services.editing import (
    NotEditable,
    mark_picking_started,
    mark_picking_stopped,
)

from ..factories import ChannelFactory, SKUFactory, WarehouseFactory, stock, tax_rules

pytestmark = pytest.mark.django_db

D = Decimal
ACTOR = Actor.system("test")
BERLIN = {"name": "Erika", "line1": "Heidestrasse 17", "city": "Berlin", "country": "DE"}
OSLO = {"name": "Kari", "line1": "Karl Johans gate 1", "city": "Oslo", "country": "NO"}


@pytest.fixture
def shop(warehouse, sku):
    """Berlin and Oslo warehouses; two SKUs in Berlin, one in Oslo too."""
    oslo = WarehouseFactory(code="osl", city="Oslo", country="NO", latitude=59.91, longitude=10.75)
    mug = SKUFactory(code="MUG-1", price="8.00")
    stock(sku, warehouse, 10)
    stock(mug, warehouse, 10)
    stock(sku, oslo, 10)
    return {"berlin": warehouse, "oslo": oslo, "shirt": sku, "mug": mug}


def place(channel, lines=(("TSHIRT-BLK-M", 2),), address=BERLIN, **kwargs):
    return place_order(
        channel=channel,
        lines=[{"sku": code, "quantity": qty} for code, qty in lines],
        shipping_address=address,
        actor=ACTOR,
        **kwargs,
    )


def fresh(order) -> Order:
    return Order.objects.get(pk=order.pk)


def level(sku, warehouse) -> StockLevel:
    return StockLevel.objects.get(sku=sku, warehouse=warehouse)


def edited_events(order):
    return list(order.events.filter(kind=OrderEvent.Kind.EDITED).order_by("pk"))


# --- quantities and lines -------------------------------------------------------------------


def test_raising_a_quantity_allocates_the_extra_units(channel, shop):
    order = place(channel)
    line = order.lines.get()
    edit_order(order, lines=[{"line": line.pk, "quantity": 5}], actor=ACTOR)

    order = fresh(order)
    line.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATED
    assert (line.quantity, line.quantity_allocated) == (5, 5)
    assert level(shop["shirt"], shop["berlin"]).allocated == 5
    assert order.grand_total == D("99.50")


def test_an_edit_that_passes_the_high_value_threshold_holds_the_order(channel, shop):
    from orders.models import HoldRule

    HoldRule.objects.update_or_create(
        kind=HoldRule.Kind.HIGH_VALUE, defaults={"enabled": True, "threshold": D("100")}
    )
    order = place(channel)  # 39.80: below the threshold
    assert order.status == OrderStatus.ALLOCATED
    line = order.lines.get()
    edit_order(order, lines=[{"line": line.pk, "quantity": 8}], actor=ACTOR)

    order = fresh(order)
    assert order.status == OrderStatus.ON_HOLD
    assert "threshold" in order.hold_reason.lower()
    assert level(shop["shirt"], shop["berlin"]).allocated == 0
    assert order.events.filter(message__startswith="Held after the edit").exists()


def test_lowering_a_quantity_gives_units_back(channel, shop):
    order = place(channel, lines=(("TSHIRT-BLK-M", 4),))
    line = order.lines.get()
    edit_order(order, lines=[{"line": line.pk, "quantity": 1}], actor=ACTOR)

    line.refresh_from_db()
    assert (line.quantity, line.quantity_allocated) == (1, 1)
    assert level(shop["shirt"], shop["berlin"]).allocated == 1
    assert fresh(order).grand_total == D("19.90")


def test_adding_and_removing_lines(channel, shop):
    order = place(channel)
    shirt_line = order.lines.get()
    edit_order(
        order,
        lines=[{"line": shirt_line.pk, "quantity": 0}, {"sku": "MUG-1", "quantity": 3}],
        actor=ACTOR,
    )

    order = fresh(order)
    shirt_line.refresh_from_db()
    mug_line = order.lines.get(sku_code="MUG-1")
    assert shirt_line.quantity_cancelled == shirt_line.quantity == 2
    assert shirt_line.line_total == 0 and shirt_line.quantity_allocated == 0
    assert (mug_line.quantity, mug_line.quantity_allocated) == (3, 3)
    assert order.status == OrderStatus.ALLOCATED
    assert order.grand_total == D("24.00")
    assert level(shop["shirt"], shop["berlin"]).allocated == 0
    assert level(shop["mug"], shop["berlin"]).allocated == 3


def test_a_line_for_which_no_stock_is_left_is_backordered(channel, shop):
    order = place(channel)
    edit_order(order, lines=[{"sku": "MUG-1", "quantity": 12}], actor=ACTOR)

    order = fresh(order)
    assert order.status == OrderStatus.BACKORDERED
    assert level(shop["mug"], shop["berlin"]).allocated == 10


def test_every_change_is_an_event_with_before_and_after(channel, shop):
    order = place(channel)
    line = order.lines.get()
    edit_order(
        order,
        lines=[{"line": line.pk, "quantity": 3}, {"sku": "MUG-1", "quantity": 1}],
        shipping_address=BERLIN | {"line1": "Invalidenstrasse 1"},
        reason="Customer called",
        actor=Actor.system("support-desk"),
    )

    events = {e.details["change"]: e for e in edited_events(order)}
    assert set(events) == {"shipping_address", "line_changed", "line_added", "totals"}
    changed = events["line_changed"].details
    assert (changed["before"]["quantity"], changed["after"]["quantity"]) == (2, 3)
    assert changed["before"]["line_total"] == "39.800"
    assert changed["after"]["line_total"] == "59.700"
    assert events["line_added"].details["after"]["quantity"] == 1
    assert events["shipping_address"].details["before"]["line1"] == "Heidestrasse 17"
    assert events["shipping_address"].details["after"]["line1"] == "Invalidenstrasse 1"
    assert events["totals"].details["before"]["grand_total"] == "39.800"
    assert events["totals"].details["after"]["grand_total"] == "67.700"
    assert "Customer called" in events["line_changed"].message
    assert events["line_changed"].actor_label == "support-desk"


def test_the_edit_is_announced_by_webhook(channel, shop):
    order = place(channel)
    line = order.lines.get()
    edit_order(order, lines=[{"line": line.pk, "quantity": 3}], actor=ACTOR)

    event = OutboxEvent.objects.get(event_type="order.edited")
    assert event.payload["number"] == order.number
    assert event.payload["totals"]["after"]["grand_total"] == "59.700"
    assert [c["change"] for c in event.payload["changes"]] == ["line_changed"]


def test_an_edit_that_changes_nothing_writes_nothing(channel, shop):
    order = place(channel)
    line = order.lines.get()
    events_before = order.events.count()
    edit_order(
        order, lines=[{"line": line.pk, "quantity": 2}], shipping_address=BERLIN, actor=ACTOR
    )
    assert order.events.count() == events_before
    assert not OutboxEvent.objects.filter(event_type="order.edited").exists()


# --- totals and tax -------------------------------------------------------------------------


def test_totals_and_tax_are_computed_again(shop):
    tax_rules()
    channel = ChannelFactory(code="gross", prices_include_tax=True)
    order = place(channel, address=BERLIN)
    assert order.tax_total == D("6.35")  # 39.80 incl. 19 % VAT
    line = order.lines.get()
    edit_order(order, lines=[{"line": line.pk, "quantity": 4}], actor=ACTOR)

    order = fresh(order)
    line.refresh_from_db()
    assert order.grand_total == D("79.60")
    assert line.tax_amount == D("12.71") and line.tax_rate == D("19")
    assert order.tax_total == D("12.71")


def test_a_new_country_changes_the_tax_and_reroutes(shop):
    tax_rules()
    channel = ChannelFactory(code="gross", prices_include_tax=True)
    order = place(channel, address=BERLIN)
    assert order.lines.get().allocations.get().warehouse == shop["berlin"]
    edit_order(order, shipping_address=OSLO, actor=ACTOR)

    order = fresh(order)
    line = order.lines.get()
    assert line.tax_rate == D("25") and line.tax_amount == D("7.96")
    assert order.grand_total == D("39.80")
    assert line.allocations.get().warehouse == shop["oslo"]
    assert level(shop["shirt"], shop["berlin"]).allocated == 0
    assert level(shop["shirt"], shop["oslo"]).allocated == 2
    assert order.ship_to_country == "NO"
    assert order.events.filter(kind=OrderEvent.Kind.ROUTED).count() == 2


def test_the_line_discount_stays_the_same_per_unit(channel, shop):
    order = place_order(
        channel=channel,
        lines=[{"sku": "TSHIRT-BLK-M", "quantity": 2, "discount": "2.00"}],
        shipping_address=BERLIN,
        actor=ACTOR,
    )
    line = order.lines.get()
    edit_order(order, lines=[{"line": line.pk, "quantity": 4}], actor=ACTOR)
    line.refresh_from_db()
    assert line.discount_amount == D("4.00")
    assert line.line_total == D("75.60")


# --- refusals -------------------------------------------------------------------------------


def test_bad_changes_are_refused_naming_the_field_and_change_nothing(channel, shop):
    order = place(channel)
    line = order.lines.get()
    with pytest.raises(ValidationFailed) as refused:
        edit_order(
            order,
            lines=[
                {"line": line.pk, "quantity": 3},
                {"sku": "NOPE", "quantity": 1},
                {"line": 999999, "quantity": 1},
                {"sku": "MUG-1", "quantity": 0},
                {"quantity": 1},
            ],
            actor=ACTOR,
        )
    assert set(refused.value.fields) == {
        "lines.1.sku",
        "lines.2.line",
        "lines.3.quantity",
        "lines.4",
    }
    line.refresh_from_db()
    assert line.quantity == 2
    assert not edited_events(order)


def test_removing_every_line_is_refused(channel, shop):
    order = place(channel)
    line = order.lines.get()
    with pytest.raises(ValidationFailed) as refused:
        edit_order(order, lines=[{"line": line.pk, "quantity": 0}], actor=ACTOR)
    assert "lines" in refused.value.fields


def test_refused_once_picking_started(channel, shop):
    order = place(channel)
    from django.db import transaction

    with transaction.atomic():
        assert mark_picking_started([order.pk], actor=ACTOR, pick_list="PL-000001") == 1
    with pytest.raises(NotEditable) as refused:
        edit_order(order, lines=[{"sku": "MUG-1", "quantity": 1}], actor=ACTOR)
    assert refused.value.status == 422
    assert refused.value.code == "order_not_editable"
    assert "Picking" in refused.value.fields["status"][0]
    with transaction.atomic():
        mark_picking_stopped([order.pk], actor=ACTOR, pick_list="PL-000001")
    edit_order(order, lines=[{"sku": "MUG-1", "quantity": 1}], actor=ACTOR)
    assert fresh(order).lines.count() == 2


def test_refused_after_shipping_and_after_cancelling(channel, shop):
    shipped = place(channel)
    ship_order(shipped, carrier="dhl", tracking_number="1", actor=ACTOR)
    cancelled = place(channel)
    cancel_order(cancelled, actor=ACTOR)
    for order in (shipped, cancelled):
        with pytest.raises(NotEditable):
            edit_order(order, shipping_address=OSLO, actor=ACTOR)


def test_marketplace_orders_are_edited_on_the_marketplace(shop):
    amazon = ChannelFactory(code="amazon", kind="amazon", collected_by_marketplace=True)
    order = place(amazon)
    with pytest.raises(NotEditable) as refused:
        edit_order(order, shipping_address=OSLO, actor=ACTOR)
    assert "edit it there" in refused.value.message


def test_warehouse_staff_edit_only_orders_in_their_warehouses(channel, shop, users):
    WarehouseAccess.objects.create(user=users["warehouse"], warehouse=shop["oslo"])
    order = place(channel)  # allocated in Berlin
    with pytest.raises(PermissionDenied):
        edit_order(order, shipping_address=OSLO, actor=Actor.for_user(users["warehouse"]))
    assert fresh(order).ship_to_country == "DE"


def test_a_held_order_keeps_its_stock_and_gives_back_what_it_no_longer_needs(channel, shop):
    from orders.services import hold_order, release_order

    order = place(channel, lines=(("TSHIRT-BLK-M", 3),))
    hold_order(order, reason="check", actor=ACTOR)
    line = order.lines.get()
    edit_order(
        order,
        lines=[{"line": line.pk, "quantity": 1}, {"sku": "MUG-1", "quantity": 2}],
        actor=ACTOR,
    )
    assert fresh(order).status == OrderStatus.ON_HOLD
    assert level(shop["shirt"], shop["berlin"]).allocated == 1
    assert level(shop["mug"], shop["berlin"]).allocated == 0
    release_order(order, actor=ACTOR)
    assert fresh(order).status == OrderStatus.ALLOCATED
    assert level(shop["mug"], shop["berlin"]).allocated == 2


# --- the payment difference -----------------------------------------------------------------


@pytest.fixture
def hooks(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def vipps_order(channel, server, quantity=2, authorized=None, reference="shop-order-20001"):
    total = D("19.90") * quantity
    server.sandbox.create_payment(reference, int((authorized or total) * 100), "EUR")
    return place(
        channel,
        lines=(("TSHIRT-BLK-M", quantity),),
        payment={
            "gateway": "vipps",
            "method": "wallet",
            "reference": reference,
            **({"amount": str(authorized)} if authorized else {}),
        },
    )


def test_a_lower_total_refunds_the_difference_through_the_gateway(channel, shop, vipps, hooks):
    with hooks():
        order = vipps_order(channel, vipps, quantity=3)
    assert fresh(order).payment_status == PaymentStatus.PAID
    line = order.lines.get()
    with hooks():
        edit_order(order, lines=[{"line": line.pk, "quantity": 1}], actor=ACTOR)

    order = fresh(order)
    refund = order.refunds.get()
    assert (refund.amount, refund.source, refund.status) == (D("39.80"), "edit", "succeeded")
    assert vipps.sandbox.payments["shop-order-20001"]["refunded"] == 3980
    payment = order.payments.get()
    assert payment.refunded_amount <= payment.captured_amount
    assert order.payment_status == PaymentStatus.PARTIALLY_REFUNDED
    messages = list(order.events.values_list("message", flat=True))
    assert any(m.startswith("Edit: refunding 39.800 EUR") for m in messages)
    assert OutboxEvent.objects.filter(event_type="refund.succeeded").exists()


def test_a_higher_total_is_captured_from_what_is_authorized(channel, shop, vipps, hooks):
    with hooks():
        order = vipps_order(channel, vipps, quantity=2, authorized=D("100.00"))
    assert fresh(order).payments.get().captured_amount == D("39.80")
    line = order.lines.get()
    with hooks():
        edit_order(order, lines=[{"line": line.pk, "quantity": 4}], actor=ACTOR)

    order = fresh(order)
    payment = order.payments.get()
    assert payment.captured_amount == D("79.60")
    assert order.payment_status == PaymentStatus.PAID
    assert vipps.sandbox.payments["shop-order-20001"]["captured"] == 7960
    assert OutboxEvent.objects.filter(event_type="payment.captured").count() == 2
    assert order.events.filter(message__startswith="Edit: capturing 39.800 EUR more").exists()


def test_what_no_authorization_covers_is_left_to_pay(channel, shop, vipps, hooks):
    with hooks():
        order = vipps_order(channel, vipps, quantity=2)
    line = order.lines.get()
    with hooks():
        edit_order(order, lines=[{"line": line.pk, "quantity": 3}], actor=ACTOR)

    order = fresh(order)
    assert order.payment_status == PaymentStatus.PARTIALLY_PAID
    assert order.payments.get().captured_amount == D("39.80")
    assert order.events.filter(message__contains="19.900 EUR is not covered").exists()


def test_the_refund_never_passes_what_was_captured(channel, shop, vipps, hooks):
    """Captured on shipment: nothing is captured yet, so a lower total refunds nothing."""
    later = ChannelFactory(code="later", capture_payment_on="shipment")
    with hooks():
        order = vipps_order(later, vipps, quantity=3)
    line = order.lines.get()
    with hooks():
        edit_order(order, lines=[{"line": line.pk, "quantity": 1}], actor=ACTOR)
    order = fresh(order)
    assert not order.refunds.exists()
    assert order.payment_status == PaymentStatus.AUTHORIZED
    with hooks():
        ship_order(order, carrier="dhl", tracking_number="1", actor=ACTOR)
    assert fresh(order).payments.get().captured_amount == D("19.90")


def test_a_bank_transfer_paid_in_full_is_paid_back_by_hand(channel, shop, hooks):
    from orders.payments import services as payments

    order = place(channel, lines=(("TSHIRT-BLK-M", 2),))
    with hooks():
        payments.add_payment(order=order, gateway="manual", method="bank_transfer", actor=ACTOR)
        payments.capture_payment(order=order, actor=ACTOR)
    line = order.lines.get()
    with hooks():
        edit_order(order, lines=[{"line": line.pk, "quantity": 1}], actor=ACTOR)
    refund = fresh(order).refunds.get()
    assert refund.amount == D("19.90") and refund.status == "succeeded"


def test_cancelling_refunds_the_capture_with_a_timeline_event(channel, shop, vipps, hooks):
    with hooks():
        order = vipps_order(channel, vipps, quantity=2)
    with hooks():
        cancel_order(order, actor=ACTOR, reason="Out of budget")
    order = fresh(order)
    assert order.payment_status == PaymentStatus.REFUNDED
    assert order.refunds.get().amount == D("39.80")
    assert vipps.sandbox.payments["shop-order-20001"]["refunded"] == 3980
    assert order.events.filter(message__startswith="Cancellation: refunding 39.800 EUR").exists()
    assert (
        not StockMovement.objects.filter(reference=f"order:{order.number}")
        .exclude(reason__in=["allocation", "deallocation"])
        .exists()
    )
