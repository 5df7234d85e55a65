"""Reads behind the home page: how the shop is doing and the work that waits.

Every figure has a cost that does not grow with the order history:

- sales (orders, revenue, average order value, channels, the daily series) come from the
  hourly rollup (``HourlySales``): at most 60 days x 24 hours x channels x shards rows;
- on hold and backordered come from the order list's status counts;
- late to ship, failed webhooks and low stock are counted up to a cap (``CAP``) on
  partial or small indexes: the page says "1,000+" rather than scanning.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from inventory.models import Warehouse
from inventory.selectors import stock_levels
from oms_site.models import WebhookDelivery

from . import selectors
from .models import Order, OrderStatus, SalesChannel
from .services.reporting import sales_since, sales_until_hour

CAP = 1000


@dataclass
class Figures:
    orders: int = 0
    cancelled: int = 0
    unconverted: int = 0
    revenue: Decimal = Decimal(0)

    def add(self, row) -> None:
        self.orders += row.get("orders") or 0
        self.cancelled += row.get("cancelled") or 0
        self.unconverted += row.get("unconverted") or 0
        self.revenue += row.get("revenue") or Decimal(0)

    @property
    def paying_orders(self) -> int:
        return self.orders - self.cancelled - self.unconverted

    @property
    def average(self) -> Decimal | None:
        return self.revenue / self.paying_orders if self.paying_orders > 0 else None


@dataclass
class Period:
    key: str
    current: Figures
    previous: Figures
    first_day: date

    @staticmethod
    def _change(now, before):
        if not before:
            return None
        return (Decimal(now) - Decimal(before)) / Decimal(before)

    @property
    def orders_change(self):
        return self._change(self.current.orders, self.previous.orders)

    @property
    def revenue_change(self):
        return self._change(self.current.revenue, self.previous.revenue)


@dataclass
class Home:
    base_currency: str
    today: date
    periods: list[Period]
    days: list[date]
    channels: list[SalesChannel]
    # channel id -> per-day orders and revenue (aligned with ``days``)
    daily_orders: dict = field(default_factory=dict)
    daily_revenue: dict = field(default_factory=dict)
    by_channel: list = field(default_factory=list)  # (channel, Figures) for 30 days
    waiting: dict = field(default_factory=dict)


def capped_count(queryset, cap: int = CAP) -> tuple[int, bool]:
    """(count, capped): counts at most ``cap`` + 1 rows, whatever the table's size."""
    count = queryset.order_by()[: cap + 1].count()
    return min(count, cap), count > cap


def ship_by_cutoff(now: datetime) -> datetime:
    """The latest warehouse cut-off that has passed: an order placed before it should have
    shipped by now. With several warehouses the earliest cut-off of the day counts (the
    strictest promise); without any cut-off set, orders have until the end of the next day.
    """
    local = timezone.localtime(now)
    cutoffs = [
        c for c in Warehouse.objects.filter(active=True).values_list("cutoff_time", flat=True) if c
    ]
    if not cutoffs:
        return timezone.make_aware(datetime.combine(local.date() - timedelta(days=1), time.min))
    cutoff = min(cutoffs)
    today_cutoff = timezone.make_aware(datetime.combine(local.date(), cutoff))
    return today_cutoff if today_cutoff <= now else today_cutoff - timedelta(days=1)


def late_to_ship(now: datetime):
    """Allocated or partly shipped orders placed before the last cut-off that passed."""
    return Order.objects.filter(
        status__in=[OrderStatus.ALLOCATED, OrderStatus.PARTIALLY_SHIPPED],
        placed_at__lt=ship_by_cutoff(now),
    )


def home(*, user, now: datetime | None = None) -> Home:
    now = now or timezone.now()
    today = timezone.localdate(now)
    base = settings.OMS_BASE_CURRENCY
    first = today - timedelta(days=59)
    by_day = defaultdict(Figures)
    by_day_channel = defaultdict(Figures)
    channel_ids = set()
    for row in sales_since(first, currency=base):
        by_day[row["day"]].add(row)
        by_day_channel[(row["day"], row["channel_id"])].add(row)
        channel_ids.add(row["channel_id"])

    def total(days_back_start: int, days_back_end: int) -> Figures:
        figures = Figures()
        for offset in range(days_back_start, days_back_end + 1):
            day_figures = by_day.get(today - timedelta(days=offset))
            if day_figures:
                figures.add(vars(day_figures))
        return figures

    yesterday_so_far = Figures()
    yesterday_so_far.add(
        sales_until_hour(today - timedelta(days=1), timezone.localtime(now).hour, currency=base)
    )
    periods = [
        Period("today", total(0, 0), yesterday_so_far, today),
        Period("7d", total(0, 6), total(7, 13), today - timedelta(days=6)),
        Period("30d", total(0, 29), total(30, 59), today - timedelta(days=29)),
    ]
    channels = list(SalesChannel.objects.filter(pk__in=channel_ids).order_by("name"))
    days = [today - timedelta(days=offset) for offset in range(29, -1, -1)]
    result = Home(base_currency=base, today=today, periods=periods, days=days, channels=channels)
    for channel in channels:
        result.daily_orders[channel.pk] = [
            by_day_channel.get((day, channel.pk), Figures()).orders for day in days
        ]
        result.daily_revenue[channel.pk] = [
            by_day_channel.get((day, channel.pk), Figures()).revenue for day in days
        ]
        month = Figures()
        for day in days:
            if (day, channel.pk) in by_day_channel:
                month.add(vars(by_day_channel[(day, channel.pk)]))
        result.by_channel.append((channel, month))
    result.by_channel.sort(key=lambda item: item[1].revenue, reverse=True)
    result.waiting = waiting_work(user=user, now=now)
    return result


def waiting_work(*, user, now: datetime) -> dict:
    counts = selectors.status_counts(filters={})
    late, late_capped = capped_count(late_to_ship(now))
    failed, failed_capped = capped_count(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.FAILED)
    )
    low, low_capped = capped_count(stock_levels(user=user, low_stock=True, active_only=True))
    return {
        "on_hold": (counts.get(OrderStatus.ON_HOLD, 0), False),
        "backordered": (counts.get(OrderStatus.BACKORDERED, 0), False),
        "late": (late, late_capped),
        "failed_webhooks": (failed, failed_capped),
        "low_stock": (low, low_capped),
    }
