"""Two years of daily sales for a seasonal range, and forecasts for the whole catalogue.

32 SKUs in the Berlin and Leeds warehouses get two years of simulated demand
(``demo.history.demand``): weekly and yearly seasons, trends, promotions, intermittent and
lumpy sellers, and stock-outs from late or lost supplier deliveries. The ledger gets what
a real shop's would: one shipment per SKU, warehouse and day (that day's orders), a few
cancelled orders (allocated, then deallocated), returns a week after the sale, and
supplier receipts; each
level equals its ledger. Deliveries still on the way become placed purchase orders.
Then the forecast runs once for every stocked SKU, so the pages have something to show.
"""

import secrets
import time as clock
from collections import defaultdict
from datetime import datetime, time, timedelta

import numpy as np
from django.utils import timezone

from inventory.forecasting.models import (
    ForecastRun,
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderLine,
    SkuForecast,
)
from inventory.forecasting.services import runs
from inventory.models import SKU, MovementReason, Product, StockLevel, StockMovement, Supplier
from oms_site.actors import Actor

from ..history.demand import simulate
from ..world import gtin13, historical_timestamps

HISTORY_DAYS = 730
PREFIX = "FC-"
SUPPLIERS = [
    {
        "code": "alpine",
        "name": "Alpine Outfitters AG",
        "email": "orders@alpine-outfitters.example.com",
        "lead_time_days": 21,
        "lead_time_std_days": 4,
        "min_order_quantity": 12,
    },
    {
        "code": "baltic",
        "name": "Baltic Home Goods",
        "email": "sales@baltic-home.example.com",
        "lead_time_days": 10,
        "lead_time_std_days": 2,
        "min_order_quantity": 6,
    },
]
# (product, brand, pattern, price, pack size, supplier, variants)
RANGE = [
    ("Everyday Socks 3-Pack", "Fjellgarn", "weekly", "14.90", 12, "baltic", ["Black", "Grey"]),
    ("Canvas Tote Bag", "Northbound", "weekly", "19.90", 6, "baltic", ["Natural", "Navy"]),
    ("Mineral Sunscreen SPF 50", "Solvik", "summer", "16.50", 24, "alpine", ["50 ml", "100 ml"]),
    ("Straw Sun Hat", "Atelier Loire", "summer", "29.00", 6, "alpine", ["S/M", "L/XL"]),
    ("Wool Beanie", "Fjellgarn", "winter", "24.90", 12, "alpine", ["Red", "Charcoal"]),
    ("Touchscreen Gloves", "Northbound", "winter", "27.50", 12, "alpine", ["M", "L"]),
    ("Insulated Water Bottle", "Solvik", "growing", "32.00", 6, "baltic", ["0.5 l", "0.75 l"]),
    ("Bamboo Toothbrush Set", "Solvik", "growing", "9.90", 24, "baltic", ["Soft", "Medium"]),
    ("Phone Sleeve", "Northbound", "declining", "19.00", 6, "baltic", ["Small", "Large"]),
    ("Fleece Throw", "Baltic Home", "declining", "39.00", 4, "baltic", ["Sand", "Sage"]),
    ("Wireless Earbuds", "Klangwerk", "promotions", "59.00", 10, "alpine", ["White", "Black"]),
    (
        "Scented Candle Gift Set",
        "Baltic Home",
        "promotions",
        "34.90",
        6,
        "baltic",
        ["Amber", "Fig"],
    ),
    ("Cast-Iron Skillet", "Baltic Home", "intermittent", "49.00", 1, "baltic", ["24 cm", "28 cm"]),
    (
        "Travel Espresso Maker",
        "Klangwerk",
        "intermittent",
        "79.00",
        1,
        "alpine",
        ["Steel", "Matte"],
    ),
    ("Seat Cushion (case)", "Baltic Home", "lumpy", "12.00", 10, "baltic", ["Grey", "Blue"]),
    ("Event Lanyard (case)", "Northbound", "lumpy", "3.50", 50, "alpine", ["Red", "Green"]),
]
WAREHOUSES = ("ber", "lds")


def _code(index, name, variant):
    letters = "".join(w[0] for w in name.replace("-", " ").split() if w[0].isalpha())[:3]
    suffix = "".join(c for c in variant if c.isalnum())[:3].upper()
    return f"{PREFIX}{letters.upper()}{index + 1:02d}-{suffix}"


def _catalogue():
    suppliers = {}
    for spec in SUPPLIERS:
        suppliers[spec["code"]] = Supplier.objects.get_or_create(code=spec["code"], defaults=spec)[
            0
        ]
    skus = []
    for index, (name, brand, pattern, price, pack, supplier, variants) in enumerate(RANGE):
        product = Product.objects.filter(name=name).first() or Product.objects.create(
            name=name, brand=brand, description=f"{name} by {brand}."
        )
        for number, variant in enumerate(variants):
            sku, _ = SKU.objects.get_or_create(
                code=_code(index, name, variant),
                defaults={
                    "product": product,
                    "name": variant,
                    "price": price,
                    "supplier": suppliers[supplier],
                    "pack_size": pack,
                    "barcode": gtin13(900_000 + index * 10 + number),
                    "weight_grams": 250,
                },
            )
            skus.append((sku, pattern, suppliers[supplier]))
    return skus


def _at(day, minute_of_day):
    return timezone.make_aware(datetime.combine(day, time.min) + timedelta(minutes=minute_of_day))


def _write_history(context, skus, warehouses) -> tuple[int, int]:
    as_of = timezone.localdate(context.now) - timedelta(days=1)
    first_day = as_of - timedelta(days=HISTORY_DAYS - 1)
    series = [(sku, pattern, supplier, wh) for sku, pattern, supplier in skus for wh in warehouses]
    sim = simulate(
        len(series),
        HISTORY_DAYS,
        seed=context.seed,
        first_weekday=first_day.weekday(),
        first_day_of_year=first_day.timetuple().tm_yday - 1,
        patterns=[pattern for _, pattern, _, _ in series],
        lead_times=[supplier.lead_time_days for _, _, supplier, _ in series],
    )
    rng = np.random.default_rng(context.seed + 1)
    movements, levels = [], []
    days = [first_day + timedelta(days=i) for i in range(HISTORY_DAYS)]
    open_orders = defaultdict(list)  # (supplier, warehouse, arrival date) -> [(sku, units)]
    for row, (sku, _pattern, supplier, wh) in enumerate(series):
        code = wh.code.upper()
        on_hand = int(sim.opening[row])

        def move(
            day_index, minute, change, reason, reference, note="", allocated=0, sku=sku, wh=wh
        ):
            movements.append(
                StockMovement(
                    sku_id=sku.pk,
                    warehouse_id=wh.pk,
                    on_hand_change=change,
                    allocated_change=allocated,
                    reason=reason,
                    reference=reference,
                    note=note,
                    actor_label="demo history",
                    created_at=_at(
                        first_day + timedelta(days=day_index)
                        if day_index >= 0
                        else first_day - timedelta(days=1),
                        minute,
                    ),
                )
            )

        if on_hand:
            move(-1, 8 * 60, on_hand, MovementReason.RECEIPT, f"PO-OPEN-{code}", "Opening stock")
        for d, day in enumerate(days):
            received = int(sim.receipts[row, d])
            if received:
                move(
                    d,
                    7 * 60 + 30,
                    received,
                    MovementReason.RECEIPT,
                    f"PO-{day:%Y%m%d}-{code}",
                    "Supplier delivery",
                )
                on_hand += received
            returned = int(sim.returns[row, d])
            if returned:
                sold_on = f"{day - timedelta(days=7):%Y%m%d}"
                move(
                    d,
                    11 * 60,
                    returned,
                    MovementReason.RETURN_RESTOCK,
                    f"order:DAY-{code}-{sold_on}",
                    "Return",
                )
                on_hand += returned
            sold = int(sim.sales[row, d])
            if sold:
                reference = f"order:DAY-{code}-{day:%Y%m%d}"
                move(d, 17 * 60, -sold, MovementReason.SHIPMENT, reference, "The day's orders")
                on_hand -= sold
            # A cancelled order: allocated, then released the same day; nets to no demand.
            if on_hand > 2 and rng.random() < 0.02:
                reference = f"order:CXL-{code}-{day:%Y%m%d}-{sku.pk}"
                move(d, 10 * 60, 0, MovementReason.ALLOCATION, reference, allocated=1)
                move(
                    d, 12 * 60, 0, MovementReason.DEALLOCATION, reference, "Cancelled", allocated=-1
                )
        levels.append(StockLevel(sku=sku, warehouse=wh, on_hand=on_hand, allocated=0))
        for arrival, units in sim.in_transit[row]:
            expected = first_day + timedelta(days=arrival)
            open_orders[(supplier.pk, wh.pk, expected)].append((sku, units))
    with historical_timestamps(StockMovement):
        StockMovement.objects.bulk_create(movements, batch_size=2000)
    StockLevel.objects.bulk_create(levels)
    _purchase_orders(open_orders, context)
    return len(movements), len(open_orders)


def _purchase_orders(open_orders, context):
    actor = Actor.system("demo")
    for (supplier_id, warehouse_id, expected), lines in sorted(open_orders.items()):
        order = PurchaseOrder.objects.create(
            number=f"new-{secrets.token_hex(7)}",  # the real number needs the pk
            supplier_id=supplier_id,
            warehouse_id=warehouse_id,
            expected_date=expected,
            ordered_at=context.now - timedelta(days=7),
            status=PurchaseOrder.Status.ORDERED,
        )
        order.number = f"PO-{order.pk:06d}"
        order.save(update_fields=["number"])
        merged = defaultdict(int)
        for sku, units in lines:
            merged[sku] += units
        PurchaseOrderLine.objects.bulk_create(
            [PurchaseOrderLine(order=order, sku=sku, quantity=q) for sku, q in merged.items()]
        )
        PurchaseOrderEvent.objects.create(
            order=order,
            kind="status_changed",
            from_status="draft",
            to_status="ordered",
            message=f"Expected {expected.isoformat()}.",
            actor_label=actor.label,
        )


def load(context) -> str | None:
    world = context.world
    warehouses = [w for w in world.get("warehouses", []) if w.code in WAREHOUSES]
    summary = []
    if warehouses and not SKU.objects.filter(code__startswith=PREFIX).exists():
        started = clock.monotonic()
        skus = _catalogue()
        rows, orders = _write_history(context, skus, warehouses)
        summary.append(
            f"{len(skus)} seasonal SKUs with {HISTORY_DAYS} days of sales ({rows} ledger rows, "
            f"{orders} open purchase orders) in {clock.monotonic() - started:.1f} s"
        )
    if not SkuForecast.objects.exists():
        started = clock.monotonic()
        run = runs.start_run(
            trigger=ForecastRun.Trigger.DEMO, actor=Actor.system("demo"), enqueue=False
        )
        run = runs.run_inline(run)
        summary.append(
            f"forecasts for {run.series_total} SKU-warehouse series ({run.at_risk} at risk) "
            f"in {clock.monotonic() - started:.1f} s"
        )
    return "; ".join(summary) or None
