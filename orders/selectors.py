"""Reads behind the order pages: the filtered, keyset-paginated list and its status counts.

Both read the same filters, so the counts always describe the list beside them. Pages are
cut by primary key (newest first), never by OFFSET: page 1,000 costs what page 1 costs, and
an order placed while someone pages does not shift the rows under them.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Exists, OuterRef, Prefetch, Q

from oms_site.dates import start_of_day

from . import access
from .models import Allocation, Order, OrderEvent, OrderLine, OrderStatus, SalesChannel
from .services import status_counts as order_status_counts

PAGE_SIZE = 50


@dataclass
class OrderPage:
    orders: list
    # Cursors for the "Newer" (?before=) and "Older" (?after=) links; None when no such page.
    newer_cursor: int | None = None
    older_cursor: int | None = None
    # The request asked for a page past the first (so a link back to the start makes sense).
    paged: bool = False


def _filtered(filters: dict, *, with_status: bool = True):
    """Orders matching ``filters``: status, channel (code or instance), created_from,
    created_to (dates, inclusive), warehouse (allocated there), warehouse_ids (allocated in
    any of them: "my warehouses") and q (number, external id, email, customer, SKU code)."""
    orders = Order.objects.all()
    if filters.get("warehouse"):
        orders = access.in_warehouses(orders, [filters["warehouse"].pk])
    if "warehouse_ids" in filters:
        orders = access.in_warehouses(orders, filters["warehouse_ids"])
    status = filters.get("status")
    if with_status and status:
        orders = orders.filter(status=status)
    channel = filters.get("channel")
    if isinstance(channel, SalesChannel):
        orders = orders.filter(channel=channel)
    elif channel:
        orders = orders.filter(channel__code=channel)
    # Whole local days as a range on the indexed column (no per-row date conversion).
    if filters.get("created_from"):
        orders = orders.filter(created_at__gte=start_of_day(filters["created_from"]))
    if filters.get("created_to"):
        orders = orders.filter(
            created_at__lt=start_of_day(filters["created_to"] + timedelta(days=1))
        )
    text = (filters.get("q") or "").strip()
    if text:
        # EXISTS instead of a join keeps one row per order without DISTINCT.
        has_sku = Exists(OrderLine.objects.filter(order=OuterRef("pk"), sku_code__icontains=text))
        orders = orders.filter(
            Q(number__icontains=text)
            | Q(external_id__icontains=text)
            | Q(email__icontains=text)
            | Q(customer__email__icontains=text)
            | Q(customer_name__icontains=text)
            | has_sku
        )
    return orders


def order_list(*, filters: dict, after=None, before=None, limit=PAGE_SIZE) -> OrderPage:
    """One page of orders, newest first, in one query whatever the page size.

    ``after=<id>`` gives the orders older than that id, ``before=<id>`` the ones newer.
    """
    orders = (
        _filtered(filters)
        .select_related("channel", "customer")
        .defer("routing_decision", "billing_address", "notes")
    )
    if before is not None:
        rows = list(orders.filter(pk__gt=before).order_by("pk")[: limit + 1])
        has_newer = len(rows) > limit
        rows = rows[:limit][::-1]
        has_older = True
    else:
        if after is not None:
            orders = orders.filter(pk__lt=after)
        rows = list(orders.order_by("-pk")[: limit + 1])
        has_older = len(rows) > limit
        rows = rows[:limit]
        has_newer = after is not None
    return OrderPage(
        orders=rows,
        newer_cursor=rows[0].pk if rows and has_newer else None,
        older_cursor=rows[-1].pk if rows and has_older else None,
        paged=after is not None or before is not None,
    )


def status_counts(*, filters: dict) -> dict[str, int]:
    """Orders per status under every filter but the status itself.

    Without filters these are the exact counters (``services.status_counts``: no table
    count, whatever the size of the history); with filters, one aggregate query over the
    filtered rows.
    """
    filtered = "warehouse_ids" in filters or any(
        value for key, value in filters.items() if key != "status"
    )
    if not filtered:
        return order_status_counts.current()
    rows = (
        _filtered(filters, with_status=False)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    counts = dict.fromkeys(OrderStatus.values, 0)
    counts.update(dict(rows))
    return counts


def order_detail(*, number: str) -> Order | None:
    """An order with everything its page shows, in a fixed handful of queries."""
    return (
        Order.objects.select_related("channel", "customer")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=OrderLine.objects.prefetch_related(
                    Prefetch(
                        "allocations",
                        queryset=Allocation.objects.select_related(
                            "warehouse", "supplier"
                        ).order_by("pk"),
                    )
                ),
            ),
            Prefetch("events", queryset=OrderEvent.objects.order_by("pk")),
        )
        .filter(number=number)
        .first()
    )


def sales_channel_choices() -> list[tuple[str, str]]:
    """Every channel as (code, "Name (code)"), by name: for forms that scope by channel."""
    return [
        (code, f"{name} ({code})")
        for code, name in SalesChannel.objects.order_by("name").values_list("code", "name")
    ]
