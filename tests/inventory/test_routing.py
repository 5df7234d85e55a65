"""The routing engine is a pure function: these tests need no database."""

from inventory.routing import (
    Destination,
    RouteLine,
    RoutingConfig,
    StockSnapshot,
    WarehouseInfo,
    great_circle_km,
    route,
)

BERLIN = WarehouseInfo(1, "ber", 52.52, 13.405, rank=20)
LYON = WarehouseInfo(2, "lyo", 45.764, 4.8357, rank=10)
LEEDS = WarehouseInfo(3, "lds", 53.8008, -1.5491, rank=30, ships_to_countries=("GB", "IE"))
MUNICH = Destination("DE", 48.137, 11.575)
PARIS = Destination("FR", 48.8566, 2.3522)

SKU_A, SKU_B = 100, 200


def snapshot(available, dropship=None):
    return StockSnapshot(
        available=available,
        warehouses=[BERLIN, LYON, LEEDS],
        dropship_suppliers=dropship or {},
    )


def test_great_circle_distance_berlin_paris():
    assert 870 < great_circle_km(52.52, 13.405, 48.8566, 2.3522) < 890


def test_ship_complete_beats_closer_partial_warehouse():
    lines = [RouteLine(1, SKU_A, 1), RouteLine(2, SKU_B, 1)]
    stock = {(1, SKU_A): 5, (2, SKU_A): 5, (2, SKU_B): 5}
    decision = route(lines, MUNICH, snapshot(stock), RoutingConfig())

    assert decision.warehouse_ids == {2}
    assert decision.decided_by == "ship_complete"
    assert decision.backordered == {}


def test_closest_decides_between_complete_warehouses():
    lines = [RouteLine(1, SKU_A, 2)]
    stock = {(1, SKU_A): 5, (2, SKU_A): 5}
    assert route(lines, MUNICH, snapshot(stock), RoutingConfig()).warehouse_ids == {1}
    decision = route(lines, PARIS, snapshot(stock), RoutingConfig())
    assert decision.warehouse_ids == {2}
    assert decision.decided_by == "closest"


def test_rank_decides_when_merchant_puts_it_first():
    lines = [RouteLine(1, SKU_A, 1)]
    stock = {(1, SKU_A): 5, (2, SKU_A): 5}
    config = RoutingConfig(rule_chain=("rank", "closest"))
    decision = route(lines, MUNICH, snapshot(stock), config)
    assert decision.warehouse_ids == {2}
    assert decision.decided_by == "rank"


def test_countries_served_filter_out_warehouses():
    lines = [RouteLine(1, SKU_A, 1)]
    decision = route(lines, MUNICH, snapshot({(3, SKU_A): 5}), RoutingConfig())
    assert decision.assignments == []
    assert decision.backordered == {1: 1}
    leeds = next(c for c in decision.candidates if c["warehouse"] == "lds")
    assert leeds["eligible"] is False and "does not ship to DE" in leeds["reason"]


def test_split_uses_fewest_warehouses_and_backorders_the_rest():
    lines = [RouteLine(1, SKU_A, 4), RouteLine(2, SKU_B, 3)]
    stock = {(1, SKU_A): 4, (2, SKU_B): 2, (2, SKU_A): 1}
    decision = route(lines, MUNICH, snapshot(stock), RoutingConfig())

    by_wh = {(a.line_key, a.warehouse_id): a.quantity for a in decision.assignments}
    assert by_wh == {(1, 1): 4, (2, 2): 2}
    assert decision.backordered == {2: 1}
    assert "backordered" in decision.explanation


def test_no_split_keeps_to_one_warehouse():
    lines = [RouteLine(1, SKU_A, 1), RouteLine(2, SKU_B, 1)]
    stock = {(1, SKU_A): 1, (2, SKU_B): 1}
    decision = route(lines, MUNICH, snapshot(stock), RoutingConfig(allow_split=False))
    assert len(decision.warehouse_ids) == 1
    assert sum(decision.backordered.values()) == 1


def test_dropship_supplier_takes_what_no_warehouse_can():
    lines = [RouteLine(1, SKU_A, 3)]
    decision = route(
        lines, MUNICH, snapshot({(1, SKU_A): 1}, dropship={SKU_A: (9, "acme")}), RoutingConfig()
    )
    sources = {(a.warehouse_id, a.supplier_id): a.quantity for a in decision.assignments}
    assert sources == {(1, None): 1, (None, 9): 2}
    assert decision.backordered == {}
    assert any(p.get("supplier") == "acme" for p in decision.picks)


def test_manual_choice_overrides_rules():
    lines = [RouteLine(1, SKU_A, 2)]
    stock = {(1, SKU_A): 5, (2, SKU_A): 1}
    decision = route(lines, MUNICH, snapshot(stock), RoutingConfig(), manual_warehouse_id=2)
    assert decision.warehouse_ids == {2}
    assert decision.decided_by == "manual"
    assert decision.backordered == {1: 1}


def test_two_lines_of_the_same_sku_share_the_stock():
    lines = [RouteLine(1, SKU_A, 2), RouteLine(2, SKU_A, 2)]
    decision = route(lines, MUNICH, snapshot({(1, SKU_A): 3}), RoutingConfig())
    assert sum(a.quantity for a in decision.assignments) == 3
    assert decision.backordered == {2: 1}


def test_unknown_destination_falls_through_to_rank():
    lines = [RouteLine(1, SKU_A, 1)]
    stock = {(1, SKU_A): 5, (2, SKU_A): 5}
    decision = route(lines, Destination("DE"), snapshot(stock), RoutingConfig())
    assert decision.warehouse_ids == {2}
    assert decision.decided_by == "rank"


def test_decision_is_explained_for_people():
    lines = [RouteLine(1, SKU_A, 1)]
    decision = route(lines, MUNICH, snapshot({(1, SKU_A): 5, (2, SKU_A): 5}), RoutingConfig())
    data = decision.as_dict()
    assert data["decided_by"] == "closest"
    assert {c["warehouse"] for c in data["candidates"]} == {"ber", "lyo", "lds"}
    berlin = next(c for c in data["candidates"] if c["warehouse"] == "ber")
    assert berlin["units_available"] == 1 and berlin["ships_complete"] is True
    assert berlin["distance_km"] < 600
    assert "1 unit(s) from ber (closest to the delivery address)" in data["explanation"]
