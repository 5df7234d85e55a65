"""Routing and allocation of orders.

Lock order: the order row first, then every ``StockLevel`` of its SKUs in primary-key
order (``inventory.stock.lock_levels_for_skus``). Every path follows it, so two orders
racing for the same units serialise on the rows instead of deadlocking, and the snapshot
routing sees is the truth until commit: exactly the units on the shelf get allocated.
"""

import logging
from functools import partial

from django.db import transaction
from django.db.models import Q

from inventory import cached as inventory_cached
from inventory import routing, stock
from inventory import services as inventory_services
from inventory.models import Warehouse
from oms_site import webhooks
from oms_site.actors import Actor
from oms_site.bulk_rows import update_rows
from oms_site.errors import TransitionNotAllowed, ValidationFailed

from ..access import check_order_access
from ..models import Allocation, Order, OrderEvent, OrderLine, OrderStatus
from ..signals import allocations_released
from . import in_hand
from .events import lock_order, order_payload, record_event, run_transition, save_order_fields

logger = logging.getLogger(__name__)


def _reference(order) -> str:
    return f"order:{order.number}"


def record_converted_hold(order, lines, converted, *, actor):
    """Store allocations that came from a checkout hold (the stock already moved)."""
    pools = {sku_id: [list(entry) for entry in entries] for sku_id, entries in converted.items()}
    for line in lines:
        for entry in pools.get(line.sku_id, []):
            warehouse_id, units = entry
            take = min(units, line.quantity_open)
            if take:
                Allocation.objects.create(line=line, warehouse_id=warehouse_id, quantity=take)
                line.quantity_allocated += take
                entry[1] -= take
        line.save(update_fields=["quantity_allocated"])
    record_event(
        order,
        kind=OrderEvent.Kind.NOTE,
        actor=actor,
        message="Checkout stock hold converted to allocation.",
        details={"held": {str(k): v for k, v in converted.items()}},
    )


def allocate_order(
    order,
    *,
    actor: Actor,
    manual_warehouse: Warehouse | None = None,
    announce: bool = True,
    exclude_warehouse_ids=(),
    new_lines: list[OrderLine] | None = None,
) -> Order:
    """Route the order's open units and allocate them; the rest is backordered.

    ``exclude_warehouse_ids``: warehouses routing must not use this time (a short pick
    just showed their count is wrong).

    Always runs inside a caller's transaction (it joins it; no savepoint). The order is
    locked here if the caller has not locked it already.

    ``new_lines``: placement passes the order it created in this same transaction with its
    lines (their SKUs loaded with supplier). No other transaction can see that row yet,
    so there is nothing to lock or read back; the lines come back with their new
    allocations attached (``in_hand``), so the API answers without reading them again.
    """
    with transaction.atomic(savepoint=False):
        if new_lines is None:
            order = lock_order(order)
            all_lines = list(order.lines.select_related("sku__supplier"))
        else:
            all_lines = new_lines
        if order.fulfilled_by_channel:
            raise TransitionNotAllowed(
                f"Order {order.number} is fulfilled by {order.channel.name} from its own stock; "
                "it is never allocated here.",
                fields={"status": ["Fulfilled by the sales channel."]},
            )
        routable = (OrderStatus.PENDING, OrderStatus.BACKORDERED, OrderStatus.PARTIALLY_SHIPPED)
        if order.status not in routable:
            raise TransitionNotAllowed(
                f"Order {order.number} is {order.get_status_display().lower()}; only pending, "
                "backordered or partially shipped orders are routed.",
                fields={"status": [f"Not allowed from {order.status}."]},
            )
        lines = [line for line in all_lines if line.quantity_open > 0]
        decision = None
        if lines:
            options = inventory_cached.routing_options()
            levels = stock.lock_levels_for_routing([line.sku_id for line in lines])
            candidates = [lv for lv in levels if lv.warehouse_id not in set(exclude_warehouse_ids)]
            snapshot = inventory_services.snapshot_from_levels(
                candidates,
                respect_safety_stock=options.respect_safety_stock,
                skus=[line.sku for line in lines],
            )
            decision = routing.route(
                [routing.RouteLine(line.pk, line.sku_id, line.quantity_open) for line in lines],
                routing.Destination(
                    order.ship_to_country, order.ship_to_latitude, order.ship_to_longitude
                ),
                snapshot,
                options.config,
                manual_warehouse_id=manual_warehouse.pk if manual_warehouse else None,
            )
            allocations = _apply(order, lines, levels, decision, actor=actor)
            if new_lines is not None:
                attach_allocations(new_lines, allocations)
        elif new_lines is not None:
            attach_allocations(new_lines, [])
        fully_allocated = all(line.quantity_open == 0 for line in all_lines)
        previous = order.status
        # A partially shipped order whose short-picked units are routed again keeps its
        # status; what could not be placed waits as open units (see the routed event).
        if previous != OrderStatus.PARTIALLY_SHIPPED:
            if fully_allocated:
                run_transition(order, "mark_allocated", actor=actor, announce=announce)
            elif previous != OrderStatus.BACKORDERED:
                run_transition(order, "mark_backordered", actor=actor, announce=announce)
        if decision is not None and (decision.assignments or previous != order.status):
            _record_decision(
                order,
                decision,
                snapshot,
                actor=actor,
                manual=manual_warehouse,
                announce=announce,
            )
        return order


def _apply(order, lines, levels, decision, *, actor):
    by_pair = {(lv.sku_id, lv.warehouse_id): lv for lv in levels}
    lines_by_id = {line.pk: line for line in lines}
    allocations, stock_allocations = [], []
    for assignment in decision.assignments:
        line = lines_by_id[assignment.line_key]
        if assignment.warehouse_id is not None:
            level = by_pair[(assignment.sku_id, assignment.warehouse_id)]
            stock_allocations.append((level, assignment.quantity))
        allocations.append(
            Allocation(
                line=line,
                warehouse_id=assignment.warehouse_id,
                supplier_id=assignment.supplier_id,
                quantity=assignment.quantity,
            )
        )
        line.quantity_allocated += assignment.quantity
    if stock_allocations:
        stock.allocate_many(stock_allocations, reference=_reference(order), actor=actor)
    Allocation.objects.bulk_create(allocations)
    changed = {a.line.pk: a.line for a in allocations}
    if changed:
        update_rows(list(changed.values()), ["quantity_allocated"])
    return allocations


def attach_allocations(lines, allocations) -> None:
    """Hand each new line its allocations, with their warehouse or supplier, as a read
    with ``select_related`` would."""
    warehouses = inventory_cached.warehouses().by_id
    by_line = {}
    for allocation in allocations:
        if allocation.warehouse_id is not None:
            if allocation.warehouse_id in warehouses:
                allocation.warehouse = warehouses[allocation.warehouse_id]
        else:
            allocation.supplier = allocation.line.sku.supplier
        by_line.setdefault(allocation.line.pk, []).append(allocation)
    for line in lines:
        in_hand.attach(line, "allocations", by_line.get(line.pk, []))


def decision_details(decision, snapshot, *, manual=None) -> dict:
    """The routing decision as stored on the order and in its ``routed`` event."""
    codes = {wh.id: wh.code for wh in snapshot.warehouses}
    details = decision.as_dict()
    for entry in details["assignments"]:
        entry["warehouse"] = codes.get(entry["warehouse_id"])
    if manual is not None:
        details["manual_warehouse"] = manual.code
    return details


def _record_decision(order, decision, snapshot, *, actor, manual, announce):
    details = decision_details(decision, snapshot, manual=manual)
    order.routing_decision = details
    save_order_fields(order, ["routing_decision"])
    record_event(
        order,
        kind=OrderEvent.Kind.ROUTED,
        actor=actor,
        message=decision.explanation,
        details=details,
    )
    if announce:
        webhooks.publish("order.routed", order_payload(order) | {"decided_by": decision.decided_by})


def settle_allocations(order, stock_change) -> list[Allocation]:
    """End every allocation of a locked order: ``stock_change`` (``stock.deallocate`` or
    ``stock.ship``) moves each warehouse allocation's units in the ledger; drop-shipped
    ones have no stock here. Returns the allocations, which no longer exist."""
    allocations = list(
        Allocation.objects.filter(line__order=order).select_related("line").order_by("pk")
    )
    for allocation in allocations:
        if allocation.warehouse_id is not None:
            stock_change(
                sku_id=allocation.line.sku_id,
                warehouse_id=allocation.warehouse_id,
                quantity=allocation.quantity,
            )
    Allocation.objects.filter(pk__in=[a.pk for a in allocations]).delete()
    return allocations


def release_allocations(order, *, actor: Actor, reason: str) -> int:
    """Give every warehouse allocation of a locked order back to stock; listeners
    (fulfillment: open pick lists and shipments) hear ``allocations_released``."""
    allocations = settle_allocations(
        order, partial(stock.deallocate, reference=_reference(order), actor=actor)
    )
    order.lines.update(quantity_allocated=0)
    if allocations:
        allocations_released.send(
            sender=Order,
            order=order,
            released=[(a.line_id, a.warehouse_id, a.quantity) for a in allocations],
            reason=reason,
            actor=actor,
        )
    return sum(a.quantity for a in allocations)


@transaction.atomic
def reroute_order(order, *, actor: Actor, warehouse: Warehouse | None = None) -> Order:
    """Give the allocations back and route again, by the rules or to a chosen warehouse."""
    order = lock_order(order)
    check_order_access(order, actor=actor)
    if warehouse is not None and not warehouse.active:
        raise ValidationFailed(
            f"Warehouse {warehouse.code} is inactive.", fields={"warehouse": ["Inactive."]}
        )
    if order.status in (OrderStatus.ALLOCATED, OrderStatus.BACKORDERED):
        # Lock the stock rows before touching them, in the same order allocation does.
        stock.lock_levels_for_skus(order.lines.values_list("sku_id", flat=True))
        released = release_allocations(order, actor=actor, reason="rerouted")
        run_transition(
            order,
            "unroute",
            actor=actor,
            message=f"Re-routing: {released} allocated unit(s) released"
            + (f", chosen warehouse {warehouse.code}" if warehouse else ""),
        )
    elif order.status != OrderStatus.PENDING:
        raise TransitionNotAllowed(
            f"Can't re-route order {order.number}: it is {order.get_status_display().lower()}.",
            fields={"status": [f"Not allowed from {order.status}."]},
        )
    return allocate_order(order, actor=actor, manual_warehouse=warehouse)


def allocate_backorders(*, sku_ids=None, actor: Actor | None = None, limit=500) -> int:
    """Allocate backordered orders, oldest first, each in its own transaction.

    Safe to run twice or concurrently: each order is locked and re-checked.
    Returns how many orders became fully allocated.
    """
    actor = actor or Actor.system("backorder-allocation")
    orders = Order.objects.filter(status=OrderStatus.BACKORDERED)
    if sku_ids:
        orders = orders.filter(Q(lines__sku_id__in=list(sku_ids))).distinct()
    allocated = 0
    for order_id in orders.order_by("placed_at", "pk").values_list("pk", flat=True)[:limit]:
        with transaction.atomic():
            order = lock_order(order_id)
            if order.status != OrderStatus.BACKORDERED:
                continue
            order = allocate_order(order, actor=actor)
            allocated += order.status == OrderStatus.ALLOCATED
    return allocated
