"""``manage.py load_demo``: loads a consistent demo shop, and a second run adds nothing."""

from collections import defaultdict
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Sum
from stdnum import ean

from demo.scenarios import returns as returns_demo
from inventory.models import SKU, StockLevel, StockMovement, Warehouse, WarehouseAccess
from oms_site.models import ApiKey, ApiScope, ExchangeRate, StaffProfile
from oms_site.roles import Role
from orders.models import (
    Allocation,
    HoldRule,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    PaymentStatus,
    SalesChannel,
)

from ..helpers import row_counts

ORDERS = 90


@pytest.fixture
def demo(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    # Hashing five passwords with the production hasher would dominate the test's time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    out = StringIO()
    call_command("load_demo", orders=ORDERS, skus=24, customers=40, stdout=out)
    return out.getvalue()


def _counts():
    counts = row_counts()
    for model in (SKU, Warehouse, SalesChannel, ExchangeRate, ApiKey, HoldRule, StaffProfile):
        counts[model.__name__] = model.objects.count()
    counts["User"] = get_user_model().objects.count()
    return counts


@pytest.mark.django_db
def test_load_demo_is_complete_and_idempotent(demo, settings):
    assert "Demo loaded" in demo
    assert Order.objects.count() == ORDERS + returns_demo.FRESH_ORDERS
    before = _counts()
    out = StringIO()
    call_command("load_demo", orders=ORDERS, skus=24, customers=40, stdout=out)
    assert "already loaded" in out.getvalue()
    assert _counts() == before


@pytest.mark.django_db
def test_every_status_and_plausible_orders(demo):
    statuses = set(Order.objects.values_list("status", flat=True))
    assert statuses == {s.value for s in OrderStatus}
    assert {"EUR", "GBP", "USD"} <= set(Order.objects.values_list("currency", flat=True))
    assert set(SalesChannel.objects.values_list("kind", flat=True)) >= {
        "web",
        "pos",
        "amazon",
        "ebay",
        "shopify",
        "api",
    }
    for order in Order.objects.prefetch_related("lines", "events"):
        assert order.number == f"SO-{order.pk:07d}"
        lines = list(order.lines.all())
        assert 1 <= len(lines) <= 4
        subtotal = sum((ln.unit_price * ln.quantity for ln in lines), Decimal(0))
        assert order.subtotal == subtotal
        assert order.tax_total == sum((ln.tax_amount for ln in lines), Decimal(0))
        assert order.grand_total == (
            order.subtotal - order.discount_total + order.tax_total + order.shipping_total
        )
        for line in lines:
            assert line.line_total == (
                line.unit_price * line.quantity - line.discount_amount + line.tax_amount
            )
        events = list(order.events.all())
        assert events[0].kind == OrderEvent.Kind.CREATED
        assert [e.created_at for e in events] == sorted(e.created_at for e in events)
        changes = [e for e in events if e.kind == OrderEvent.Kind.STATUS_CHANGED]
        if order.status != OrderStatus.DRAFT:
            # The trail is a chain from draft to the current status.
            assert changes[0].from_status == OrderStatus.DRAFT
            for previous, current in zip(changes, changes[1:], strict=False):
                assert current.from_status == previous.to_status
            assert changes[-1].to_status == order.status
            assert order.placed_at is not None and order.ship_to_latitude is not None
        assert order.created_at <= order.updated_at
        if order.status in (OrderStatus.DELIVERED, OrderStatus.SHIPPED):
            assert order.payment_status == PaymentStatus.PAID
            assert all(ln.quantity_shipped == ln.quantity for ln in lines)
        if order.status == OrderStatus.RETURNED:
            assert order.payment_status == PaymentStatus.REFUNDED
        if order.status == OrderStatus.ALLOCATED:
            # Lines an edit removed count as cancelled, and hold nothing.
            wanted = {ln.pk: ln.quantity - ln.quantity_cancelled for ln in lines}
            assert all(ln.quantity_allocated == wanted[ln.pk] for ln in lines)
            assert all(
                sum(a.quantity for a in ln.allocations.all()) == wanted[ln.pk] for ln in lines
            )
        if order.status == OrderStatus.BACKORDERED:
            assert any(ln.quantity_allocated < ln.quantity for ln in lines)


@pytest.mark.django_db
def test_stock_levels_equal_the_ledger_and_the_allocations(demo):
    ledger = {
        (row["sku_id"], row["warehouse_id"]): (row["on_hand"], row["allocated"])
        for row in StockMovement.objects.values("sku_id", "warehouse_id").annotate(
            on_hand=Sum("on_hand_change"), allocated=Sum("allocated_change")
        )
    }
    levels = list(StockLevel.objects.all())
    assert levels
    assert any(level.safety_stock for level in levels)
    for level in levels:
        assert ledger.get((level.sku_id, level.warehouse_id), (0, 0)) == (
            level.on_hand,
            level.allocated,
        )
        assert 0 <= level.allocated <= level.on_hand
    assert set(ledger) <= {(lv.sku_id, lv.warehouse_id) for lv in levels}

    open_allocations = defaultdict(int)
    for allocation in Allocation.objects.filter(warehouse__isnull=False).select_related("line"):
        open_allocations[(allocation.line.sku_id, allocation.warehouse_id)] += allocation.quantity
    for level in levels:
        assert level.allocated == open_allocations.get((level.sku_id, level.warehouse_id), 0)
    # Each allocated order's allocation rows are in the ledger under its reference.
    for order in Order.objects.filter(status=OrderStatus.ALLOCATED):
        allocated = StockMovement.objects.filter(reference=f"order:{order.number}").aggregate(
            total=Sum("allocated_change")
        )["total"]
        in_warehouses = Allocation.objects.filter(
            line__order=order, warehouse__isnull=False
        ).aggregate(total=Sum("quantity"))["total"]
        assert (allocated or 0) == (in_warehouses or 0)
    assert OrderLine.objects.filter(quantity_allocated__gt=0).exists()


@pytest.mark.django_db
def test_reference_data_users_and_api_key(demo, settings):
    warehouses = list(Warehouse.objects.all())
    assert len({w.city for w in warehouses}) >= 3
    assert all(w.latitude is not None and w.ships_to_countries for w in warehouses)
    assert all(w.bins.exists() for w in warehouses)
    for sku in SKU.objects.all():
        assert len(sku.barcode) == 13 and ean.is_valid(sku.barcode)
        assert sku.price > 0 and sku.weight_grams > 0
    assert {r.currency for r in ExchangeRate.objects.all()} == {"GBP", "USD", "CHF", "PLN"}
    rules = {rule.kind: rule for rule in HoldRule.objects.all()}
    assert rules["high_value"].enabled and rules["high_value"].threshold == 2000
    assert not rules["first_order_high_value"].enabled

    User = get_user_model()
    for username, role in [
        ("owner", Role.OWNER),
        ("manager", Role.MANAGER),
        ("support", Role.SUPPORT),
        ("warehouse", Role.WAREHOUSE),
        ("viewer", Role.READONLY),
    ]:
        user = User.objects.get(username=username)
        assert user.check_password(f"{username}-demo-pass")
        assert user.staff_profile.role == role
    assert User.objects.get(username="owner").is_superuser
    assert WarehouseAccess.objects.filter(user__username="warehouse").count() == 1

    raw = (settings.VAR_DIR / "demo-api-key.txt").read_text().strip()
    key = ApiKey.objects.get_from_key(raw)
    assert set(key.scopes) == {s.value for s in ApiScope}


@pytest.mark.django_db
def test_rerun_recreates_missing_users_only(demo, settings):
    User = get_user_model()
    User.objects.filter(username="viewer").delete()
    manager = User.objects.get(username="manager")
    manager.set_password("changed-by-the-manager")
    manager.save()
    call_command("load_demo", orders=ORDERS, skus=24, customers=40, stdout=StringIO())
    assert User.objects.get(username="viewer").check_password("viewer-demo-pass")
    assert User.objects.get(username="manager").check_password("changed-by-the-manager")
    assert Order.objects.count() == ORDERS + returns_demo.FRESH_ORDERS


@pytest.mark.django_db
def test_an_edited_order_and_a_cancelled_refunded_order(demo):
    from orders.payments.models import Refund

    edited = OrderEvent.objects.filter(kind=OrderEvent.Kind.EDITED).values_list(
        "order_id", flat=True
    )
    assert edited
    order = Order.objects.get(pk=edited[0])
    assert order.refunds.filter(source="edit").exists()
    assert order.payment_status == PaymentStatus.PARTIALLY_REFUNDED
    cancelled = Refund.objects.get(source="cancellation").order
    assert cancelled.status == OrderStatus.CANCELLED
    assert cancelled.payment_status == PaymentStatus.REFUNDED
    assert cancelled.events.filter(message__startswith="Cancellation: refunding").exists()
