"""Shipments: the warehouse flow from pick list to shipped and delivered, the order's own
ship action, external shipments, partial shipments; stock, order and trail move together."""

import pytest

from fulfillment import services
from fulfillment.carriers import TrackingStatus, TrackingUpdate
from fulfillment.models import Shipment, ShipmentEvent, ShipmentStatus
from inventory.models import MovementReason, StockLevel, StockMovement
from oms_site.actors import Actor
from oms_site.errors import Conflict
from orders import services as order_services
from orders.models import OrderStatus
from orders.signals import order_shipped
from tests import factories

from .conftest import SYSTEM, shelve

pytestmark = pytest.mark.django_db
SS = ShipmentStatus


def level(sku, warehouse):
    return StockLevel.objects.get(sku=sku, warehouse=warehouse)


def pick_everything(pick_list):
    """Scan every line's bin and units, as a picker would."""
    for line in pick_list.lines.order_by("pick_sequence", "bin_code", "id"):
        assert services.scan_pick(pick_list, code=line.bin_code, actor=SYSTEM).ok
        for _ in range(line.quantity):
            assert services.scan_pick(pick_list, code=line.sku.barcode, actor=SYSTEM).ok


def pack_everything(shipment):
    for line in shipment.lines.select_related("order_line__sku"):
        for _ in range(line.quantity):
            assert services.scan_pack(shipment, code=line.order_line.sku.barcode, actor=SYSTEM).ok
    return services.finish_packing(shipment, actor=SYSTEM)


def test_pick_pack_ship_moves_stock_order_and_trail(skus, berlin, place, own_courier, box):
    order = place(("TSHIRT-BLK-M", 2), ("MUG-WHT", 1))
    assert order.status == OrderStatus.ALLOCATED
    heard = []
    order_shipped.connect(lambda **kw: heard.append(kw), weak=False, dispatch_uid="t-heard")
    try:
        [pick_list] = services.create_pick_lists(warehouse=berlin, actor=SYSTEM)
        shipment = Shipment.objects.get(order=order)
        assert shipment.status == SS.PICKING
        # Lines walk the bins in pick sequence: A-01 (mug) before B-01 (shirt).
        assert [line.bin_code for line in pick_list.lines.all()] == ["A-01", "B-01"]
        pick_everything(pick_list)
        pick_list.refresh_from_db()
        assert pick_list.status == "done"

        shipment = pack_everything(shipment)
        assert shipment.status == SS.PACKED
        package = shipment.packages.get()
        assert package.weight_grams == 2 * 200 + 350 + 150  # items + box
        services.book_shipment(shipment, carrier=own_courier, actor=SYSTEM, tracking_number="OC-1")
        shipment = services.ship_shipment(shipment, actor=SYSTEM)
    finally:
        order_shipped.disconnect(dispatch_uid="t-heard")

    assert shipment.status == SS.SHIPPED
    assert shipment.tracking_number == "OC-1"
    assert shipment.tracking_url == "https://courier.example.com/t/OC-1"
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert level(skus["shirt"], berlin).on_hand == 18
    assert level(skus["shirt"], berlin).allocated == 0
    movement = StockMovement.objects.filter(reason=MovementReason.SHIPMENT).first()
    assert movement.reference == f"order:{order.number}"
    assert heard[0]["tracking_number"] == "OC-1"
    assert heard[0]["carrier"] == "Own courier"
    assert heard[0]["shipment_reference"] == shipment.number
    assert sum(u.quantity for u in heard[0]["units"]) == 3
    assert Shipment.objects.filter(order=order).count() == 1  # no extra "outside" shipment
    kinds = list(shipment.events.values_list("kind", flat=True))
    assert kinds[0] == ShipmentEvent.Kind.CREATED and "label" in kinds
    assert shipment.events.filter(to_status=SS.SHIPPED).exists()
    assert order.events.filter(message__contains=shipment.number).exists()


def test_the_orders_ship_action_records_a_shipment(skus, berlin, place, own_courier):
    order = place(("CAP-RED", 3))
    order = order_services.ship_order(order, actor=SYSTEM, carrier="own", tracking_number="X123")
    shipment = Shipment.objects.get(order=order)
    assert shipment.external and shipment.status == SS.SHIPPED
    assert shipment.carrier == own_courier  # matched by code
    assert shipment.tracking_number == "X123"
    assert shipment.warehouse == berlin
    assert list(shipment.lines.values_list("quantity", flat=True)) == [3]
    assert order.status == OrderStatus.SHIPPED


def test_ship_action_cancels_an_open_warehouse_shipment(skus, berlin, place):
    order = place(("CAP-RED", 1))
    services.create_pick_lists(warehouse=berlin, actor=SYSTEM)
    open_shipment = Shipment.objects.get(order=order)
    order_services.ship_order(order, actor=SYSTEM, carrier="DHL", tracking_number="J1")
    open_shipment.refresh_from_db()
    assert open_shipment.status == SS.CANCELLED
    assert Shipment.objects.get(order=order, status=SS.SHIPPED).carrier_name == "DHL"


def test_partial_shipments_from_two_warehouses(skus, berlin, leeds, place, own_courier):
    shelve(skus["mug"], leeds, 5, "L-01")
    # Berlin has only one mug left for this order: the rest comes from Leeds.
    factories.stock(skus["shirt"], berlin, 0)
    order = place(("MUG-WHT", 22))
    allocations = {a.warehouse.code: a.quantity for a in order.lines.get().allocations.all()}
    assert allocations == {"ber": 20, "lds": 2}
    [berlin_list] = services.create_pick_lists(warehouse=berlin, actor=SYSTEM)
    [leeds_list] = services.create_pick_lists(warehouse=leeds, actor=SYSTEM)
    berlin_shipment = Shipment.objects.get(order=order, warehouse=berlin)
    leeds_shipment = Shipment.objects.get(order=order, warehouse=leeds)

    pick_everything(leeds_list)
    pack_everything(leeds_shipment)
    services.book_shipment(leeds_shipment, carrier=own_courier, actor=SYSTEM)
    services.ship_shipment(leeds_shipment, actor=SYSTEM)
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_SHIPPED
    assert order.lines.get().quantity_shipped == 2

    pick_everything(berlin_list)
    pack_everything(berlin_shipment)
    services.book_shipment(berlin_shipment, carrier=own_courier, actor=SYSTEM)
    services.ship_shipment(berlin_shipment, actor=SYSTEM)
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED

    # Delivered only once both parcels are.
    t = order.placed_at
    update = TrackingUpdate("x", TrackingStatus.DELIVERED, "DELIVERED", "Delivered", t)
    services.apply_tracking_updates(leeds_shipment, [update], actor=SYSTEM)
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    services.mark_shipment_delivered(berlin_shipment, actor=SYSTEM)
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED


def test_shipping_needs_a_label_and_a_packed_shipment(skus, berlin, place, own_courier):
    order = place(("CAP-RED", 1))
    services.create_pick_lists(warehouse=berlin, actor=SYSTEM)
    shipment = Shipment.objects.get(order=order)
    with pytest.raises(Conflict):
        services.ship_shipment(shipment, actor=SYSTEM)
    with pytest.raises(Conflict):
        services.book_shipment(shipment, carrier=own_courier, actor=SYSTEM)
    assert level(skus["cap"], berlin).on_hand == 20


def test_external_shipment_for_some_lines(skus, berlin, place):
    order = place(("CAP-RED", 3), ("MUG-WHT", 1))
    cap_line = order.lines.get(sku_code="CAP-RED")
    shipment = services.create_external_shipment(
        order=order,
        actor=Actor.system("marketplace"),
        carrier_name="Amazon Logistics",
        tracking_number="TBA123",
        lines=[(cap_line.pk, 2)],
    )
    assert shipment.external and shipment.status == SS.SHIPPED
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_SHIPPED
    cap_line.refresh_from_db()
    assert (cap_line.quantity_shipped, cap_line.quantity_allocated) == (2, 1)
    with pytest.raises(Conflict):
        services.create_external_shipment(
            order=order, actor=SYSTEM, lines=[(cap_line.pk, 5)], tracking_number="Y"
        )


def test_cancelling_the_order_cancels_its_open_shipment(skus, berlin, place):
    order = place(("CAP-RED", 1))
    services.create_pick_lists(warehouse=berlin, actor=SYSTEM)
    order_services.cancel_order(order, actor=SYSTEM, reason="changed mind")
    shipment = Shipment.objects.get(order=order)
    assert shipment.status == SS.CANCELLED
    assert "cancelled" in shipment.events.last().message


def test_delivering_the_order_by_hand_delivers_its_shipments(skus, berlin, place):
    order = place(("CAP-RED", 1))
    order = order_services.ship_order(order, actor=SYSTEM)
    order_services.deliver_order(order, actor=SYSTEM)
    assert Shipment.objects.get(order=order).status == SS.DELIVERED


def test_tracking_updates_are_recorded_once_and_move_the_shipment(skus, berlin, place):
    order = place(("CAP-RED", 1))
    order_services.ship_order(order, actor=SYSTEM, carrier="Bring", tracking_number="70712345")
    shipment = Shipment.objects.get(order=order)
    t = order.placed_at
    updates = [
        TrackingUpdate("70712345", TrackingStatus.IN_TRANSIT, "IN_TRANSIT", "On its way", t),
        TrackingUpdate(
            "70712345", TrackingStatus.EXCEPTION, "ATTEMPTED_DELIVERY", "Nobody home", t
        ),
    ]
    assert services.apply_tracking_updates(shipment, updates, actor=SYSTEM) == 2
    assert services.apply_tracking_updates(shipment, updates, actor=SYSTEM) == 0
    shipment.refresh_from_db()
    assert shipment.status == SS.EXCEPTION
    assert shipment.events.filter(kind="tracking").count() == 2
