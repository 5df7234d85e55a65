"""Ledger histories for the forecasting tests, written the way the demo writes them: the
movements with the times given, and each level equal to the sum of its rows."""

from collections import defaultdict
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from demo.world import historical_timestamps
from inventory.forecasting.services.runs import default_as_of
from inventory.models import MovementReason, StockLevel, StockMovement

R = MovementReason


def at(day, hour=12):
    return timezone.make_aware(datetime.combine(day, time(hour)))


def write_ledger(rows):
    """rows: (sku, warehouse, day, on_hand_change, allocated_change, reason, reference)."""
    movements, totals = [], defaultdict(lambda: [0, 0])
    for sku, warehouse, day, on_hand, allocated, reason, reference in rows:
        movements.append(
            StockMovement(
                sku=sku,
                warehouse=warehouse,
                on_hand_change=on_hand,
                allocated_change=allocated,
                reason=reason,
                reference=reference,
                actor_label="test",
                created_at=at(day),
            )
        )
        totals[(sku.pk, warehouse.pk)][0] += on_hand
        totals[(sku.pk, warehouse.pk)][1] += allocated
    with historical_timestamps(StockMovement):
        StockMovement.objects.bulk_create(movements)
    for (sku_id, warehouse_id), (on_hand, allocated) in totals.items():
        level, _ = StockLevel.objects.get_or_create(sku_id=sku_id, warehouse_id=warehouse_id)
        StockLevel.objects.filter(pk=level.pk).update(
            on_hand=level.on_hand + on_hand, allocated=level.allocated + allocated
        )


def daily_sales(sku, warehouse, *, days, per_day, opening, as_of=None, receipts=()):
    """An opening receipt, then ``per_day(i)`` units shipped on each of ``days`` days
    ending ``as_of``; ``receipts`` are (day index, units)."""
    as_of = as_of or default_as_of()
    first = as_of - timedelta(days=days - 1)
    rows = [(sku, warehouse, first - timedelta(days=1), opening, 0, R.RECEIPT, "PO-OPEN")]
    for index, units in receipts:
        rows.append((sku, warehouse, first + timedelta(days=index), units, 0, R.RECEIPT, "PO-X"))
    for i in range(days):
        units = per_day(i)
        if units:
            day = first + timedelta(days=i)
            rows.append(
                (sku, warehouse, day, -units, 0, R.SHIPMENT, f"order:T-{sku.pk}-{warehouse.pk}-{i}")
            )
    write_ledger(rows)
    return first


@pytest.fixture
def as_of():
    return default_as_of()
