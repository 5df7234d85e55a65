"""Stock changes through inventory.stock: ledger rows, constraints, the audit."""

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from inventory import stock
from inventory.models import MovementReason, StockLevel, StockMovement
from oms_site.errors import InsufficientStock, ValidationFailed
from orders.audit import audit_stock

from ..factories import SKUFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


def level_of(sku, warehouse):
    return StockLevel.objects.get(sku=sku, warehouse=warehouse)


def test_receipt_writes_level_and_ledger(sku, warehouse, system_actor):
    movement = stock.receive(
        sku=sku, warehouse=warehouse, quantity=12, actor=system_actor, reference="PO-7"
    )
    assert level_of(sku, warehouse).on_hand == 12
    assert (movement.reason, movement.on_hand_change, movement.reference) == (
        MovementReason.RECEIPT,
        12,
        "PO-7",
    )
    assert movement.actor_label == "test"


def test_adjustment_needs_a_reason_and_cannot_go_below_allocated(sku, warehouse, system_actor):
    stock.receive(sku=sku, warehouse=warehouse, quantity=5, actor=system_actor)
    stock.allocate(sku=sku, warehouse=warehouse, quantity=4, reference="x", actor=system_actor)
    with pytest.raises(ValidationFailed):
        stock.adjust(sku=sku, warehouse=warehouse, change=-1, note="", actor=system_actor)
    with pytest.raises(InsufficientStock):
        stock.adjust(sku=sku, warehouse=warehouse, change=-2, note="broken", actor=system_actor)
    stock.adjust(sku=sku, warehouse=warehouse, change=-1, note="broken", actor=system_actor)
    assert (level_of(sku, warehouse).on_hand, level_of(sku, warehouse).allocated) == (4, 4)
    stock.deallocate(
        sku_id=sku.pk, warehouse_id=warehouse.pk, quantity=4, reference="x", actor=system_actor
    )


def test_allocation_beyond_available_is_refused_and_writes_nothing(sku, warehouse, system_actor):
    stock.receive(sku=sku, warehouse=warehouse, quantity=3, actor=system_actor)
    before = StockMovement.objects.count()
    with pytest.raises(InsufficientStock):
        stock.allocate(sku=sku, warehouse=warehouse, quantity=4, reference="o", actor=system_actor)
    assert StockMovement.objects.count() == before
    assert level_of(sku, warehouse).allocated == 0


def test_cycle_count_sets_on_hand_through_the_ledger(sku, warehouse, system_actor):
    stock.receive(sku=sku, warehouse=warehouse, quantity=10, actor=system_actor)
    movement = stock.count(sku=sku, warehouse=warehouse, counted=7, actor=system_actor)
    assert movement.on_hand_change == -3 and movement.reason == MovementReason.CYCLE_COUNT
    assert stock.count(sku=sku, warehouse=warehouse, counted=7, actor=system_actor) is None
    assert level_of(sku, warehouse).on_hand == 7


def test_transfer_moves_units_between_warehouses(sku, warehouse, system_actor):
    lyon = WarehouseFactory(code="lyo", city="Lyon", country="FR")
    stock.receive(sku=sku, warehouse=warehouse, quantity=10, actor=system_actor)
    stock.transfer(sku=sku, source=warehouse, destination=lyon, quantity=4, actor=system_actor)
    assert level_of(sku, warehouse).on_hand == 6
    assert level_of(sku, lyon).on_hand == 4
    with pytest.raises(InsufficientStock):
        stock.transfer(sku=sku, source=lyon, destination=warehouse, quantity=5, actor=system_actor)
    with pytest.raises(ValidationFailed):
        stock.transfer(sku=sku, source=lyon, destination=lyon, quantity=1, actor=system_actor)


@pytest.mark.parametrize("bad", [0, -1, 1.5, "3", True, None])
def test_quantities_must_be_positive_whole_numbers(sku, warehouse, system_actor, bad):
    with pytest.raises(ValidationFailed):
        stock.receive(sku=sku, warehouse=warehouse, quantity=bad, actor=system_actor)


def test_ledger_rows_are_immutable(sku, warehouse, system_actor):
    movement = stock.receive(sku=sku, warehouse=warehouse, quantity=1, actor=system_actor)
    movement.note = "changed"
    with pytest.raises(TypeError):
        movement.save()
    with pytest.raises(TypeError):
        StockMovement.objects.filter(pk=movement.pk).update(note="x")
    with pytest.raises(TypeError):
        StockMovement.objects.all().delete()


def test_database_refuses_allocated_above_on_hand(sku, warehouse, system_actor):
    stock.receive(sku=sku, warehouse=warehouse, quantity=1, actor=system_actor)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockLevel.objects.filter(sku=sku).update(allocated=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockLevel.objects.filter(sku=sku).update(on_hand=-1, allocated=0)


@pytest.mark.no_stock_audit
def test_audit_reports_a_level_that_disagrees_with_its_ledger(sku, warehouse, system_actor, capsys):
    stock.receive(sku=sku, warehouse=warehouse, quantity=5, actor=system_actor)
    call_command("oms_audit")
    assert "clean" in capsys.readouterr().out

    StockLevel.objects.filter(sku=sku).update(on_hand=6)  # someone bypassed the ledger
    mismatches = audit_stock()
    assert [m.what for m in mismatches] == ["on_hand vs ledger"]
    with pytest.raises(SystemExit) as exit_info:
        call_command("oms_audit")
    assert exit_info.value.code == 1
    assert (
        "MISMATCH stock: TSHIRT-BLK-M@ber: on_hand vs ledger is 6, expected 5"
        in capsys.readouterr().out
    )


@pytest.mark.no_stock_audit
def test_audit_reports_allocated_units_no_order_holds(sku, warehouse, system_actor):
    stock.receive(sku=sku, warehouse=warehouse, quantity=5, actor=system_actor)
    stock.allocate(sku=sku, warehouse=warehouse, quantity=2, reference="ghost", actor=system_actor)
    assert [m.what for m in audit_stock()] == ["allocated vs open allocations"]


def test_safety_stock_is_kept_back_by_routing(channel, warehouse, system_actor):
    from orders.services import place_order

    from ..helpers import order_payload

    sku = SKUFactory(code="SAFE-1")
    stock.receive(sku=sku, warehouse=warehouse, quantity=5, actor=system_actor)
    stock.set_safety_stock(sku=sku, warehouse=warehouse, safety_stock=4)
    body = order_payload(lines=(("SAFE-1", 2),))
    order = place_order(
        channel=channel,
        lines=body["lines"],
        shipping_address=body["shipping_address"],
        actor=system_actor,
    )
    assert order.status == "backordered"
    assert order.lines.get().quantity_allocated == 1
