"""Which orders a warehouse user may act on.

Warehouse staff act only in the warehouses they are assigned (``inventory.WarehouseAccess``).
An order is *in* the warehouses that hold its open allocations and the warehouses its
stock already left from; the second comes from the ledger, where every stock movement made
for an order carries the reference ``order:<number>``. A warehouse user may act on an order
(ship, deliver, and the warehouse work that comes with fulfillment) only when every one of
those warehouses is theirs; an order in no warehouse (nothing allocated yet, or drop-shipped
only) is nobody's in the warehouse. Every other role, API keys and the system are not
limited by warehouse.
"""

from django.db.models import Exists, OuterRef, QuerySet

from inventory.access import allowed_warehouses
from inventory.models import MovementReason, StockMovement
from oms_site.actors import Actor
from oms_site.errors import PermissionDenied
from oms_site.roles import Role, role_of

from .models import Allocation


def ledger_reference(order) -> str:
    return f"order:{order.number}"


def is_warehouse_limited(user) -> bool:
    return role_of(user) == Role.WAREHOUSE


def order_warehouse_ids(orders) -> dict[int, set[int]]:
    """order id -> ids of the warehouses the order is in, for many orders in two queries.
    Uses prefetched ``lines__allocations`` when the orders carry them."""
    orders = list(orders)
    result = {order.pk: set() for order in orders}
    unprefetched = []
    for order in orders:
        lines = getattr(order, "_prefetched_objects_cache", {}).get("lines")
        if lines is None:
            unprefetched.append(order.pk)
            continue
        for line in lines:
            for allocation in line.allocations.all():
                if allocation.warehouse_id is not None:
                    result[order.pk].add(allocation.warehouse_id)
    if unprefetched:
        for order_id, warehouse_id in Allocation.objects.filter(
            line__order_id__in=unprefetched, warehouse__isnull=False
        ).values_list("line__order_id", "warehouse_id"):
            result[order_id].add(warehouse_id)
    by_reference = {ledger_reference(order): order.pk for order in orders if order.number}
    if by_reference:
        shipped_from = StockMovement.objects.filter(
            reference__in=list(by_reference), reason=MovementReason.SHIPMENT
        ).values_list("reference", "warehouse_id")
        for reference, warehouse_id in shipped_from.distinct():
            result[by_reference[reference]].add(warehouse_id)
    return result


def user_warehouse_ids(user) -> set[int]:
    """The user's warehouses, read once per user object (one request)."""
    cached = getattr(user, "_oms_warehouse_ids", None)
    if cached is None:
        cached = set(allowed_warehouses(user).values_list("pk", flat=True))
        user._oms_warehouse_ids = cached
    return cached


def may_act_on(user, order, *, warehouse_ids: set[int] | None = None) -> bool:
    """Whether the user's warehouses allow acting on the order (roles aside)."""
    if user is None or not is_warehouse_limited(user):
        return True
    if warehouse_ids is None:
        warehouse_ids = order_warehouse_ids([order])[order.pk]
    return bool(warehouse_ids) and warehouse_ids <= user_warehouse_ids(user)


def check_order_access(order, *, actor: Actor) -> None:
    """Refuse a warehouse user acting on an order outside their warehouses."""
    if actor.user is None or may_act_on(actor.user, order):
        return
    raise PermissionDenied(
        f"Order {order.number} is not in your warehouses.",
        fields={"warehouse": ["Not one of your warehouses."]},
    )


def in_warehouses(queryset: QuerySet, warehouse_ids) -> QuerySet:
    """Orders with open allocations in any of these warehouses: their work waits there."""
    return queryset.filter(
        Exists(
            Allocation.objects.filter(
                line__order=OuterRef("pk"), warehouse_id__in=list(warehouse_ids)
            )
        )
    )


def in_user_warehouses(queryset: QuerySet, user) -> QuerySet:
    return in_warehouses(queryset, user_warehouse_ids(user))
