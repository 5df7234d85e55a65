"""Daily demand per SKU and warehouse, read from the stock ledger.

Demand is what customers' orders took, dated by the order's first stock movement in that
warehouse: for each reference ``order:<number>`` the units allocated minus the units
deallocated (a cancelled order nets to zero, a re-routed one counts where it was finally
allocated), or the units shipped when more were shipped than allocated, less the units
returned to stock (``return_restock``). Checkout holds (``reservation:…``), receipts,
transfers and counts are not demand.

A day on which the SKU had nothing available at the end of the day (on hand minus
allocated <= 0) is a **stock-out day**: customers could not buy, so its demand is unknown,
not zero. So are the days before the warehouse first held the SKU. Both are NaN in the
matrix the models read.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np
from django.db.models import Min, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from inventory.models import MovementReason, StockLevel, StockMovement

R = MovementReason
DEMAND_REASONS = [R.ALLOCATION, R.DEALLOCATION, R.SHIPMENT, R.RETURN_RESTOCK]
ORDER_PREFIX = "order:"


@dataclass
class DemandHistory:
    keys: list[tuple[int, int]]  # (sku_id, warehouse_id) per row
    first_day: date
    demand: np.ndarray  # (rows, days) units demanded per day
    available: np.ndarray  # (rows, days) available units at the end of each day
    stockout: np.ndarray  # (rows, days) bool
    known: np.ndarray  # (rows, days) bool: the warehouse held the SKU (had any movement)

    @property
    def days(self) -> int:
        return self.demand.shape[1]

    @property
    def dates(self) -> list[date]:
        return [self.first_day + timedelta(days=i) for i in range(self.days)]

    def observed(self) -> np.ndarray:
        """The models' input: demand, NaN on stock-out days and before the SKU was held."""
        return np.where(self.known & ~self.stockout, self.demand, np.nan)


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def demand_history(*, keys, as_of: date, days: int) -> DemandHistory:
    """Daily demand and stock-out flags for the (sku_id, warehouse_id) pairs in ``keys``,
    for the ``days`` days ending with ``as_of`` (inclusive)."""
    keys = list(keys)
    first_day = as_of - timedelta(days=days - 1)
    start, end = _day_start(first_day), _day_start(as_of + timedelta(days=1))
    row_of = {key: i for i, key in enumerate(keys)}
    demand = np.zeros((len(keys), days))
    on_hand = np.zeros((len(keys), days))
    allocated = np.zeros((len(keys), days))
    touched = np.zeros((len(keys), days), dtype=bool)
    if not keys:
        empty = np.zeros((0, days), dtype=bool)
        return DemandHistory(keys, first_day, demand, on_hand, empty, empty)
    sku_ids = sorted({k[0] for k in keys})
    warehouse_ids = sorted({k[1] for k in keys})
    movements = StockMovement.objects.filter(sku_id__in=sku_ids, warehouse_id__in=warehouse_ids)

    # Orders' demand, one row per order reference.
    per_order = (
        movements.filter(
            created_at__gte=start,
            created_at__lt=end,
            reason__in=DEMAND_REASONS,
            reference__startswith=ORDER_PREFIX,
        )
        .values("sku_id", "warehouse_id", "reference")
        .annotate(
            first=Min("created_at"),
            allocated=Sum("allocated_change", filter=Q(reason__in=[R.ALLOCATION, R.DEALLOCATION])),
            shipped=Sum("on_hand_change", filter=Q(reason=R.SHIPMENT)),
            returned=Sum("on_hand_change", filter=Q(reason=R.RETURN_RESTOCK)),
        )
        .order_by()
    )
    rows, cols, units = [], [], []
    for entry in per_order.iterator(chunk_size=5000):
        row = row_of.get((entry["sku_id"], entry["warehouse_id"]))
        if row is None:
            continue
        taken = max(entry["allocated"] or 0, -(entry["shipped"] or 0))
        net = taken - (entry["returned"] or 0)
        if net > 0:
            rows.append(row)
            cols.append((timezone.localdate(entry["first"]) - first_day).days)
            units.append(net)
    if rows:
        np.add.at(demand, (np.array(rows), np.array(cols)), np.array(units, dtype=float))

    # Stock at the end of each day: what stood before the window plus each day's changes.
    opening = defaultdict(lambda: (0, 0))
    for entry in (
        movements.filter(created_at__lt=start)
        .values("sku_id", "warehouse_id")
        .annotate(on_hand=Sum("on_hand_change"), allocated=Sum("allocated_change"))
        .order_by()
    ):
        opening[(entry["sku_id"], entry["warehouse_id"])] = (entry["on_hand"], entry["allocated"])
    rows, cols, on_hand_changes, allocated_changes = [], [], [], []
    for entry in (
        movements.filter(created_at__gte=start, created_at__lt=end)
        .annotate(day=TruncDate("created_at"))
        .values("sku_id", "warehouse_id", "day")
        .annotate(on_hand=Sum("on_hand_change"), allocated=Sum("allocated_change"))
        .order_by()
        .iterator(chunk_size=5000)
    ):
        row = row_of.get((entry["sku_id"], entry["warehouse_id"]))
        if row is None:
            continue
        rows.append(row)
        cols.append((entry["day"] - first_day).days)
        on_hand_changes.append(entry["on_hand"])
        allocated_changes.append(entry["allocated"])
    if rows:
        index = (np.array(rows), np.array(cols))
        np.add.at(on_hand, index, np.array(on_hand_changes, dtype=float))
        np.add.at(allocated, index, np.array(allocated_changes, dtype=float))
        touched[index] = True
    held_before = np.array([key in opening for key in keys])
    start_on_hand = np.array([opening[key][0] if key in opening else 0 for key in keys])
    start_allocated = np.array([opening[key][1] if key in opening else 0 for key in keys])
    on_hand = start_on_hand[:, None] + np.cumsum(on_hand, axis=1)
    allocated = start_allocated[:, None] + np.cumsum(allocated, axis=1)
    available = on_hand - allocated
    known = held_before[:, None] | (np.cumsum(touched, axis=1) > 0)
    stockout = known & (available <= 0)
    return DemandHistory(keys, first_day, demand, available, stockout, known)


def stocked_pairs(sku_ids) -> list[tuple[int, int]]:
    """Every (sku_id, warehouse_id) with a stock level, active SKUs in active warehouses."""
    return list(
        StockLevel.objects.filter(
            sku_id__in=list(sku_ids), sku__active=True, warehouse__active=True
        )
        .order_by("sku_id", "warehouse_id")
        .values_list("sku_id", "warehouse_id")
    )
