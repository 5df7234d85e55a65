"""Filters for the order list API (django-filter)."""

import django_filters

from inventory.models import Warehouse
from oms_site.api_filters import BooleanFilter, DateTimeFilter, FilterSet

from .. import access
from ..models import Order, OrderStatus
from ..selectors import search_condition


class OrderFilter(FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=OrderStatus.choices)
    channel = django_filters.CharFilter(field_name="channel__code")
    created_after = DateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = DateTimeFilter(field_name="created_at", lookup_expr="lt")
    updated_after = DateTimeFilter(field_name="updated_at", lookup_expr="gte")
    updated_before = DateTimeFilter(field_name="updated_at", lookup_expr="lt")
    email = django_filters.CharFilter(
        method="filter_email", help_text="The order's e-mail (case does not matter)."
    )
    sku = django_filters.CharFilter(
        method="filter_sku", help_text="Orders with a line of this SKU."
    )
    external_id = django_filters.CharFilter(field_name="external_id")
    warehouse = django_filters.CharFilter(
        method="filter_warehouse", help_text="Orders with units allocated at this warehouse."
    )
    mine = BooleanFilter(
        method="filter_mine",
        help_text="Warehouse staff: only orders with units allocated in their warehouses.",
    )
    q = django_filters.CharFilter(
        method="search",
        help_text="Free text, as the dashboard's search box: an order number, an e-mail or "
        "its beginning, an external id, a SKU code or its beginning, a postal code, a "
        "customer's name or phone, or the recipient's name or street.",
    )

    class Meta:
        model = Order
        fields = []

    def filter_warehouse(self, queryset, name, value):
        return access.in_warehouses(
            queryset, Warehouse.objects.filter(code=value).values_list("pk", flat=True)
        )

    def filter_mine(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        if not value or user is None or not access.is_warehouse_limited(user):
            return queryset
        return access.in_user_warehouses(queryset, user)

    def filter_sku(self, queryset, name, value):
        return queryset.filter(pk__in=Order.objects.filter(lines__sku_code=value).values("pk"))

    def filter_email(self, queryset, name, value):
        # Stored lower-cased (placement does it), so an exact match finds it on its index.
        return queryset.filter(email=value.strip().lower())

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        # The dashboard's search: each kind of key probed on its own index.
        return queryset.filter(search_condition(value))
