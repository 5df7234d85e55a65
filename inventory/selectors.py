"""Reads behind the inventory pages (stock levels and the ledger, filtered and paged by
key), and the SKU read of order placement.

Pages are keyset-paged on the primary key (``?after=`` for stock, ``?before=`` for the
ledger, which runs newest first): each page is one query whatever its position, and rows
written meanwhile never shift a page. Warehouse staff see only the warehouses they are
assigned (``inventory.WarehouseAccess``); every other role sees all.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db import connection
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Greatest

from oms_site import raw_reads
from oms_site.dates import start_of_day
from oms_site.roles import Role, role_of

from .access import allowed_warehouses
from .models import SKU, StockLevel, StockMovement, Warehouse

PAGE_SIZE = 100
LOW_STOCK_THRESHOLD = 5


def skus_with_product_and_supplier(codes) -> list[SKU]:
    """The SKUs of these codes, each with its product and supplier loaded: what placing
    an order reads (on PostgreSQL without compiling the query each time)."""
    codes = sorted(set(codes))
    if connection.vendor == "postgresql":
        return raw_reads.fetch(SKU, "code", codes, related=("product", "supplier"))
    return list(SKU.objects.filter(code__in=codes).select_related("product", "supplier"))


@dataclass
class Page:
    rows: list
    next_key: int | None  # pass as ?after= (or ?before=) for the next page; None on the last


def keyset_page(queryset: QuerySet, *, key=None, descending=False, size=PAGE_SIZE) -> Page:
    """One page of ``queryset`` ordered by primary key, starting after ``key``."""
    if key is not None:
        queryset = queryset.filter(pk__lt=key) if descending else queryset.filter(pk__gt=key)
    queryset = queryset.order_by("-pk" if descending else "pk")
    rows = list(queryset[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return Page(rows=rows, next_key=rows[-1].pk if more and rows else None)


def visible_warehouses(user) -> QuerySet:
    """Warehouses whose stock the user may see (and change): all, or their assigned ones."""
    return allowed_warehouses(user).order_by("rank", "code")


def _limit_to_user(queryset: QuerySet, user) -> QuerySet:
    if role_of(user) == Role.WAREHOUSE:
        return queryset.filter(warehouse__in=allowed_warehouses(user))
    return queryset


def stock_levels(
    *,
    user,
    search: str = "",
    sku_code: str = "",
    warehouse: Warehouse | None = None,
    product: str = "",
    low_stock: bool = False,
    threshold: int = LOW_STOCK_THRESHOLD,
    active_only: bool = False,
) -> QuerySet:
    """Stock levels with ``available_units`` (on hand - allocated) and ``sellable_units``
    (available - safety stock, never below zero). "Low stock" means sellable at or below the
    safety stock, or at or below ``threshold``."""
    queryset = StockLevel.objects.select_related("sku__product", "warehouse", "bin").annotate(
        available_units=F("on_hand") - F("allocated"),
        sellable_units=Greatest(F("on_hand") - F("allocated") - F("safety_stock"), Value(0)),
    )
    queryset = _limit_to_user(queryset, user)
    if search:
        queryset = queryset.filter(Q(sku__code__icontains=search) | Q(sku__name__icontains=search))
    if sku_code:
        queryset = queryset.filter(sku__code=sku_code)
    if warehouse is not None:
        queryset = queryset.filter(warehouse=warehouse)
    if product:
        queryset = queryset.filter(sku__product__name__icontains=product)
    if low_stock:
        queryset = queryset.filter(
            Q(sellable_units__lte=F("safety_stock")) | Q(sellable_units__lte=threshold)
        )
    if active_only:
        queryset = queryset.filter(sku__active=True)
    return queryset


def ledger(
    *,
    user,
    sku_code: str = "",
    warehouse: Warehouse | None = None,
    reason: str = "",
    reference: str = "",
    date_from=None,
    date_to=None,
) -> QuerySet:
    """Ledger rows; dates are whole days in the site's time zone, both ends included."""
    queryset = _limit_to_user(StockMovement.objects.select_related("sku", "warehouse"), user)
    if sku_code:
        queryset = queryset.filter(sku__code__iexact=sku_code)
    if warehouse is not None:
        queryset = queryset.filter(warehouse=warehouse)
    if reason:
        queryset = queryset.filter(reason=reason)
    if reference:
        queryset = queryset.filter(reference__icontains=reference)
    if date_from:
        queryset = queryset.filter(created_at__gte=start_of_day(date_from))
    if date_to:
        queryset = queryset.filter(created_at__lt=start_of_day(date_to + timedelta(days=1)))
    return queryset
