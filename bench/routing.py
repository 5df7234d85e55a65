"""Routing and allocation: throughput, contention on one hot SKU, and routing quality.

(a) Orders placed in-process through ``orders.services.place_order`` (validation, customer,
    routing, stock locks, allocation, ledger, events, outbox) by a few threads, against
    the same orders created as drafts (everything but routing and allocation).
(b) 64 concurrent clients, each its own database connection, place 1-unit orders for ONE
    SKU with limited stock; then the same number of orders spread over 64 SKUs. Oversold
    units (allocated beyond on hand) must be 0 and every level must equal its ledger.
(c) Routing quality on demo-like stock (pure function, no database writes): our engine
    (``inventory.routing.route``, default rule chain) against a naive router ("first
    warehouse by rank that has the stock, line by line").
"""

import math
import random
import threading
import time
from collections import defaultdict

from django.db import connection
from django.db.models import Sum

from demo import world as demo_world
from demo.reference_data import WAREHOUSES as DEMO_WAREHOUSES
from inventory import geocoding, stock
from inventory import routing as engine
from inventory.models import DEFAULT_RULE_CHAIN, StockLevel, StockMovement, Warehouse
from oms_site.actors import Actor
from orders.models import Allocation, OrderStatus
from orders.services import place_order

from . import data
from .common import header, mean, percentile, ratio

ACTOR = Actor.system("bench")


def _address(index):
    spec = demo_world.customer_spec(index)
    return spec["address"] | {"phone": ""}, spec


def _place(channel, external_id, lines, address, email, name, draft=False):
    return place_order(
        channel=channel,
        lines=lines,
        shipping_address=address,
        customer={"email": email, "name": name},
        external_id=external_id,
        actor=ACTOR,
        draft=draft,
    )


def _threaded(count, threads, work, *, max_seconds=None):
    """Run work(index) for index in range(count) on ``threads`` threads, each with its own
    database connection (closed at the end); no new work starts after ``max_seconds``.
    Returns (seconds, results, errors)."""
    counter = iter(range(count))
    lock = threading.Lock()
    results, errors = [], []
    deadline = time.perf_counter() + max_seconds if max_seconds else None

    def worker():
        try:
            while True:
                with lock:
                    index = next(counter, None)
                if index is None or (deadline and time.perf_counter() > deadline):
                    break
                started = time.perf_counter()
                try:
                    outcome = work(index)
                except Exception as exc:  # reported, not raised: the benchmark goes on
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}"[:200])
                    continue
                with lock:
                    results.append((outcome, time.perf_counter() - started))
        finally:
            connection.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    started = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return time.perf_counter() - started, results, errors


# --- (a) throughput ------------------------------------------------------------------------


def throughput(orders: int, threads: int, max_seconds=None):
    cap = f", each run stops after {max_seconds:.0f} s" if max_seconds else ""
    print(f"  (a) {orders:,} orders, 1-4 lines, 9 countries, {threads} threads in-process{cap}")
    data.ensure_places()
    skus = data.ensure_skus("BENCH-RT", 200)
    per_sku = orders * 2 * 2 // len(skus) + 20  # both runs, ~2 units per order line
    started = time.monotonic()
    data.stock_up(skus, ["ber", "lyo", "lds", "ewr"], at_least=per_sku, fill_to=per_sku * 2)
    print(f"      stock checked/received in {time.monotonic() - started:.1f} s", flush=True)
    channel = data.web_channel()
    codes = [s.code for s in skus]
    run_id = f"{int(time.time())}"
    plans = []
    rng = random.Random(5)
    for i in range(orders):
        address, spec = _address(i % 600)
        n = rng.choices([1, 2, 3, 4], [45, 30, 17, 8])[0]
        lines = [{"sku": c, "quantity": rng.choice([1, 1, 1, 2])} for c in rng.sample(codes, n)]
        plans.append((address, spec["name"], lines))

    def work(draft, tag):
        def run(index):
            address, name, lines = plans[index]
            order = _place(
                channel,
                f"rt-{run_id}-{tag}-{index}",
                lines,
                address,
                f"rt.{index % 600}@example.com",
                name,
                draft=draft,
            )
            return order.status

        return run

    draft_s, draft_results, draft_errors = _threaded(
        orders, threads, work(True, "d"), max_seconds=max_seconds and max_seconds / 3
    )
    draft_rate = len(draft_results) / draft_s
    print(
        f"      drafts (no routing):        {draft_rate:8.1f} orders/s   "
        f"p50 {percentile([r[1] for r in draft_results], 0.5) * 1000:6.1f} ms   "
        f"({len(draft_results):,} orders)",
        flush=True,
    )
    routed_s, routed_results, routed_errors = _threaded(
        orders, threads, work(False, "r"), max_seconds=max_seconds
    )
    routed_rate = len(routed_results) / routed_s
    statuses = defaultdict(int)
    for status, _ in routed_results:
        statuses[status] += 1
    print(
        f"      placed + routed + allocated:{routed_rate:8.1f} orders/s   "
        f"p50 {percentile([r[1] for r in routed_results], 0.5) * 1000:6.1f} ms   "
        f"p99 {percentile([r[1] for r in routed_results], 0.99) * 1000:6.1f} ms   "
        f"({len(routed_results):,} orders: "
        + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
        + ")",
        flush=True,
    )
    print(f"      ratio routed / draft: {ratio(routed_rate, draft_rate)}")
    for label, errors in (("draft", draft_errors), ("routed", routed_errors)):
        if errors:
            print(f"      {label}: {len(errors)} error(s), first: {errors[0]}")
    return {"draft": draft_rate, "routed": routed_rate}


# --- (b) hot SKU -----------------------------------------------------------------------------


def _ledger_mismatches(sku_ids) -> int:
    ledger = {
        (r["sku_id"], r["warehouse_id"]): (r["o"], r["a"])
        for r in StockMovement.objects.filter(sku_id__in=sku_ids)
        .values("sku_id", "warehouse_id")
        .annotate(o=Sum("on_hand_change"), a=Sum("allocated_change"))
    }
    bad = 0
    for level in StockLevel.objects.filter(sku_id__in=sku_ids):
        if ledger.get((level.sku_id, level.warehouse_id), (0, 0)) != (
            level.on_hand,
            level.allocated,
        ):
            bad += 1
    return bad


def hot_sku(attempts: int, units: int, clients: int):
    print(
        f"  (b) {clients} concurrent clients, {attempts} one-unit orders: ONE SKU with {units} "
        f"units vs {clients} SKUs"
    )
    data.ensure_places()
    channel = data.web_channel()
    berlin = Warehouse.objects.get(code="ber")
    run_id = f"{int(time.time())}"
    hot = data.ensure_skus(f"BENCH-HOT-{run_id}", 1)[0]
    stock.receive(sku=hot, warehouse=berlin, quantity=units, actor=ACTOR, reference="bench-hot")
    spread = data.ensure_skus("BENCH-SPREAD", clients)
    per_sku = attempts // clients + 5
    data.stock_up(spread, ["ber"], at_least=per_sku, fill_to=per_sku * 4)
    address = {
        "name": "Erika Mustermann",
        "line1": "Invalidenstraße 117",
        "city": "Berlin",
        "postal_code": "10115",
        "country": "DE",
    }

    def work(codes, tag):
        def run(index):
            code = codes[index % len(codes)]
            order = _place(
                channel,
                f"hot-{run_id}-{tag}-{index}",
                [{"sku": code, "quantity": 1}],
                address,
                f"hot.{index % 200}@example.com",
                "Erika Mustermann",
            )
            return order.status

        return run

    hot_s, hot_results, hot_errors = _threaded(attempts, clients, work([hot.code], "h"))
    spread_s, spread_results, spread_errors = _threaded(
        attempts, clients, work([s.code for s in spread], "s")
    )

    level = StockLevel.objects.get(sku=hot, warehouse=berlin)
    promised = (
        Allocation.objects.filter(line__sku=hot, warehouse__isnull=False).aggregate(
            units=Sum("quantity")
        )["units"]
        or 0
    )
    oversold = max(0, promised - level.on_hand) + max(0, level.allocated - level.on_hand)
    allocated_orders = sum(1 for status, _ in hot_results if status == OrderStatus.ALLOCATED)
    backordered = sum(1 for status, _ in hot_results if status == OrderStatus.BACKORDERED)
    mismatches = _ledger_mismatches([hot.pk] + [s.pk for s in spread])
    hot_rate, spread_rate = len(hot_results) / hot_s, len(spread_results) / spread_s
    hot_p99 = percentile([r[1] for r in hot_results], 0.99) * 1000
    spread_p99 = percentile([r[1] for r in spread_results], 0.99) * 1000
    print(
        f"      one hot SKU:   {hot_rate:8.1f} orders/s   p99 {hot_p99:7.1f} ms   "
        f"allocated {allocated_orders}, backordered {backordered}, errors {len(hot_errors)}"
    )
    print(
        f"      {clients} SKUs:       {spread_rate:8.1f} orders/s   p99 {spread_p99:7.1f} ms   "
        f"errors {len(spread_errors)}"
    )
    print(f"      ratio hot / spread: {ratio(hot_rate, spread_rate)}")
    print(
        f"      oversold units: {oversold}  (on hand {level.on_hand}, allocated "
        f"{level.allocated}, order allocations {promised}); levels != ledger: {mismatches}"
    )
    for label, errors in (("hot", hot_errors), ("spread", spread_errors)):
        if errors:
            print(f"      {label}: first error: {errors[0]}")
    return {"hot": hot_rate, "spread": spread_rate, "oversold": oversold, "mismatch": mismatches}


# --- (c) routing quality ---------------------------------------------------------------------


def _demo_snapshot(rng, sku_count=200):
    warehouses = [
        engine.WarehouseInfo(
            id=i + 1,
            code=spec["code"],
            latitude=spec["latitude"],
            longitude=spec["longitude"],
            rank=spec["rank"],
            ships_to_countries=tuple(spec["ships_to_countries"]),
        )
        for i, spec in enumerate(DEMO_WAREHOUSES)
    ]
    by_code = {w.code: w.id for w in warehouses}
    available = {}
    for sku in range(1, sku_count + 1):
        eu = ["ber", "lyo"] if rng.random() < 0.7 else [rng.choice(["ber", "lyo"])]
        wanted = ["lds", "ewr", *eu]
        for code in wanted:
            free = 0 if rng.random() < 0.08 else int(rng.lognormvariate(3.6, 0.9)) + 1
            available[(by_code[code], sku)] = free
    return warehouses, available


def _naive(lines, destination, warehouses, available):
    """Line by line: the first warehouse by rank that ships there and has stock."""
    assignments, waiting = [], 0
    ranked = sorted(warehouses, key=lambda w: (w.rank, w.code))
    for line in lines:
        need = line.quantity
        for wh in ranked:
            if need == 0:
                break
            if not wh.ships_to(destination.country):
                continue
            take = min(need, max(available.get((wh.id, line.sku_id), 0), 0))
            if take:
                assignments.append((wh.id, line.sku_id, take))
                available[(wh.id, line.sku_id)] -= take
                need -= take
        waiting += need
    return assignments, waiting


def quality(orders: int):
    print(f"  (c) routing quality, {orders} demo-like orders (1-4 lines, 9 countries)")
    rng = random.Random(17)
    warehouses, available = _demo_snapshot(rng)
    by_id = {w.id: w for w in warehouses}
    sku_ids = sorted({sku for _, sku in available})
    weights = [1.0 / (rank + 3) ** 0.8 for rank in range(len(sku_ids))]
    rng.shuffle(weights)
    stocks = {"engine": dict(available), "naive": dict(available)}
    config = engine.RoutingConfig(rule_chain=tuple(DEFAULT_RULE_CHAIN))
    stats = {
        name: {"orders": 0, "split": 0, "parcels": [], "km": [], "waiting": 0, "units": 0}
        for name in stocks
    }
    engine_seconds = 0.0
    geo = {}
    for i in range(orders):
        spec = demo_world.customer_spec(i)
        country, city = spec["country"], spec["address"]["city"]
        if (country, city) not in geo:
            geo[(country, city)] = geocoding.locate(country, city)
        where = geo[(country, city)]
        destination = engine.Destination(country, where.latitude, where.longitude)
        n = rng.choices([1, 2, 3, 4], [45, 30, 17, 8])[0]
        chosen = []
        while len(chosen) < n:
            sku = rng.choices(sku_ids, weights)[0]
            if sku not in chosen:
                chosen.append(sku)
        lines = [
            engine.RouteLine(key=k, sku_id=sku, quantity=rng.choices([1, 2, 3], [80, 15, 5])[0])
            for k, sku in enumerate(chosen)
        ]
        snapshot = engine.StockSnapshot(available=stocks["engine"], warehouses=warehouses)
        started = time.perf_counter()
        decision = engine.route(lines, destination, snapshot, config)
        engine_seconds += time.perf_counter() - started
        engine_assignments = [
            (a.warehouse_id, a.sku_id, a.quantity)
            for a in decision.assignments
            if a.warehouse_id is not None
        ]
        for wh_id, sku, qty in engine_assignments:
            stocks["engine"][(wh_id, sku)] -= qty
        results = {
            "engine": (engine_assignments, sum(decision.backordered.values())),
            "naive": _naive(lines, destination, warehouses, stocks["naive"]),
        }
        for name, (assignments, waiting) in results.items():
            s = stats[name]
            s["waiting"] += waiting
            s["units"] += sum(line.quantity for line in lines)
            used = {wh_id for wh_id, _, _ in assignments}
            if not used:
                continue
            s["orders"] += 1
            s["split"] += len(used) > 1
            s["parcels"].append(len(used))
            for wh_id in used:
                wh = by_id[wh_id]
                s["km"].append(
                    engine.great_circle_km(
                        wh.latitude, wh.longitude, destination.latitude, destination.longitude
                    )
                )
    print(f"      {'':<34}{'engine':>12}{'naive (rank)':>16}")
    rows = [
        (
            "split shipments (% of orders)",
            lambda s: f"{100 * s['split'] / max(s['orders'], 1):.1f}%",
        ),
        ("parcels per order", lambda s: f"{mean(s['parcels']):.3f}"),
        ("mean distance per parcel (km)", lambda s: f"{mean(s['km']):.0f}"),
        ("units backordered", lambda s: f"{s['waiting']} of {s['units']}"),
    ]
    for label, fmt in rows:
        print(f"      {label:<34}{fmt(stats['engine']):>12}{fmt(stats['naive']):>16}")
    print(f"      engine speed: {orders / engine_seconds:,.0f} decisions/s (pure function)")
    return {
        name: {
            "split": s["split"] / max(s["orders"], 1),
            "km": mean(s["km"]) if s["km"] else math.nan,
        }
        for name, s in stats.items()
    }


def run(
    *,
    orders=10_000,
    threads=4,
    hot_attempts=1000,
    hot_units=500,
    hot_clients=64,
    quality_orders=1000,
    max_seconds=90,
):
    header("Routing and allocation (inventory)")
    results = {"quality": quality(quality_orders)}
    results["hot"] = hot_sku(hot_attempts, hot_units, hot_clients)
    results["throughput"] = throughput(orders, threads, max_seconds)
    return results
