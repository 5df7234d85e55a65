"""Bulk actions on many orders: the actions a merchant can take on a selection or on every
order a filter matches, and the job that runs them in the background.

An action works on one order at a time, each in its own transaction, through the same
services the order page uses, so every rule (states, roles, warehouses) holds; an order
that refuses gets its reason, the others go on. Higher layers add their own actions
(fulfillment: pick lists, packing slips) with ``register`` from their ``AppConfig.ready``,
so this module never imports them.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from oms_site.actors import Actor
from oms_site.errors import ValidationFailed
from oms_site.roles import Capability, user_can

from .models import Order

# What a bulk action may need from the form beside it.
PARAMS = ("reason", "warehouse", "tag")


@dataclass(frozen=True)
class BulkAction:
    key: str
    label: str
    capability: str
    # perform(order, actor, params) -> a short result text; raises DomainError to refuse.
    perform: Callable[[Order, Actor, dict], str]
    params: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    order: int = 100  # place in the action menu
    # finish(job, done_order_ids, actor) runs once after every order was tried (one pick
    # list per warehouse, one PDF of packing slips); returns a message for the job page.
    finish: Callable | None = None
    extra: dict = field(default_factory=dict)


_ACTIONS: dict[str, BulkAction] = {}


def register(action: BulkAction) -> None:
    _ACTIONS[action.key] = action


def actions() -> list[BulkAction]:
    return sorted(_ACTIONS.values(), key=lambda a: (a.order, a.key))


def get(key: str) -> BulkAction:
    action = _ACTIONS.get(key)
    if action is None:
        raise ValidationFailed(
            _("Unknown bulk action %(action)s.") % {"action": key},
            fields={"action": [_("Unknown action.")]},
        )
    return action


def allowed_for(user) -> list[BulkAction]:
    return [a for a in actions() if user_can(user, a.capability)]


def _register_order_actions():
    from django.utils.translation import gettext as now

    from .services import cancel_order, hold_order, release_order, reroute_order, tags

    def hold(order, actor, params):
        hold_order(order, reason=params["reason"], actor=actor)
        return now("On hold.")

    def release(order, actor, params):
        order = release_order(order, actor=actor)
        return now("Released: %(status)s.") % {"status": order.get_status_display()}

    def cancel(order, actor, params):
        cancel_order(order, reason=params.get("reason", ""), actor=actor)
        return now("Cancelled.")

    def route(order, actor, params):
        order = reroute_order(order, warehouse=params.get("warehouse"), actor=actor)
        return now("Routed: %(status)s.") % {"status": order.get_status_display()}

    def add_tag(order, actor, params):
        tags.add_tag(order, tag=params["tag"], actor=actor)
        return now("Tag added.")

    def remove_tag(order, actor, params):
        tags.remove_tag(order, tag=params["tag"], actor=actor)
        return now("Tag removed.")

    for action in [
        BulkAction("hold", _("Hold"), Capability.ORDER_MANAGE, hold, ("reason",), ("reason",), 10),
        BulkAction("release", _("Release"), Capability.ORDER_MANAGE, release, order=20),
        BulkAction("cancel", _("Cancel"), Capability.ORDER_MANAGE, cancel, ("reason",), (), 30),
        BulkAction(
            "route",
            _("Route to a warehouse"),
            Capability.ORDER_ROUTE,
            route,
            ("warehouse",),
            (),
            40,
        ),
        BulkAction(
            "add_tag", _("Add tag"), Capability.ORDER_MANAGE, add_tag, ("tag",), ("tag",), 50
        ),
        BulkAction(
            "remove_tag",
            _("Remove tag"),
            Capability.ORDER_MANAGE,
            remove_tag,
            ("tag",),
            ("tag",),
            60,
        ),
    ]:
        register(action)


_register_order_actions()
