"""Which pick lists and shipments a staff member may see and act on.

Warehouse staff are limited to the warehouses they are assigned
(``inventory.WarehouseAccess``); other roles see every warehouse. API keys have no
warehouse limit (their scopes decide). A shipment from a drop-shipping supplier belongs
to no warehouse: only users who see every warehouse see it.
"""

from inventory.access import allowed_warehouses, check_warehouse_access
from oms_site.errors import NotFound
from oms_site.roles import Role, role_of


def limits_warehouses(user) -> bool:
    return (
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.pk is not None
        and role_of(user) == Role.WAREHOUSE
    )


def scope_by_warehouse(queryset, user, field: str = "warehouse"):
    """Only the rows in the user's warehouses (everything for other roles and API keys)."""
    if not limits_warehouses(user):
        return queryset
    return queryset.filter(**{f"{field}__in": allowed_warehouses(user)})


def check_access(user, warehouse, *, what: str = "") -> None:
    """Refuse (403) acting on something of another warehouse."""
    if warehouse is None:
        if limits_warehouses(user):
            raise NotFound(f"{what or 'It'} does not exist.")
        return
    check_warehouse_access(user, warehouse)
