"""What can be done to an order now, and by whom: the one answer the order page's buttons
and the API's ``allowed_actions`` share.

An action is offered when the order's state allows it, the actor's role (or the API key's
scope) allows it, and — for warehouse work — the order is in the actor's warehouses
(``orders.access``). The services check the state and the warehouses again under the row
lock; this module is for showing what makes sense.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django_fsm import can_proceed

from oms_site.actors import Actor
from oms_site.roles import Capability, user_can

from . import access
from .models import Order, OrderStatus
from .services.editing import is_editable


@dataclass(frozen=True)
class OrderAction:
    name: str
    capability: str
    api_scope: str
    possible: Callable[[Order], bool]
    # Warehouse staff may take it only on orders in their warehouses.
    warehouse_work: bool = False


def _can(transition: str) -> Callable[[Order], bool]:
    # Conditions are left out: "ship" ships what is allocated now, "mark_allocated" waits
    # for stock; the service decides with the rows locked.
    return lambda order: can_proceed(getattr(order, transition), check_conditions=False)


def _reroutable(order) -> bool:
    # Re-routing gives allocations back and routes again; a pending order is routed.
    return order.status in (OrderStatus.PENDING, OrderStatus.ALLOCATED, OrderStatus.BACKORDERED)


ACTIONS = {
    action.name: action
    for action in (
        OrderAction("submit", Capability.ORDER_MANAGE, "orders:write", _can("submit")),
        OrderAction("hold", Capability.ORDER_MANAGE, "orders:write", _can("hold")),
        OrderAction("release", Capability.ORDER_MANAGE, "orders:write", _can("release")),
        OrderAction("cancel", Capability.ORDER_MANAGE, "orders:write", _can("cancel")),
        OrderAction("reroute", Capability.ORDER_ROUTE, "orders:write", _reroutable),
        OrderAction("edit", Capability.ORDER_EDIT, "orders:write", is_editable),
        OrderAction(
            "ship",
            Capability.ORDER_SHIP,
            "orders:write",
            _can("mark_partially_shipped"),
            warehouse_work=True,
        ),
        OrderAction(
            "deliver",
            Capability.ORDER_SHIP,
            "orders:write",
            _can("mark_delivered"),
            warehouse_work=True,
        ),
        OrderAction("note", Capability.ORDER_MANAGE, "orders:write", lambda order: True),
    )
}


def _actor_may(action: OrderAction, actor: Actor) -> bool:
    if actor.api_key is not None:
        return actor.api_key.has_scope(action.api_scope)
    if actor.user is not None:
        return user_can(actor.user, action.capability)
    return actor.kind == "system"


def allowed_actions(order, *, actor: Actor, warehouse_ids: set[int] | None = None) -> list[str]:
    """The actions the order can take now that this actor may take, in display order.

    ``warehouse_ids`` (the order's warehouses, from ``access.order_warehouse_ids``) saves
    a query per order when a list is shown to warehouse staff.
    """
    names = []
    limited = actor.user is not None and access.is_warehouse_limited(actor.user)
    for action in ACTIONS.values():
        if not (action.possible(order) and _actor_may(action, actor)):
            continue
        if action.warehouse_work and limited:
            if warehouse_ids is None:
                warehouse_ids = access.order_warehouse_ids([order])[order.pk]
            if not access.may_act_on(actor.user, order, warehouse_ids=warehouse_ids):
                continue
        names.append(action.name)
    return names
