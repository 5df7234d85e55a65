"""Pick lists: waves by rules, bin order, tote slots, scan-verified picking, short picks."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from fulfillment import services
from fulfillment.models import PickList, PickListLine, Shipment, ShipmentStatus
from fulfillment.services.picking import WaveRules, ship_by_date
from inventory.models import MovementReason, StockLevel, StockMovement
from oms_site.errors import Conflict, ValidationFailed
from orders.models import Order, OrderStatus

from .conftest import SYSTEM, shelve

pytestmark = pytest.mark.django_db


def test_a_wave_takes_the_most_urgent_orders_with_one_tote_slot_each(skus, berlin, place):
    orders = [place(("MUG-WHT", 1), ("CAP-RED", 1)) for _ in range(3)]
    [pick_list] = services.create_pick_lists(
        warehouse=berlin, actor=SYSTEM, rules=WaveRules(max_orders=2)
    )
    entries = list(pick_list.orders.order_by("tote_slot"))
    assert [e.tote_slot for e in entries] == [1, 2]
    assert [e.order_id for e in entries] == [orders[0].pk, orders[1].pk]  # oldest first
    assert pick_list.lines.count() == 4
    # The third order is not on a list yet; the first two can't be put on another one.
    [second] = services.create_pick_lists(warehouse=berlin, actor=SYSTEM)
    assert [e.order_id for e in second.orders.all()] == [orders[2].pk]
    assert services.create_pick_lists(warehouse=berlin, actor=SYSTEM) == []


def test_single_line_orders_go_together_and_lists_respect_max_lines(skus, berlin, place):
    single = [place(("MUG-WHT", 1)) for _ in range(3)]
    multi = [place(("MUG-WHT", 1), ("CAP-RED", 2), ("TSHIRT-BLK-M", 1)) for _ in range(2)]
    lists = services.create_pick_lists(
        warehouse=berlin,
        actor=SYSTEM,
        rules=WaveRules(max_orders=10, max_lines=4, max_lists=0, single_line_together=True),
    )
    contents = [sorted(e.order_id for e in pl.orders.all()) for pl in lists]
    assert sorted(o.pk for o in single) in contents
    assert [multi[0].pk] in contents and [multi[1].pk] in contents  # 3 lines each, max 4


def test_priority_and_cutoff_order_the_wave(skus, berlin, place):
    berlin.cutoff_time = time(15, 0)
    berlin.save()
    normal = place(("MUG-WHT", 1))
    express = place(("CAP-RED", 1), shipping_method="DHL Express")
    lists = services.create_pick_lists(
        warehouse=berlin, actor=SYSTEM, rules=WaveRules(priority_only=True)
    )
    assert [e.order_id for e in lists[0].orders.all()] == [express.pk]
    assert normal.pk not in [e.order_id for e in lists[0].orders.all()]
    late = timezone.make_aware(datetime.combine(timezone.localdate(), time(16, 30)))
    early = late.replace(hour=9)
    assert ship_by_date(late, berlin) == late.date() + timedelta(days=1)
    assert ship_by_date(early, berlin) == early.date()


def test_a_single_order_on_demand(skus, berlin, place):
    place(("MUG-WHT", 1))
    wanted = place(("CAP-RED", 1))
    [pick_list] = services.create_pick_lists(
        warehouse=berlin, actor=SYSTEM, rules=WaveRules(order_numbers=[wanted.number])
    )
    assert [e.order_id for e in pick_list.orders.all()] == [wanted.pk]
    with pytest.raises(Conflict):
        services.create_pick_lists(
            warehouse=berlin, actor=SYSTEM, rules=WaveRules(order_numbers=[wanted.number])
        )


def test_bad_rules_are_refused(skus, berlin):
    with pytest.raises(ValidationFailed):
        services.create_pick_lists(warehouse=berlin, actor=SYSTEM, rules=WaveRules(max_orders=0))


def test_a_wrong_bin_or_item_is_refused_and_nothing_is_recorded(skus, berlin, place):
    place(("MUG-WHT", 2), ("CAP-RED", 1))
    [pick_list] = services.create_pick_lists(warehouse=berlin, actor=SYSTEM)
    # First stop is A-01 (the mug). Scanning C-05 is the wrong bin.
    result = services.scan_pick(pick_list, code="C-05", actor=SYSTEM)
    assert not result.ok and "A-01" in result.message
    # An item before its bin is refused too.
    result = services.scan_pick(pick_list, code=skus["mug"].barcode, actor=SYSTEM)
    assert not result.ok and "A-01" in result.message
    assert services.scan_pick(pick_list, code="A-01", actor=SYSTEM).ok
    result = services.scan_pick(pick_list, code=skus["cap"].barcode, actor=SYSTEM)
    assert not result.ok  # the cap is picked at C-05, later
    result = services.scan_pick(pick_list, code="9999999999999", actor=SYSTEM)
    assert not result.ok
    assert sum(PickListLine.objects.values_list("quantity_picked", flat=True)) == 0
    # The right item counts up, by barcode or by SKU code.
    assert services.scan_pick(pick_list, code=skus["mug"].barcode, actor=SYSTEM).ok
    result = services.scan_pick(pick_list, code="mug-wht", actor=SYSTEM)
    assert result.ok and "2/2" in result.message
    pick_list.refresh_from_db()
    assert pick_list.status == "picking"


def test_short_pick_deallocates_writes_off_and_reroutes(skus, berlin, leeds, place):
    shelve(skus["mug"], leeds, 10, "L-01")
    leeds.ships_to_countries = []
    leeds.save()
    order = place(("MUG-WHT", 3))
    [pick_list] = services.create_pick_lists(warehouse=berlin, actor=SYSTEM)
    line = pick_list.lines.get()
    services.scan_pick(pick_list, code="A-01", actor=SYSTEM)
    services.scan_pick(pick_list, code=skus["mug"].barcode, actor=SYSTEM)
    services.short_pick(pick_list, line_id=line.pk, missing=2, actor=SYSTEM)

    line.refresh_from_db()
    assert (line.quantity_picked, line.quantity_short) == (1, 2)
    pick_list.refresh_from_db()
    assert pick_list.status == "done"
    berlin_level = StockLevel.objects.get(sku=skus["mug"], warehouse=berlin)
    assert (berlin_level.on_hand, berlin_level.allocated) == (18, 1)
    assert StockMovement.objects.filter(
        reason=MovementReason.DEALLOCATION, reference=f"order:{order.number}"
    ).exists()
    assert StockMovement.objects.filter(
        reason=MovementReason.ADJUSTMENT, note__contains="Short pick at ber/A-01"
    ).exists()
    shipment = Shipment.objects.get(order=order, warehouse=berlin)
    assert shipment.lines.get().quantity == 1
    order = Order.objects.get(pk=order.pk)
    # Berlin's count just proved wrong: the 2 missing units come from Leeds.
    assert order.status == OrderStatus.ALLOCATED
    allocations = {a.warehouse.code: a.quantity for a in order.lines.get().allocations.all()}
    assert allocations == {"ber": 1, "lds": 2}
    assert order.events.filter(message__contains="Short pick: 2 x MUG-WHT").exists()


def test_short_pick_of_everything_cancels_the_shipment_and_backorders(skus, berlin, place):
    order = place(("CAP-RED", 20))  # every cap Berlin has
    [pick_list] = services.create_pick_lists(warehouse=berlin, actor=SYSTEM)
    line = pick_list.lines.get()
    services.short_pick(pick_list, line_id=line.pk, missing=20, actor=SYSTEM)
    shipment = Shipment.objects.get(order=order)
    assert shipment.status == ShipmentStatus.CANCELLED
    order.refresh_from_db()
    assert order.status == OrderStatus.BACKORDERED
    with pytest.raises(Conflict):  # the list is done: nothing left to report
        services.short_pick(pick_list, line_id=line.pk, missing=1, actor=SYSTEM)


def test_cancelling_a_pick_list_frees_its_orders(skus, berlin, place):
    order = place(("CAP-RED", 1))
    [pick_list] = services.create_pick_lists(warehouse=berlin, actor=SYSTEM)
    services.cancel_pick_list(pick_list, actor=SYSTEM)
    assert PickList.objects.get(pk=pick_list.pk).status == "cancelled"
    [again] = services.create_pick_lists(warehouse=berlin, actor=SYSTEM)
    assert again.orders.get().order_id == order.pk


def test_lines_of_a_cancelled_order_drop_off_the_pick_screen(skus, berlin, place):
    from orders import services as order_services

    keep = place(("MUG-WHT", 1))
    drop = place(("CAP-RED", 1))
    [pick_list] = services.create_pick_lists(warehouse=berlin, actor=SYSTEM)
    order_services.cancel_order(drop, actor=SYSTEM)
    services.scan_pick(pick_list, code="A-01", actor=SYSTEM)
    result = services.scan_pick(pick_list, code=skus["mug"].barcode, actor=SYSTEM)
    assert result.done
    assert Shipment.objects.get(order=keep).status == ShipmentStatus.PICKING


def test_an_order_on_a_list_nobody_started_can_still_be_edited(skus, berlin, place):
    from orders import services as order_services

    order = place(("MUG-WHT", 1))
    [pick_list] = services.create_pick_lists(warehouse=berlin, actor=SYSTEM)
    line = order.lines.get()
    order_services.edit_order(order, lines=[{"line": line.pk, "quantity": 2}], actor=SYSTEM)
    # The edit took the units off the list (its shipment is cancelled) and routed again.
    assert Shipment.objects.get(order=order, pick_list_entry__pick_list=pick_list).status == (
        ShipmentStatus.CANCELLED
    )
    assert Order.objects.get(pk=order.pk).picking_started_at is None
    # Scanning the list now does not mark the order: nothing of it is on the list.
    services.scan_pick(pick_list, code="A-01", actor=SYSTEM)
    assert Order.objects.get(pk=order.pk).picking_started_at is None


def test_the_first_scan_starts_picking_and_ends_editing_until_the_list_is_given_up(
    skus, berlin, place
):
    from orders import services as order_services
    from orders.services.editing import NotEditable

    order = place(("MUG-WHT", 1), ("CAP-RED", 1))
    [pick_list] = services.create_pick_lists(warehouse=berlin, actor=SYSTEM)
    services.scan_pick(pick_list, code="A-01", actor=SYSTEM)
    order = Order.objects.get(pk=order.pk)
    assert order.picking_started_at is not None
    assert order.events.filter(message__startswith=f"Picking started on {pick_list.number}")
    with pytest.raises(NotEditable) as refused:
        order_services.edit_order(
            order, lines=[{"sku": "TSHIRT-BLK-M", "quantity": 1}], actor=SYSTEM
        )
    assert "Picking" in refused.value.message
    services.cancel_pick_list(pick_list, actor=SYSTEM)
    order = Order.objects.get(pk=order.pk)
    assert order.picking_started_at is None
    order_services.edit_order(order, lines=[{"sku": "TSHIRT-BLK-M", "quantity": 1}], actor=SYSTEM)
    assert order.lines.count() == 3
