"""Fulfillment's bulk actions on the order list: make pick lists for the chosen orders, and
print their packing slips as one PDF.

Each order is checked on its own first (``perform``: is there anything to pick here, in a
warehouse this person may work in? does it have a shipment to pack?); the work itself runs
once at the end (``finish``) for every order that passed, so a batch of orders becomes a
few pick lists, one per warehouse, rather than a list per order. An order that passed the
check but did not end up on a list (someone else's wave took it meanwhile) is turned into
a refusal with that reason: the job page never shows "done" for an order left out.
"""

from collections import defaultdict

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils.translation import gettext as now
from django.utils.translation import gettext_lazy as _

from inventory.access import allowed_warehouses
from oms_site.errors import Conflict
from oms_site.roles import Capability
from orders import bulk
from orders.dashboard_models import BulkJobItem
from orders.models import Allocation, Order, OrderStatus

from .models import OPEN_SHIPMENT_STATUSES, Shipment
from .services.picking import MAX_ORDERS_PER_LIST, WaveRules, create_pick_lists

PICKABLE = (OrderStatus.ALLOCATED, OrderStatus.PARTIALLY_SHIPPED)


def _user(actor):
    return actor.user if actor is not None else None


def _waiting_warehouses(order, user) -> list:
    """The warehouses (the user may work in) holding units of the order that are on no
    open shipment yet."""
    open_shipment = Shipment.objects.filter(
        order_id=order.pk, warehouse=OuterRef("warehouse"), status__in=OPEN_SHIPMENT_STATUSES
    )
    allocations = Allocation.objects.filter(line__order=order, warehouse__isnull=False).filter(
        ~Exists(open_shipment)
    )
    if user is not None:
        allocations = allocations.filter(warehouse__in=allowed_warehouses(user))
    return sorted(set(allocations.values_list("warehouse__code", flat=True)))


def check_pickable(order: Order, actor, params) -> str:
    if order.status not in PICKABLE:
        raise Conflict(
            now("Order is %(status)s: only allocated orders are picked.")
            % {"status": order.get_status_display()},
            fields={"status": [now("Not allocated.")]},
        )
    warehouses = _waiting_warehouses(order, _user(actor))
    if not warehouses:
        raise Conflict(
            now("Nothing of this order waits to be picked in your warehouses."),
            fields={"warehouse": [now("Nothing to pick.")]},
        )
    return now("To be picked at %(warehouses)s.") % {"warehouses": ", ".join(warehouses)}


def make_pick_lists(job, done_order_ids, actor) -> str:
    """One wave per warehouse from the orders that passed the check."""
    from inventory.models import Warehouse

    numbers = dict(Order.objects.filter(pk__in=done_order_ids).values_list("pk", "number"))
    by_warehouse = defaultdict(list)
    for order_id, warehouse_id in (
        Allocation.objects.filter(line__order_id__in=done_order_ids, warehouse__isnull=False)
        .values_list("line__order_id", "warehouse_id")
        .distinct()
    ):
        by_warehouse[warehouse_id].append(numbers[order_id])
    user = _user(actor)
    allowed = set(allowed_warehouses(user).values_list("pk", flat=True)) if user else None
    placed: dict[int, list[str]] = defaultdict(list)
    made = []
    for warehouse in Warehouse.objects.filter(pk__in=by_warehouse).order_by("code"):
        if allowed is not None and warehouse.pk not in allowed:
            continue
        order_numbers = sorted(by_warehouse[warehouse.pk])
        rules = WaveRules(
            order_numbers=order_numbers,
            max_orders=MAX_ORDERS_PER_LIST,
            max_lists=0,
            single_line_together=True,
        )
        try:
            with transaction.atomic():
                lists = create_pick_lists(warehouse=warehouse, actor=actor, rules=rules)
        except Conflict:
            continue  # nothing left to pick there: the orders are reported below
        for pick_list in lists:
            made.append(pick_list.number)
            for order_id in pick_list.orders.values_list("order_id", flat=True):
                placed[order_id].append(f"{pick_list.number} ({warehouse.code})")
    for order_id in done_order_ids:
        item = BulkJobItem.objects.filter(job=job, order_id=order_id)
        if placed.get(order_id):
            item.update(
                message=now("On pick list %(lists)s.") % {"lists": ", ".join(placed[order_id])}
            )
        else:
            item.update(
                outcome=BulkJobItem.Outcome.REFUSED,
                message=now("Another pick list took its units meanwhile."),
            )
    _recount(job)
    if not made:
        return now("No pick list was made.")
    return now("%(count)s pick list(s): %(lists)s.") % {
        "count": len(made),
        "lists": ", ".join(made),
    }


def _recount(job) -> None:
    from orders.dashboard_models import BulkJob

    items = BulkJobItem.objects.filter(job=job)
    BulkJob.objects.filter(pk=job.pk).update(
        succeeded=items.filter(outcome=BulkJobItem.Outcome.DONE).count(),
        refused=items.filter(outcome=BulkJobItem.Outcome.REFUSED).count(),
    )


def shipments_for_slips(order_ids, user=None):
    """The shipments whose packing slips a batch prints: every shipment of these orders
    except cancelled ones, in order and shipment order, limited to the user's warehouses."""
    shipments = (
        Shipment.objects.filter(order_id__in=order_ids)
        .exclude(status="cancelled")
        .select_related("order", "warehouse")
        .order_by("order_id", "pk")
    )
    if user is not None:
        from .access import scope_by_warehouse

        shipments = scope_by_warehouse(shipments, user)
    return shipments


def check_has_shipment(order: Order, actor, params) -> str:
    count = shipments_for_slips([order.pk], _user(actor)).count()
    if not count:
        raise Conflict(
            now("No shipment yet: make a pick list first."),
            fields={"shipment": [now("No shipment.")]},
        )
    return now("%(count)s packing slip(s).") % {"count": count}


def offer_packing_slips(job, done_order_ids, actor) -> str:
    from orders.dashboard_models import BulkJob

    if not done_order_ids:
        return now("No packing slip to print.")
    BulkJob.objects.filter(pk=job.pk).update(
        result_file=reverse("fulfillment:bulk_packing_slips", args=[job.pk])
    )
    return now("The packing slips are ready to print.")


def register_bulk_actions() -> None:
    bulk.register(
        bulk.BulkAction(
            "pick_lists",
            _("Create pick lists"),
            Capability.FULFILLMENT_WORK,
            check_pickable,
            order=70,
            finish=make_pick_lists,
        )
    )
    bulk.register(
        bulk.BulkAction(
            "packing_slips",
            _("Print packing slips"),
            Capability.FULFILLMENT_VIEW,
            check_has_shipment,
            order=80,
            finish=offer_packing_slips,
        )
    )
