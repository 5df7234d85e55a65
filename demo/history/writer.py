"""``HistoryWriter``: plans demo orders in every status and writes them in bulk, with the
stock movements that keep every level equal to its ledger. The benchmarks reuse it."""

import math
import random
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.color import no_style
from django.db import connection
from django.db.models import F, Max
from django.utils import timezone

from inventory import geocoding
from inventory.models import SKU, Bin, MovementReason, StockLevel, StockMovement
from oms_site.money import quantize
from orders.models import Allocation, Order, OrderEvent, OrderLine, OrderStatus

from ..reference_data import (
    AGE_DAYS,
    COUNTRIES,
    DEMO_WEB_PREFIX,
    FREE_SHIPPING,
    HIGH_VALUE_THRESHOLD,
    HOME_WAREHOUSES,
    POS_COUNTRIES,
    PRICE_RATES,
    SHIPPING_METHODS,
    STATUS_WEIGHTS,
    WEB_CURRENCY_BY_COUNTRY,
)
from ..world import historical_timestamps
from .timeline import OrderTimeline

S = OrderStatus


@dataclass
class WorldSku:
    sku: SKU
    dropship_supplier_id: int | None
    stocked: list = field(default_factory=list)  # warehouse ids with a level (or planned)
    out_of_stock: bool = False


@dataclass
class Counts:
    orders: int = 0
    lines: int = 0
    events: int = 0
    allocations: int = 0
    movements: int = 0
    levels: int = 0
    statuses: dict = field(default_factory=lambda: defaultdict(int))


class HistoryWriter(OrderTimeline):
    """Plans orders in every status and writes them with ``bulk_create`` in chunks, with
    the stock movements that keep every level equal to its ledger.

    ``ship_movements``: also write the allocation, shipment, deallocation and restock
    movements of past orders (the demo does; the benchmark's 100k-order load leaves past
    stock out of the levels and writes only the open allocations).
    Order and line primary keys are assigned here (``number`` is ``SO-<pk>``), so nothing
    else may insert orders while it runs; sequences are reset at the end.
    """

    def __init__(
        self,
        *,
        warehouses,
        skus,
        channels,
        customers,
        now=None,
        seed=7,
        ship_movements=True,
        batch_size=1000,
    ):
        self.now = now or timezone.now()
        self.rng = random.Random(seed)
        self.warehouses = [w for w in warehouses if w.active]
        self.warehouse_by_id = {w.pk: w for w in self.warehouses}
        self.channels = channels
        self.customers = customers
        self.open_customers = [c for c in customers if not c[1]["blocked"]] or customers
        self.blocked_customers = [c for c in customers if c[1]["blocked"]]
        self.ship_movements = ship_movements
        self.batch_size = batch_size
        self.counts = Counts()
        self._geo = {}
        self._existing_levels = {
            (lv.sku_id, lv.warehouse_id): lv.pk
            for lv in StockLevel.objects.filter(sku__in=[s.pk for s in skus])
        }
        self._plan_stock(skus)
        self._next_order_pk = (Order.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
        self._next_line_pk = (OrderLine.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
        self._movements: list[StockMovement] = []
        # Receipts that cover what the history allocates: (sku, wh) -> month -> units.
        self._receipts = defaultdict(lambda: defaultdict(int))
        self._deltas = defaultdict(lambda: [0, 0])  # (sku, wh) -> [on_hand, allocated]

    # -- stock plan --

    def _plan_stock(self, skus):
        rng = self.rng
        codes = {w.code: w.pk for w in self.warehouses}
        stocked_already = defaultdict(list)
        for sku_id, wh_id in self._existing_levels:
            if wh_id in self.warehouse_by_id:
                stocked_already[sku_id].append(wh_id)
        self.skus, fresh = [], []
        self.new_levels = {}  # (sku_id, wh_id) -> (free units, safety stock)
        for sku in skus:
            dropship = sku.supplier_id if sku.supplier and sku.supplier.drop_ships else None
            entry = WorldSku(sku=sku, dropship_supplier_id=dropship)
            if stocked_already.get(sku.pk):
                entry.stocked = stocked_already[sku.pk]
            elif dropship is None:
                # Every SKU in Leeds and Newark (the only ones for GB/US) and in one or
                # both EU warehouses.
                wanted = [c for c in ("lds", "ewr") if c in codes]
                eu = [c for c in HOME_WAREHOUSES if c in codes]
                if eu:
                    wanted += eu if rng.random() < 0.7 else [rng.choice(eu)]
                entry.stocked = [codes[c] for c in (wanted or list(codes))]
                fresh.append(entry)
            if entry.stocked or entry.dropship_supplier_id:
                self.skus.append(entry)
        # A few SKUs are sold out everywhere: backordered orders wait for them.
        for entry in rng.sample(fresh, max(1, len(fresh) // 25)) if fresh else []:
            entry.out_of_stock = True
        for entry in fresh:
            for wh_id in entry.stocked:
                if entry.out_of_stock:
                    free, safety = 0, 0
                else:
                    free = 0 if rng.random() < 0.08 else int(rng.lognormvariate(3.6, 0.9)) + 1
                    safety = rng.choice([0, 0, 0, 2, 3, 5, 10]) if free > 12 else 0
                self.new_levels[(entry.sku.pk, wh_id)] = (free, safety)
        self.sellable = [e for e in self.skus if not e.out_of_stock]
        self.out_of_stock = [e for e in self.skus if e.out_of_stock]
        if not self.sellable:
            raise CommandError("No sellable SKUs: load the catalogue first.")
        # Bestsellers: a few SKUs sell much more than the rest.
        self.weights = [1.0 / (rank + 3) ** 0.8 for rank in range(len(self.sellable))]
        rng.shuffle(self.weights)

    # -- small helpers --

    def _geocode(self, country, city):
        key = (country, city)
        if key not in self._geo:
            self._geo[key] = geocoding.locate(country, city)
        return self._geo[key]

    def _warehouse_for(self, entry: WorldSku, country, lat, lon):
        options = [self.warehouse_by_id[w] for w in entry.stocked if w in self.warehouse_by_id]
        eligible = [w for w in options if w.ships_to(country)] or options
        if not eligible:
            return None

        def distance(w):
            if None in (w.latitude, w.longitude, lat, lon):
                return w.rank * 1000.0
            return math.hypot(w.latitude - lat, (w.longitude - lon) * math.cos(math.radians(lat)))

        eligible.sort(key=lambda w: (distance(w), w.rank))
        # Now and then the nearest one is out of it and the next one ships.
        if len(eligible) > 1 and self.rng.random() < 0.1:
            return eligible[1]
        return eligible[0]

    def _price(self, entry: WorldSku, currency) -> Decimal:
        if currency == "EUR":
            return quantize(entry.sku.price, currency)
        local = float(entry.sku.price) / PRICE_RATES[currency]
        return Decimal(f"{math.floor(local) + 0.99:.2f}")

    def _when(self, status) -> datetime:
        low, high = AGE_DAYS[status]
        if high > 30:
            # More orders recently (the shop grows), spread over the year.
            days = low + (high - low) * self.rng.random() ** 1.2
        else:
            days = self.rng.uniform(low, high)
        moment = self.now - timedelta(days=days)
        if 0 <= moment.hour < 6 and days > 1:  # few orders at night
            moment += timedelta(hours=7)
        return min(moment, self.now - timedelta(minutes=2))

    def _status_for(self, seq) -> str:
        statuses = [s for s, _ in STATUS_WEIGHTS]
        if seq < len(statuses):
            return statuses[seq]  # every status at least once, even in small runs
        return self.rng.choices(statuses, weights=[w for _, w in STATUS_WEIGHTS])[0]

    def _channel_for(self, country, seq):
        rng = self.rng
        if seq == 0:
            code = "web"
        elif country == "US":
            code = rng.choices(["shopify", "ebay", "web"], [40, 35, 25])[0]
        elif country == "GB":
            code = rng.choices(["amazon", "web"], [55, 45])[0]
        elif country == "IE":
            code = rng.choices(["amazon", "web"], [30, 70])[0]
        elif country in POS_COUNTRIES:
            code = rng.choices(["web", "pos"], [85, 15])[0]
        else:
            code = "web"
        return self.channels.get(code) or self.channels["web"]

    def _external_id(self, channel, pk) -> str:
        rng = self.rng
        if channel.code == "web":
            return f"{DEMO_WEB_PREFIX}{100000 + pk}"
        if channel.code == "amazon":
            return f"026-{rng.randint(1000000, 9999999)}-{pk:07d}"
        if channel.code == "ebay":
            return f"{rng.randint(10, 27)}-{pk:05d}-{rng.randint(10000, 99999)}"
        if channel.code == "shopify":
            return f"#{1000 + pk}"
        if channel.code == "pos":
            return f"POS-BER-{pk:06d}"
        return f"{channel.code.upper()}-{pk}"

    def _tracking(self, carrier) -> str:
        rng = self.rng
        if carrier == "UPS":
            digits = rng.randint(10**9, 10**10 - 1)
            return f"1Z{rng.randint(100, 999)}E{rng.randint(10, 99)}{digits}"
        if carrier in ("Royal Mail", "An Post"):
            return f"{rng.choice(['TT', 'RS', 'CE'])}{rng.randint(10**8, 10**9 - 1)}GB"
        if not carrier:
            return ""
        return f"00340434{rng.randint(10**11, 10**12 - 1)}"

    def _line(self, entry, quantity, currency, vat) -> dict:
        unit_price = self._price(entry, currency)
        gross = unit_price * quantity
        discount = Decimal(0)
        if self.rng.random() < 0.1:
            discount = quantize(gross * Decimal("0.10"), currency)
        tax = quantize((gross - discount) * vat, currency)
        line = {
            "pk": self._next_line_pk,
            "entry": entry,
            "quantity": quantity,
            "unit_price": unit_price,
            "discount": discount,
            "tax": tax,
            "tax_rate": vat * 100,
            "line_total": gross - discount + tax,
            "source": None,  # ("warehouse", id) | ("supplier", id)
            "open": 0,  # units allocated now
            "shipped": 0,
            "returned": 0,
            "cancelled": 0,
        }
        self._next_line_pk += 1
        return line

    # -- one order --

    def plan_order(self, seq) -> dict:
        rng = self.rng
        status = S.DELIVERED if seq == 0 else self._status_for(seq)
        if status == S.ON_HOLD and self.blocked_customers and rng.random() < 0.25:
            customer, spec = rng.choice(self.blocked_customers)
        elif status == S.ON_HOLD:
            customer, spec = rng.choice(self.customers)
        else:
            customer, spec = rng.choice(self.open_customers)
        country = spec["country"]
        address = dict(spec["address"])
        channel = self._channel_for(country, seq)
        currency = channel.currency
        if channel.code == "web":
            currency = WEB_CURRENCY_BY_COUNTRY.get(country, "EUR")
        location = self._geocode(country, address["city"])
        vat = Decimal(COUNTRIES[country][7]) if country in COUNTRIES else Decimal("0.20")

        n_lines = rng.choices([1, 2, 3, 4], [45, 30, 17, 8])[0]
        if status in (S.PARTIALLY_SHIPPED, S.PARTIALLY_RETURNED):
            n_lines = max(n_lines, 2)
        chosen = []
        if status == S.BACKORDERED and self.out_of_stock:
            chosen.append(rng.choice(self.out_of_stock))
        attempts = 0
        while len(chosen) < n_lines and attempts < 50:
            attempts += 1
            entry = rng.choices(self.sellable, weights=self.weights)[0]
            if entry not in chosen:
                chosen.append(entry)
        if len(chosen) < 2 and status == S.PARTIALLY_SHIPPED:
            status = S.SHIPPED
        if len(chosen) < 2 and status == S.PARTIALLY_RETURNED:
            status = S.RETURNED
        if status == S.BACKORDERED and not any(e.out_of_stock for e in chosen):
            status = S.ALLOCATED  # nothing is sold out in this catalogue
        high_value = status == S.ON_HOLD and not spec["blocked"] and rng.random() < 0.35
        lines = []
        for index, entry in enumerate(chosen):
            quantity = rng.choices([1, 2, 3], [80, 15, 5])[0]
            if high_value and index == 0:
                quantity = max(quantity, int(2600 / max(float(entry.sku.price), 1)) + 1)
            lines.append(self._line(entry, quantity, currency, vat))

        subtotal = sum((ln["unit_price"] * ln["quantity"] for ln in lines), Decimal(0))
        discount_total = sum((ln["discount"] for ln in lines), Decimal(0))
        tax_total = sum((ln["tax"] for ln in lines), Decimal(0))
        fee, free_from = FREE_SHIPPING.get(currency, ("4.90", "50"))
        shipping = Decimal(fee)
        if channel.code == "pos" or subtotal >= Decimal(free_from):
            shipping = Decimal(0)

        pk = self._next_order_pk
        self._next_order_pk += 1
        placed = self._when(status)
        plan = {
            "pk": pk,
            "number": f"SO-{pk:07d}",
            "status": status,
            "channel": channel,
            "customer": customer,
            "spec": spec,
            "currency": currency,
            "country": country,
            "address": address,
            "billing": dict(address),
            "location": location,
            "placed": placed,
            "created": placed - timedelta(seconds=rng.randint(2, 40)),
            "lines": lines,
            "subtotal": subtotal,
            "discount_total": discount_total,
            "tax_total": tax_total,
            "shipping": shipping,
            "grand_total": subtotal - discount_total + tax_total + shipping,
            "hold_reason": "",
            "routing": {},
            "events": [],
        }
        method, carrier = SHIPPING_METHODS.get(country, ("Standard", "DHL"))
        if channel.code == "pos":
            method, carrier = "Store pickup", ""
        plan["method"], plan["carrier"] = method, carrier
        if status == S.ON_HOLD:
            if spec["blocked"]:
                plan["hold_reason"] = "Customer is blocked."
            elif high_value:
                plan["hold_reason"] = (
                    f"Order total above a threshold: {plan['grand_total']} {currency} > "
                    f"{HIGH_VALUE_THRESHOLD} {settings.OMS_BASE_CURRENCY}."
                )
            elif rng.random() < 0.6:
                other = rng.choice([c for c in COUNTRIES if c != country])
                plan["billing"]["country"] = other
                plan["hold_reason"] = (
                    f"Billing country {other} differs from shipping country {country}."
                )
            else:
                plan["hold_reason"] = "Customer asked to change the delivery address."
        self._timeline(plan)
        return plan

    def _need(self, line, at, units):
        """Units the receipts must bring in before ``at`` (so the ledger never goes < 0)."""
        month = at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        self._receipts[(line["entry"].sku.pk, line["source"][1])][month] += units

    # -- writing --

    def _objects(self, plan):
        spec, location = plan["spec"], plan["location"]
        order = Order(
            pk=plan["pk"],
            number=plan["number"],
            channel=plan["channel"],
            external_id=plan["external_id"],
            status=plan["status"],
            payment_status=plan["payment"],
            customer=plan["customer"],
            customer_name=plan["customer"].name if plan["customer"] else "",
            customer_phone=plan["customer"].phone if plan["customer"] else "",
            email=spec["email"],
            currency=plan["currency"],
            subtotal=plan["subtotal"],
            discount_total=plan["discount_total"],
            tax_total=plan["tax_total"],
            shipping_total=plan["shipping"],
            grand_total=plan["grand_total"],
            shipping_address=plan["address"],
            billing_address=plan["billing"],
            ship_to_country=plan["country"],
            ship_to_latitude=location.latitude if location else None,
            ship_to_longitude=location.longitude if location else None,
            shipping_method=plan["method"],
            tags=["gift"] if plan["pk"] % 23 == 0 else [],
            hold_reason=plan["hold_reason"],
            tracking_token=secrets.token_urlsafe(32),
            routing_decision=plan["routing"],
            placed_at=plan["placed"],
            created_at=plan["created"],
            updated_at=plan["updated"],
        )
        lines, allocations = [], []
        for ln in plan["lines"]:
            sku = ln["entry"].sku
            lines.append(
                OrderLine(
                    pk=ln["pk"],
                    order_id=plan["pk"],
                    sku=sku,
                    sku_code=sku.code,
                    name=f"{sku.product.name} {sku.name}"[:200],
                    quantity=ln["quantity"],
                    unit_price=ln["unit_price"],
                    discount_amount=ln["discount"],
                    tax_amount=ln["tax"],
                    tax_rate=ln["tax_rate"],
                    tax_name="VAT" if ln["tax_rate"] else "",
                    line_total=ln["line_total"],
                    quantity_allocated=ln["open"],
                    quantity_shipped=ln["shipped"],
                    quantity_returned=ln["returned"],
                    quantity_cancelled=ln["cancelled"],
                )
            )
            if ln["open"]:
                kind, source_id = ln["source"]
                allocations.append(
                    Allocation(
                        line_id=ln["pk"],
                        warehouse_id=source_id if kind == "warehouse" else None,
                        supplier_id=source_id if kind == "supplier" else None,
                        quantity=ln["open"],
                        created_at=plan["routed_at"],
                    )
                )
        return order, lines, allocations

    def write(self, count: int, *, progress=None) -> Counts:
        """Plan and write ``count`` orders, then the receipts and levels that back them."""
        plans = []
        for seq in range(count):
            plans.append(self.plan_order(seq))
            if len(plans) >= self.batch_size:
                self._flush(plans)
                plans = []
                if progress:
                    progress(self.counts.orders)
        if plans:
            self._flush(plans)
        self._finish()
        return self.counts

    def _flush(self, plans):
        orders, lines, allocations, events = [], [], [], []
        for plan in plans:
            order, order_lines, order_allocations = self._objects(plan)
            orders.append(order)
            lines += order_lines
            allocations += order_allocations
            events += plan["events"]
            self.counts.statuses[plan["status"]] += 1
        with historical_timestamps(Order, OrderEvent, Allocation, StockMovement):
            self.insert(Order, orders)
            self.insert(OrderLine, lines)
            self.insert(Allocation, allocations)
            self.insert(OrderEvent, events)
            self._write_movements(self._movements)
        self._movements = []
        self.counts.orders += len(orders)
        self.counts.lines += len(lines)
        self.counts.allocations += len(allocations)
        self.counts.events += len(events)

    def insert(self, model, objects):
        """Write new rows (timestamps as given). The benchmarks override this with COPY."""
        model.objects.bulk_create(objects, batch_size=500)

    def _write_movements(self, movements):
        for m in movements:
            delta = self._deltas[(m.sku_id, m.warehouse_id)]
            delta[0] += m.on_hand_change
            delta[1] += m.allocated_change
        self.insert(StockMovement, movements)
        self.counts.movements += len(movements)

    def _finish(self):
        """Receipts for opening stock and for everything the history allocated, then the
        levels: new ones are the sums of their rows, existing ones grow by the same sums."""
        opening = self.now - timedelta(days=372)
        codes = {w.pk: w.code.upper() for w in self.warehouses}
        receipts = []

        def receipt(sku_id, wh_id, units, at, reference, note):
            receipts.append(
                StockMovement(
                    sku_id=sku_id,
                    warehouse_id=wh_id,
                    on_hand_change=units,
                    reason=MovementReason.RECEIPT,
                    reference=reference,
                    note=note,
                    actor_label="goods-in",
                    created_at=at,
                )
            )

        for (sku_id, wh_id), (free, _) in self.new_levels.items():
            if free and (sku_id, wh_id) not in self._existing_levels:
                receipt(sku_id, wh_id, free, opening, f"PO-OPEN-{codes[wh_id]}", "Opening stock")
        for (sku_id, wh_id), months in sorted(self._receipts.items()):
            for month, units in sorted(months.items()):
                if units > 0:
                    receipt(
                        sku_id,
                        wh_id,
                        units,
                        month,
                        f"PO-{month:%Y%m}-{codes[wh_id]}",
                        "Supplier delivery",
                    )
        with historical_timestamps(StockMovement):
            self._write_movements(receipts)

        bins = defaultdict(list)
        for b in Bin.objects.filter(warehouse__in=list(self.warehouse_by_id)).order_by(
            "pick_sequence"
        ):
            bins[b.warehouse_id].append(b.pk)
        new = []
        for index, ((sku_id, wh_id), (_, safety)) in enumerate(self.new_levels.items()):
            if (sku_id, wh_id) in self._existing_levels:
                continue
            on_hand, allocated = self._deltas.pop((sku_id, wh_id), (0, 0))
            wh_bins = bins.get(wh_id)
            new.append(
                StockLevel(
                    sku_id=sku_id,
                    warehouse_id=wh_id,
                    bin_id=wh_bins[index % len(wh_bins)] if wh_bins else None,
                    on_hand=on_hand,
                    allocated=allocated,
                    safety_stock=safety,
                )
            )
        StockLevel.objects.bulk_create(new, batch_size=1000)
        self.counts.levels += len(new)
        for (sku_id, wh_id), (on_hand, allocated) in self._deltas.items():
            if on_hand or allocated:
                StockLevel.objects.filter(sku_id=sku_id, warehouse_id=wh_id).update(
                    on_hand=F("on_hand") + on_hand,
                    allocated=F("allocated") + allocated,
                    updated_at=self.now,
                )
        self._deltas.clear()
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [Order, OrderLine]):
                cursor.execute(sql)


# --- Entry points --------------------------------------------------------------------------


def demo_loaded() -> bool:
    """The first demo order is a web order with this external id prefix."""
    return Order.objects.filter(
        channel__code="web", external_id__startswith=DEMO_WEB_PREFIX
    ).exists()
