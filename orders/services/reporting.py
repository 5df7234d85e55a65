"""The sales rollup behind the home page: orders and revenue per hour and channel in the
base currency (``HourlySales``), kept in step with the orders.

- ``record_placed`` and ``record_cancelled`` run inside the placing / cancelling
  transaction: one ``INSERT ... ON CONFLICT DO UPDATE`` on one of a few shard rows, so
  concurrent orders rarely wait on the same row and a rolled-back order leaves no trace.
- ``rebuild_sales`` recomputes whole days from the orders (the demo and benchmark loaders
  write orders in bulk; the periodic task reconciles closed days, e.g. after a rate for a
  past day was added). It locks the days' rows first, so a concurrent placement or
  cancellation adds to the rebuilt rows instead of being lost.

Revenue is the order's grand total converted with the rate of its placement day (the
latest rate on or before it); cancelled orders are counted but leave the revenue.
"""

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from oms_site.models import ExchangeRate

from ..dashboard_models import SALES_SHARDS, HourlySales
from ..models import Order, OrderStatus

_UPSERT = """
INSERT INTO {table} (day, hour, channel_id, currency, shard, orders, cancelled, unconverted,
                     revenue)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (day, hour, channel_id, currency, shard) DO UPDATE SET
    orders = {table}.orders + EXCLUDED.orders,
    cancelled = {table}.cancelled + EXCLUDED.cancelled,
    unconverted = {table}.unconverted + EXCLUDED.unconverted,
    revenue = {table}.revenue + EXCLUDED.revenue
"""


def _local(moment: datetime) -> datetime:
    return timezone.localtime(moment) if timezone.is_aware(moment) else moment


class RateBook:
    """Rates to the base currency by currency and day, read once per currency."""

    def __init__(self, base: str | None = None):
        self.base = base or settings.OMS_BASE_CURRENCY
        self._rates: dict[str, list[tuple[date, Decimal]]] = {}

    def rate(self, currency: str, day: date) -> Decimal | None:
        if currency == self.base:
            return Decimal(1)
        if currency not in self._rates:
            self._rates[currency] = list(
                ExchangeRate.objects.filter(currency=currency)
                .order_by("valid_on")
                .values_list("valid_on", "rate")
            )
        best = None
        for valid_on, rate in self._rates[currency]:
            if valid_on > day:
                break
            best = rate
        return best

    def to_base(self, amount, currency: str, day: date) -> Decimal | None:
        rate = self.rate(currency, day)
        return None if rate is None else (Decimal(amount) * rate).quantize(Decimal("0.001"))


def _add(*, moment, channel_id, shard, orders=0, cancelled=0, unconverted=0, revenue=0):
    local = _local(moment)
    table = connection.ops.quote_name(HourlySales._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            _UPSERT.format(table=table),
            [
                local.date(),
                local.hour,
                channel_id,
                settings.OMS_BASE_CURRENCY,
                shard % SALES_SHARDS,
                orders,
                cancelled,
                unconverted,
                Decimal(revenue),
            ],
        )


def _revenue(order) -> Decimal | None:
    """The order's total in the base currency: as stored at placement (with its rate), else
    converted with the rate of its placement day."""
    base = settings.OMS_BASE_CURRENCY
    if order.base_currency == base and order.base_grand_total is not None:
        return order.base_grand_total
    day = _local(order.placed_at).date()
    return RateBook(base).to_base(order.grand_total, order.currency, day)


def record_placed(order) -> None:
    """A draft became a placed order: count it (call inside the placing transaction)."""
    if order.placed_at is None:
        return
    revenue = _revenue(order)
    _add(
        moment=order.placed_at,
        channel_id=order.channel_id,
        shard=order.pk,
        orders=1,
        unconverted=0 if revenue is not None else 1,
        revenue=revenue or 0,
    )


def record_placed_many(orders) -> None:
    """Orders placed in one batch (a marketplace page): one upsert per rollup row they
    touch, in the row order, so two batches never wait on each other the wrong way.
    The whole batch counts in one shard (readers add the shards up): concurrent batches
    still spread over the shards, and a batch writes one row per hour and channel."""
    sums: dict[tuple, list] = defaultdict(lambda: [0, 0, Decimal(0)])
    moments = {}
    book = RateBook()
    shard = min((order.pk for order in orders), default=0) % SALES_SHARDS
    for order in orders:
        if order.placed_at is None:
            continue
        local = _local(order.placed_at)
        key = (local.date(), local.hour, order.channel_id, shard)
        moments[key] = order.placed_at
        if order.base_currency == book.base and order.base_grand_total is not None:
            revenue = order.base_grand_total
        else:
            revenue = book.to_base(order.grand_total, order.currency, local.date())
        entry = sums[key]
        entry[0] += 1
        if revenue is None:
            entry[1] += 1
        else:
            entry[2] += revenue
    for key in sorted(sums):
        orders_count, unconverted, revenue = sums[key]
        _add(
            moment=moments[key],
            channel_id=key[2],
            shard=key[3],
            orders=orders_count,
            unconverted=unconverted,
            revenue=revenue,
        )


def revenue_of(order) -> Decimal | None:
    """The order's revenue as the rollup counts it (None for drafts or without a rate)."""
    if order.placed_at is None:
        return None
    return _revenue(order)


def record_revenue_change(order, before: Decimal | None) -> None:
    """A placed order's total changed (an edit): move its revenue by the difference."""
    after = revenue_of(order)
    if before is None or after is None or after == before:
        return
    _add(
        moment=order.placed_at,
        channel_id=order.channel_id,
        shard=order.pk,
        revenue=after - before,
    )


def record_cancelled(order) -> None:
    """A placed order was cancelled: it stays counted, its revenue goes."""
    if order.placed_at is None:
        return
    revenue = _revenue(order)
    _add(
        moment=order.placed_at,
        channel_id=order.channel_id,
        shard=order.pk,
        cancelled=1,
        revenue=-(revenue or 0),
    )


def _day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(first, time.min))
    end = timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min))
    return start, end


@transaction.atomic
def rebuild_sales(*, first: date, last: date) -> int:
    """Recompute the rollup of the local days ``first`` .. ``last`` from the orders.
    Returns the number of rows written. Safe to run while orders are placed (see module)."""
    base = settings.OMS_BASE_CURRENCY
    start, end = _day_bounds(first, last)
    existing = HourlySales.objects.filter(day__gte=first, day__lte=last, currency=base)
    locked = {
        (row.day, row.hour, row.channel_id, row.shard): row
        for row in existing.select_for_update(of=("self",)).order_by("pk")
    }
    hours = defaultdict(lambda: {"orders": 0, "cancelled": 0, "unconverted": 0, "revenue": 0})
    rates = RateBook(base)
    # One aggregate per (placement hour, channel, currency, cancelled?), not per order.
    if connection.vendor == "postgresql":
        groups = _hourly_groups_postgres(start, end)
    else:
        groups = _hourly_groups_python(start, end)
    for (day, hour, channel_id, currency, cancelled, stored), count, total in groups:
        bucket = hours[(day, hour, channel_id)]
        bucket["orders"] += count
        if cancelled:
            bucket["cancelled"] += count
            continue
        # ``stored``: the sum of totals the orders keep in the base currency.
        revenue = total if stored else rates.to_base(total, currency, day)
        if revenue is None:
            bucket["unconverted"] += count
        else:
            bucket["revenue"] += revenue
    written = 0
    for (day, hour, channel_id, shard), row in locked.items():
        bucket = hours.pop((day, hour, channel_id), None) if shard == 0 else None
        values = bucket or {"orders": 0, "cancelled": 0, "unconverted": 0, "revenue": 0}
        if any(getattr(row, name) != value for name, value in values.items()):
            HourlySales.objects.filter(pk=row.pk).update(**values)
            written += 1
    # Hours without a shard-0 row yet: an upsert, so that a row a concurrent cancellation
    # made meanwhile keeps its change and gets ours added.
    table = connection.ops.quote_name(HourlySales._meta.db_table)
    rows = [
        [
            day,
            hour,
            channel_id,
            base,
            0,
            values["orders"],
            values["cancelled"],
            values["unconverted"],
            Decimal(values["revenue"]),
        ]
        for (day, hour, channel_id), values in hours.items()
    ]
    with connection.cursor() as cursor:
        # One statement, many rows (psycopg pipelines them): years of hours take seconds.
        cursor.executemany(_UPSERT.format(table=table), rows)
    return written + len(rows)


def _hourly_groups_postgres(start, end):
    """(day, hour, channel, currency, cancelled, stored) -> (count, total) in one GROUP BY;
    ``stored`` groups carry the sum of the orders' own base-currency totals."""
    tz = timezone.get_current_timezone_name()
    sql = f"""
        SELECT (placed_at AT TIME ZONE %s)::date AS day,
               EXTRACT(HOUR FROM placed_at AT TIME ZONE %s)::int AS hour,
               channel_id, currency, status = %s AS cancelled,
               (base_currency = %s AND base_grand_total IS NOT NULL) AS stored,
               COUNT(*),
               COALESCE(SUM(CASE WHEN base_currency = %s AND base_grand_total IS NOT NULL
                                 THEN base_grand_total ELSE grand_total END), 0)
        FROM {Order._meta.db_table}
        WHERE placed_at >= %s AND placed_at < %s
        GROUP BY 1, 2, 3, 4, 5, 6
    """
    base = settings.OMS_BASE_CURRENCY
    with connection.cursor() as cursor:
        cursor.execute(sql, [tz, tz, OrderStatus.CANCELLED, base, base, start, end])
        for day, hour, channel_id, currency, cancelled, stored, count, total in cursor:
            yield (day, hour, channel_id, currency, cancelled, stored), count, total


def _hourly_groups_python(start, end):
    """The same grouping in Python, for SQLite (the embedded default's small shops)."""
    base = settings.OMS_BASE_CURRENCY
    groups = defaultdict(lambda: [0, Decimal(0)])
    rows = Order.objects.filter(placed_at__gte=start, placed_at__lt=end).order_by()
    fields = ("placed_at", "channel_id", "currency", "status", "grand_total")
    for row in rows.values_list(*fields, "base_currency", "base_grand_total"):
        placed_at, channel_id, currency, status, total, base_currency, base_total = row
        stored = base_currency == base and base_total is not None
        local = _local(placed_at)
        cancelled = status == OrderStatus.CANCELLED
        key = (local.date(), local.hour, channel_id, currency, cancelled, stored)
        groups[key][0] += 1
        groups[key][1] += base_total if stored else total
    for key, (count, total) in groups.items():
        yield key, count, total


def rebuild_recent_sales(*, days: int = 3) -> int:
    """Reconcile the closed days before today (the periodic task)."""
    today = timezone.localdate()
    return rebuild_sales(first=today - timedelta(days=days), last=today - timedelta(days=1))


def sales_since(first: date, *, currency: str | None = None):
    """Rollup sums per (day, channel) from ``first`` on: a handful of rows per day."""
    return (
        HourlySales.objects.filter(day__gte=first, currency=currency or settings.OMS_BASE_CURRENCY)
        .values("day", "channel_id")
        .annotate(
            orders=Sum("orders"),
            cancelled=Sum("cancelled"),
            unconverted=Sum("unconverted"),
            revenue=Sum("revenue"),
        )
        .order_by("day", "channel_id")
    )


def sales_until_hour(day: date, hour: int, *, currency: str | None = None) -> dict:
    """Sums of one day up to (and including) a local hour: 'yesterday at this time'."""
    return HourlySales.objects.filter(
        day=day, hour__lte=hour, currency=currency or settings.OMS_BASE_CURRENCY
    ).aggregate(
        orders=Sum("orders"),
        cancelled=Sum("cancelled"),
        unconverted=Sum("unconverted"),
        revenue=Sum("revenue"),
        rows=Count("pk"),
    )
