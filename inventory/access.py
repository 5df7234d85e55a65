"""Which warehouses a staff member may act on. Warehouse staff are limited to the
warehouses they are assigned; every other role with stock rights may act on all."""

from oms_site.errors import PermissionDenied
from oms_site.roles import Role, role_of

from .models import Warehouse, WarehouseAccess


def allowed_warehouses(user):
    """A queryset of warehouses the user may change stock in."""
    if role_of(user) == Role.WAREHOUSE:
        ids = WarehouseAccess.objects.filter(user=user).values_list("warehouse_id", flat=True)
        return Warehouse.objects.filter(pk__in=ids)
    return Warehouse.objects.all()


def check_warehouse_access(user, warehouse) -> None:
    """Raise PermissionDenied when a warehouse-limited user acts outside their warehouses.
    API keys (no user) are checked by scope instead, so None passes."""
    if user is None or not getattr(user, "is_authenticated", False) or user.pk is None:
        return
    if (
        role_of(user) == Role.WAREHOUSE
        and not WarehouseAccess.objects.filter(user=user, warehouse=warehouse).exists()
    ):
        raise PermissionDenied(
            f"You are not assigned to warehouse {warehouse.code}.",
            fields={"warehouse": ["Not one of your warehouses."]},
        )
