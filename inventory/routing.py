"""The routing engine: which warehouse ships which line.

``route()`` is a pure function over a stock snapshot: no database, no clock. The caller
(``orders.services.allocation``) locks the stock rows, builds the snapshot, calls it,
applies the result and stores the explanation on the order.

The merchant orders the rules; for each pick, candidates are compared rule by rule and the
first rule on which the winner beats the runner-up is recorded as the rule that decided.
Rules:

- ship_complete: a warehouse that can ship everything still needed beats one that can't;
  among partial ones, more units beat fewer (greedy set cover: fewest splits).
- closest: shorter great-circle distance to the delivery address.
- rank: the merchant's warehouse rank (lower first).
- most_available: more of the needed units on the shelf.

Countries served are a filter, not a rule; safety stock is subtracted by the snapshot's
builder when the merchant keeps it back. Units no warehouse can ship go to a drop-ship
supplier when one is allowed, and the rest are backordered.
"""

import math
from collections import OrderedDict
from dataclasses import dataclass, field

from .models import RoutingRule

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class WarehouseInfo:
    id: int
    code: str
    latitude: float | None
    longitude: float | None
    rank: int
    ships_to_countries: tuple = ()
    active: bool = True

    def ships_to(self, country: str) -> bool:
        return not self.ships_to_countries or country in self.ships_to_countries


@dataclass(frozen=True)
class RouteLine:
    key: int  # the order line's id (or any stable key)
    sku_id: int
    quantity: int


@dataclass(frozen=True)
class Destination:
    country: str
    latitude: float | None = None
    longitude: float | None = None


@dataclass
class StockSnapshot:
    # (warehouse_id, sku_id) -> units routing may use (safety stock already subtracted)
    available: dict
    warehouses: list
    # sku_id -> (supplier_id, supplier_code) for SKUs a supplier drop-ships
    dropship_suppliers: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RoutingConfig:
    rule_chain: tuple = tuple(r.value for r in RoutingRule)
    allow_split: bool = True
    allow_dropship: bool = True


@dataclass(frozen=True)
class Assignment:
    line_key: int
    sku_id: int
    quantity: int
    warehouse_id: int | None = None
    supplier_id: int | None = None


@dataclass
class RoutingDecision:
    assignments: list
    backordered: dict  # line_key -> units
    candidates: list  # per warehouse: scores and eligibility, for people to read
    decided_by: str
    explanation: str
    picks: list  # [{"warehouse": code, "decided_by": rule, "units": n}]

    @property
    def warehouse_ids(self) -> set:
        return {a.warehouse_id for a in self.assignments if a.warehouse_id is not None}

    def as_dict(self) -> dict:
        return {
            "decided_by": self.decided_by,
            "explanation": self.explanation,
            "candidates": self.candidates,
            "picks": self.picks,
            "assignments": [
                {
                    "line": a.line_key,
                    "sku_id": a.sku_id,
                    "quantity": a.quantity,
                    "warehouse_id": a.warehouse_id,
                    "supplier_id": a.supplier_id,
                }
                for a in self.assignments
            ],
            "backordered": {str(k): v for k, v in self.backordered.items()},
        }


def great_circle_km(lat1, lon1, lat2, lon2) -> float | None:
    if None in (lat1, lon1, lat2, lon2):
        return None
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _needs(lines) -> "OrderedDict[int, int]":
    needs: OrderedDict[int, int] = OrderedDict()
    for line in lines:
        needs[line.sku_id] = needs.get(line.sku_id, 0) + line.quantity
    return needs


def _coverable(wh_id, needs, available) -> int:
    return sum(min(max(available.get((wh_id, sku), 0), 0), qty) for sku, qty in needs.items())


def _rule_value(rule, wh, coverable, needed, distances):
    """How ``wh`` ranks by ``rule`` (lower is better); ``coverable`` of the ``needed``
    units are in stock there."""
    if rule == RoutingRule.SHIP_COMPLETE:
        complete = coverable == needed
        return (0 if complete else 1, -coverable)
    if rule == RoutingRule.CLOSEST:
        distance = distances.get(wh.id)
        return math.inf if distance is None else round(distance, 1)
    if rule == RoutingRule.RANK:
        return wh.rank
    if rule == RoutingRule.MOST_AVAILABLE:
        return -coverable
    raise ValueError(f"unknown routing rule {rule!r}")


def _pick(candidates, needs, available, distances, chain):
    """The best candidate for what is still needed, and the rule that decided."""
    keyed = []
    needed = sum(needs.values())
    for wh in candidates:
        coverable = _coverable(wh.id, needs, available)  # once, not once per rule
        if coverable <= 0:
            continue
        key = tuple(_rule_value(rule, wh, coverable, needed, distances) for rule in chain)
        keyed.append((key + (wh.code,), wh))
    if not keyed:
        return None, None
    keyed.sort(key=lambda item: item[0])
    winner_key, winner = keyed[0]
    if len(keyed) == 1:
        return winner, "only_candidate"
    runner_key = keyed[1][0]
    for index, rule in enumerate(chain):
        if winner_key[index] != runner_key[index]:
            return winner, rule
    return winner, "warehouse_code"


def route(
    lines,
    destination: Destination,
    snapshot: StockSnapshot,
    config: RoutingConfig,
    *,
    manual_warehouse_id: int | None = None,
) -> RoutingDecision:
    lines = [line for line in lines if line.quantity > 0]
    needs = _needs(lines)
    total_units = sum(needs.values())
    # This order's SKUs only: the snapshot holds a whole batch's (a marketplace page's
    # hundred orders share one), and only these are read or taken from below.
    available = {
        key: snapshot.available[key]
        for wh in snapshot.warehouses
        for sku in needs
        if (key := (wh.id, sku)) in snapshot.available
    }
    distances = {
        wh.id: great_circle_km(
            wh.latitude, wh.longitude, destination.latitude, destination.longitude
        )
        for wh in snapshot.warehouses
    }

    candidates_out, eligible = [], []
    for wh in sorted(snapshot.warehouses, key=lambda w: (w.rank, w.code)):
        reason = ""
        if manual_warehouse_id is not None and wh.id != manual_warehouse_id:
            reason = "not the chosen warehouse"
        elif not wh.active:
            reason = "inactive"
        elif manual_warehouse_id is None and not wh.ships_to(destination.country):
            reason = f"does not ship to {destination.country}"
        coverable = _coverable(wh.id, needs, available)
        distance = distances.get(wh.id)
        candidates_out.append(
            {
                "warehouse": wh.code,
                "warehouse_id": wh.id,
                "eligible": not reason,
                "reason": reason,
                "units_available": coverable,
                "ships_complete": coverable == total_units and total_units > 0,
                "distance_km": None if distance is None else round(distance, 1),
                "rank": wh.rank,
            }
        )
        if not reason:
            eligible.append(wh)

    chain = tuple(config.rule_chain) or tuple(r.value for r in RoutingRule)
    remaining = OrderedDict(needs)
    sku_assignments = []  # (sku_id, warehouse_id, units)
    picks = []
    first_rule = None
    pool = list(eligible)
    while pool and sum(remaining.values()) > 0:
        winner, rule = _pick(pool, remaining, available, distances, chain)
        if winner is None:
            break
        if manual_warehouse_id is not None:
            rule = "manual"
        first_rule = first_rule or rule
        units_here = 0
        for sku_id, qty in remaining.items():
            take = min(max(available.get((winner.id, sku_id), 0), 0), qty)
            if take:
                sku_assignments.append((sku_id, winner.id, take))
                available[(winner.id, sku_id)] -= take
                remaining[sku_id] = qty - take
                units_here += take
        picks.append({"warehouse": winner.code, "decided_by": rule, "units": units_here})
        pool.remove(winner)
        if not config.allow_split or manual_warehouse_id is not None:
            break

    dropship = []  # (sku_id, supplier_id, units)
    if config.allow_dropship and manual_warehouse_id is None:
        for sku_id, qty in remaining.items():
            supplier = snapshot.dropship_suppliers.get(sku_id)
            if qty and supplier:
                dropship.append((sku_id, supplier[0], qty))
                picks.append({"supplier": supplier[1], "decided_by": "dropship", "units": qty})
                remaining[sku_id] = 0
                first_rule = first_rule or "dropship"

    assignments, backordered = _assign_to_lines(lines, sku_assignments, dropship, remaining)
    decided_by = first_rule or "backordered"
    return RoutingDecision(
        assignments=assignments,
        backordered=backordered,
        candidates=candidates_out,
        decided_by=decided_by,
        explanation=_explain(picks, backordered, total_units),
        picks=picks,
    )


def _assign_to_lines(lines, sku_assignments, dropship, remaining):
    """Spread SKU-level results over the order's lines, in line order."""
    pools = {}
    for sku_id, wh_id, units in sku_assignments:
        pools.setdefault(sku_id, []).append(["warehouse", wh_id, units])
    for sku_id, supplier_id, units in dropship:
        pools.setdefault(sku_id, []).append(["supplier", supplier_id, units])
    assignments, backordered = [], {}
    for line in lines:
        still = line.quantity
        for source in pools.get(line.sku_id, []):
            if still == 0:
                break
            take = min(source[2], still)
            if take == 0:
                continue
            source[2] -= take
            still -= take
            if source[0] == "warehouse":
                assignments.append(Assignment(line.key, line.sku_id, take, warehouse_id=source[1]))
            else:
                assignments.append(Assignment(line.key, line.sku_id, take, supplier_id=source[1]))
        if still:
            backordered[line.key] = still
    return assignments, backordered


# What each rule code means, in words a merchant reads on the order page and in the trail.
RULE_DESCRIPTIONS = {
    "ship_complete": "ships everything still needed from one place",
    "closest": "closest to the delivery address",
    "rank": "the best-ranked warehouse",
    "most_available": "the most units available",
    "manual": "chosen by hand",
    "dropship": "drop-shipped by the supplier",
    "backordered": "nothing in stock anywhere: backordered",
}


def describe_rule(code: str) -> str:
    return RULE_DESCRIPTIONS.get(code, code.replace("_", " "))


def _explain(picks, backordered, total_units) -> str:
    if not picks:
        return f"No warehouse can ship any of the {total_units} units: all backordered."
    parts = []
    for pick in picks:
        place = pick.get("warehouse") or f"supplier {pick.get('supplier')}"
        parts.append(f"{pick['units']} unit(s) from {place} ({describe_rule(pick['decided_by'])})")
    text = "; ".join(parts)
    waiting = sum(backordered.values())
    if waiting:
        text += f"; {waiting} unit(s) backordered"
    return text + "."
