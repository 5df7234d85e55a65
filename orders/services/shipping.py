"""Units leaving the building, and what comes back when a picker finds less than promised.

``ship_units`` is the one place where an order's allocated units become shipped: stock
leaves (on-hand and allocated both drop, with a ledger row), the lines and allocations
follow, the order moves to partially shipped or shipped through its own transitions, and
``orders.signals.order_shipped`` tells listeners (fulfillment, marketplace connectors)
which units left with which carrier and tracking number — all in the caller's
transaction. Fulfillment's shipments call it with the units they carry; the order's own
"ship" action (``ship_order``) ships everything allocated, and fulfillment records a
shipment for that too when it hears the signal.
"""

from collections import defaultdict

from django.db import transaction

from inventory import stock
from oms_site.actors import Actor
from oms_site.errors import Conflict, ValidationFailed

from ..access import check_order_access
from ..models import Allocation, Order, OrderEvent, OrderLine, OrderStatus
from ..signals import ShippedUnits, allocations_released, order_delivered, order_shipped
from .allocation import allocate_order
from .events import ensure_allowed, lock_order, record_event, run_transition


def _reference(order) -> str:
    return f"order:{order.number}"


@transaction.atomic
def ship_units(
    order,
    *,
    actor: Actor,
    units=None,
    carrier: str = "",
    tracking_number: str = "",
    shipment_reference: str = "",
) -> Order:
    """Ship allocated units of an order.

    ``units``: a list of ``(line_id, warehouse_id, quantity)`` (``warehouse_id`` None for
    a supplier's drop-ship), or None for everything allocated. Asking for more than is
    allocated there is refused (409) and nothing changes.
    """
    order = lock_order(order)
    # Same source states as mark_shipped, without its "all shipped" condition.
    ensure_allowed(order, "mark_partially_shipped")
    lines = {line.pk: line for line in order.lines.select_related("sku")}
    stock.lock_levels_for_skus(line.sku_id for line in lines.values())
    allocations = list(Allocation.objects.filter(line__order=order).order_by("pk"))
    wanted = _wanted(order, lines, allocations, units)
    shipped: list[ShippedUnits] = []
    for allocation in allocations:
        take = wanted.pop(allocation.pk, 0)
        if not take:
            continue
        line = lines[allocation.line_id]
        if allocation.warehouse_id is not None:
            stock.ship(
                sku_id=line.sku_id,
                warehouse_id=allocation.warehouse_id,
                quantity=take,
                reference=_reference(order),
                actor=actor,
            )
        if take == allocation.quantity:
            allocation.delete()
        else:
            allocation.quantity -= take
            allocation.save(update_fields=["quantity"])
        line.quantity_shipped += take
        line.quantity_allocated -= take
        shipped.append(
            ShippedUnits(
                line_id=line.pk,
                sku_id=line.sku_id,
                sku_code=line.sku_code,
                warehouse_id=allocation.warehouse_id,
                supplier_id=allocation.supplier_id,
                quantity=take,
            )
        )
    if not shipped:
        raise Conflict(
            f"Order {order.number} has no allocated units to ship.",
            fields={"lines": ["Nothing is allocated."]},
        )
    OrderLine.objects.bulk_update(
        [lines[u.line_id] for u in shipped], ["quantity_shipped", "quantity_allocated"]
    )
    everything_shipped = all(
        line.quantity_shipped + line.quantity_cancelled >= line.quantity for line in lines.values()
    )
    total = sum(u.quantity for u in shipped)
    details = {
        "units": total,
        "tracking_number": tracking_number,
        "carrier": carrier,
        "shipment": shipment_reference,
        "lines": [{"line": u.line_id, "sku": u.sku_code, "quantity": u.quantity} for u in shipped],
    }
    message = f"Shipped {total} unit(s)" + (
        f" with {carrier} {tracking_number}".rstrip() if carrier or tracking_number else ""
    )
    if shipment_reference:
        message += f" ({shipment_reference})"
    method = "mark_shipped" if everything_shipped else "mark_partially_shipped"
    run_transition(order, method, actor=actor, message=message, details=details)
    order_shipped.send(
        sender=Order,
        order=order,
        units=shipped,
        carrier=carrier,
        tracking_number=tracking_number,
        shipment_reference=shipment_reference,
        actor=actor,
    )
    return order


def _wanted(order, lines, allocations, units) -> dict:
    """Allocation id -> units to ship from it, checked against what is allocated."""
    if units is None:
        return {a.pk: a.quantity for a in allocations}
    allocated = defaultdict(int)
    for allocation in allocations:
        allocated[(allocation.line_id, allocation.warehouse_id)] += allocation.quantity
    wanted = defaultdict(int)
    for line_id, warehouse_id, quantity in units:
        if not isinstance(quantity, int) or quantity <= 0:
            raise ValidationFailed(
                "Quantities to ship must be whole numbers above zero.",
                fields={"quantity": ["Must be above zero."]},
            )
        if line_id not in lines:
            raise ValidationFailed(
                f"Line {line_id} is not on order {order.number}.", fields={"line": ["Unknown."]}
            )
        wanted[(line_id, warehouse_id)] += quantity
    by_allocation = {}
    for (line_id, warehouse_id), quantity in wanted.items():
        if quantity > allocated[(line_id, warehouse_id)]:
            raise Conflict(
                f"Only {allocated[(line_id, warehouse_id)]} of {lines[line_id].sku_code} "
                f"are allocated there on order {order.number}; {quantity} can't ship.",
                fields={"quantity": [f"At most {allocated[(line_id, warehouse_id)]}."]},
                code="not_allocated",
            )
        for allocation in allocations:
            if (allocation.line_id, allocation.warehouse_id) != (line_id, warehouse_id):
                continue
            take = min(quantity, allocation.quantity)
            if take:
                by_allocation[allocation.pk] = take
                quantity -= take
    return by_allocation


@transaction.atomic
def ship_order(order, *, actor: Actor, tracking_number: str = "", carrier: str = "") -> Order:
    """The merchant's "shipped outside the warehouse flow" button (marketplace-fulfilled,
    drop-ship, a parcel taken to the post office) and the API's equivalent: every
    allocated unit ships. Fulfillment records a shipment for it from ``order_shipped``.
    A warehouse user may do it only when every warehouse of the order is theirs."""
    order = lock_order(order)
    ensure_allowed(order, "mark_partially_shipped")
    check_order_access(order, actor=actor)
    return ship_units(order, actor=actor, carrier=carrier, tracking_number=tracking_number)


@transaction.atomic
def deliver_order(order, *, actor: Actor, source: str = "order") -> Order:
    """The order arrived. By hand (``source="order"``) a warehouse user must hold every
    warehouse of the order; fulfillment calls it when its last shipment is delivered
    (the shipment's warehouse was checked there)."""
    order = lock_order(order)
    ensure_allowed(order, "mark_delivered")
    if source == "order":
        check_order_access(order, actor=actor)
    run_transition(order, "mark_delivered", actor=actor, message="Delivered")
    order_delivered.send(sender=Order, order=order, actor=actor, source=source)
    return order


@transaction.atomic
def deallocate_units(
    order,
    *,
    line_id: int,
    warehouse_id: int,
    quantity: int,
    actor: Actor,
    write_off_note: str = "",
) -> Order:
    """A picker found fewer units than were allocated (a short pick).

    The missing units are deallocated (ledger) and, with ``write_off_note``, written off
    the warehouse's on-hand (they are not on the shelf). The order's open units then go
    back to routing without that warehouse, whose count just proved wrong: another
    warehouse, or backorder. Every step is an event on the order.
    """
    order = lock_order(order)
    line = order.lines.select_related("sku").filter(pk=line_id).first()
    if line is None:
        raise ValidationFailed(
            f"Line {line_id} is not on order {order.number}.", fields={"line": ["Unknown."]}
        )
    if order.status not in (OrderStatus.ALLOCATED, OrderStatus.PARTIALLY_SHIPPED):
        raise Conflict(
            f"Order {order.number} is {order.get_status_display().lower()}: nothing to deallocate.",
            fields={"status": [f"Not allowed from {order.status}."]},
        )
    stock.lock_levels_for_skus([line.sku_id])
    allocations = list(
        Allocation.objects.filter(line=line, warehouse_id=warehouse_id).order_by("pk")
    )
    available = sum(a.quantity for a in allocations)
    if not isinstance(quantity, int) or quantity <= 0 or quantity > available:
        raise Conflict(
            f"{available} of {line.sku_code} are allocated there; can't deallocate {quantity}.",
            fields={"quantity": [f"Between 1 and {available}."]},
        )
    remaining = quantity
    for allocation in allocations:
        take = min(remaining, allocation.quantity)
        if take == allocation.quantity:
            allocation.delete()
        elif take:
            allocation.quantity -= take
            allocation.save(update_fields=["quantity"])
        remaining -= take
    stock.deallocate(
        sku_id=line.sku_id,
        warehouse_id=warehouse_id,
        quantity=quantity,
        reference=_reference(order),
        actor=actor,
    )
    if write_off_note:
        warehouse = line.sku.stock_levels.get(warehouse_id=warehouse_id).warehouse
        stock.adjust(
            sku=line.sku,
            warehouse=warehouse,
            change=-quantity,
            actor=actor,
            note=write_off_note,
            reference=_reference(order),
        )
    line.quantity_allocated -= quantity
    line.save(update_fields=["quantity_allocated"])
    allocations_released.send(
        sender=Order,
        order=order,
        released=[(line.pk, warehouse_id, quantity)],
        reason="short_pick",
        actor=actor,
    )
    message = f"Short pick: {quantity} x {line.sku_code} deallocated" + (
        f" ({write_off_note})" if write_off_note else ""
    )
    if order.status == OrderStatus.ALLOCATED:
        run_transition(order, "unroute", actor=actor, message=message)
    else:
        record_event(order, kind=OrderEvent.Kind.NOTE, actor=actor, message=message)
    return allocate_order(order, actor=actor, exclude_warehouse_ids=[warehouse_id])
