"""Filters for the order list API (django-filter)."""

import django_filters
from django.db.models import Q

from inventory.models import Warehouse
from oms_site.api_filters import BooleanFilter, DateTimeFilter, FilterSet

from .. import access
from ..models import Order, OrderStatus


class OrderFilter(FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=OrderStatus.choices)
    channel = django_filters.CharFilter(field_name="channel__code")
    created_after = DateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = DateTimeFilter(field_name="created_at", lookup_expr="lt")
    updated_after = DateTimeFilter(field_name="updated_at", lookup_expr="gte")
    updated_before = DateTimeFilter(field_name="updated_at", lookup_expr="lt")
    email = django_filters.CharFilter(field_name="email", lookup_expr="iexact")
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
        method="search", help_text="Number, external id, email, customer or recipient name."
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

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(number__iexact=value)
            | Q(external_id=value)
            | Q(email__icontains=value)
            | Q(customer_name__icontains=value)
            | Q(shipping_address__name__icontains=value)
        )
