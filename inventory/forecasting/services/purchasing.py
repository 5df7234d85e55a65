"""Purchase orders: draft, place, receive (into stock through ``inventory.stock``), cancel.

Open purchase quantities (placed, not yet received) are stock on the way for the forecast's
projected stock and purchase suggestions. Each change locks the purchase order row, moves
its state machine, and writes an event in the same transaction.
"""

import secrets
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed

from inventory import stock
from inventory.access import check_warehouse_access
from inventory.models import SKU, Supplier, Warehouse
from oms_site.actors import Actor
from oms_site.errors import TransitionNotAllowed, ValidationFailed

from ..models import PurchaseOrder, PurchaseOrderEvent, PurchaseOrderLine, SkuForecast

P = PurchaseOrder.Status
MAX_LINES = 500


def _event(order, *, kind, actor, message="", frm="", to=""):
    PurchaseOrderEvent.objects.create(
        order=order,
        kind=kind,
        from_status=frm,
        to_status=to,
        message=message[:500],
        actor_label=actor.label[:150],
        actor_user_id=actor.user_id,
    )


def _lock(order: PurchaseOrder) -> PurchaseOrder:
    return (
        PurchaseOrder.objects.select_for_update(of=("self",))
        .select_related("supplier", "warehouse")
        .get(pk=order.pk)
    )


def _move(order, transition_name, *, actor, message="") -> None:
    transition = getattr(order, transition_name)
    if not can_proceed(transition):
        raise TransitionNotAllowed(
            f"Purchase order {order.number} is {order.get_status_display().lower()}; "
            f"it cannot be {transition_name.replace('_', ' ')}d now.",
            fields={"status": [order.status]},
        )
    before = order.status
    transition()
    order.save()
    _event(order, kind="status_changed", actor=actor, message=message, frm=before, to=order.status)


def _clean_lines(lines) -> list[tuple[SKU, int]]:
    cleaned, seen = [], set()
    for sku, quantity in lines:
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
            raise ValidationFailed(
                f"The quantity of {sku.code} must be a whole number above zero.",
                fields={"lines": [f"{sku.code}: quantity must be above zero."]},
            )
        if sku.pk in seen:
            raise ValidationFailed(
                f"{sku.code} is on the order twice.", fields={"lines": [f"{sku.code}: twice."]}
            )
        seen.add(sku.pk)
        cleaned.append((sku, quantity))
    if not cleaned:
        raise ValidationFailed("Add at least one line.", fields={"lines": ["Required."]})
    if len(cleaned) > MAX_LINES:
        raise ValidationFailed(
            f"At most {MAX_LINES} lines.", fields={"lines": [f"At most {MAX_LINES}."]}
        )
    return cleaned


@transaction.atomic
def create_purchase_order(
    *,
    supplier: Supplier,
    warehouse: Warehouse,
    lines,
    actor: Actor,
    expected_date: date | None = None,
    note: str = "",
    supplier_reference: str = "",
) -> PurchaseOrder:
    """A draft purchase order; ``lines`` are (SKU, quantity) pairs."""
    cleaned = _clean_lines(lines)
    check_warehouse_access(actor.user, warehouse)
    order = PurchaseOrder.objects.create(
        number=f"new-{secrets.token_hex(7)}",  # the real number needs the pk
        supplier=supplier,
        warehouse=warehouse,
        expected_date=expected_date,
        note=note[:500],
        supplier_reference=supplier_reference[:100],
    )
    order.number = f"PO-{order.pk:06d}"
    order.save(update_fields=["number"])
    PurchaseOrderLine.objects.bulk_create(
        [PurchaseOrderLine(order=order, sku=sku, quantity=q) for sku, q in cleaned]
    )
    units = sum(q for _, q in cleaned)
    _event(
        order,
        kind="created",
        actor=actor,
        message=f"{len(cleaned)} line(s), {units} unit(s) for {warehouse.code}.",
        to=order.status,
    )
    return order


@transaction.atomic
def draft_from_suggestions(
    *, supplier: Supplier, warehouse: Warehouse, actor: Actor
) -> PurchaseOrder:
    """A draft with the forecast's suggested quantities for one supplier and warehouse."""
    suggestions = list(
        SkuForecast.objects.filter(
            supplier=supplier, warehouse=warehouse, suggested_quantity__gt=0
        ).select_related("sku")
    )
    if not suggestions:
        raise ValidationFailed(
            f"Nothing to order from {supplier.name} for {warehouse.code} right now.",
            fields={"supplier": ["No suggestions."]},
        )
    expected = timezone.localdate() + timedelta(days=supplier.lead_time_days)
    return create_purchase_order(
        supplier=supplier,
        warehouse=warehouse,
        lines=[(s.sku, s.suggested_quantity) for s in suggestions],
        actor=actor,
        expected_date=expected,
        note="From the purchase suggestions of " + suggestions[0].as_of.isoformat(),
    )


@transaction.atomic
def place_purchase_order(
    *, order: PurchaseOrder, actor: Actor, expected_date: date | None = None
) -> PurchaseOrder:
    """Draft -> ordered. Without an expected date, the supplier's lead time from today."""
    order = _lock(order)
    check_warehouse_access(actor.user, order.warehouse)
    if expected_date is None and order.expected_date is None:
        expected_date = timezone.localdate() + timedelta(days=order.supplier.lead_time_days)
    if expected_date is not None:
        order.expected_date = expected_date
    order.ordered_at = timezone.now()
    _move(order, "place", actor=actor, message=f"Expected {order.expected_date.isoformat()}.")
    return order


@transaction.atomic
def receive_purchase_order(
    *, order: PurchaseOrder, quantities: dict[int, int], actor: Actor, close: bool = False
) -> PurchaseOrder:
    """Book arrived units into stock (one receipt per line, reference = the PO number).
    ``quantities`` maps line id to units arrived now; ``close`` ends the order even when
    lines are short (the rest will not come)."""
    order = _lock(order)
    check_warehouse_access(actor.user, order.warehouse)
    if order.status not in PurchaseOrder.OPEN:
        raise TransitionNotAllowed(
            f"Purchase order {order.number} is {order.get_status_display().lower()}: "
            "only ordered purchase orders are received.",
            fields={"status": [order.status]},
        )
    lines = {
        line.pk: line
        for line in PurchaseOrderLine.objects.select_for_update(of=("self",))
        .select_related("sku")
        .filter(order=order)
        .order_by("pk")
    }
    received = []
    for line_id, units in sorted(quantities.items()):
        line = lines.get(line_id)
        if line is None:
            raise ValidationFailed(
                f"Line {line_id} is not on {order.number}.", fields={"lines": ["Unknown line."]}
            )
        if not isinstance(units, int) or isinstance(units, bool) or units < 0:
            raise ValidationFailed(
                f"{line.sku.code}: received units must be zero or more.",
                fields={f"line_{line_id}": ["Must be zero or more."]},
            )
        if units > line.open_quantity:
            raise ValidationFailed(
                f"{line.sku.code}: {units} received but only {line.open_quantity} open.",
                fields={f"line_{line_id}": [f"At most {line.open_quantity}."]},
            )
        if units:
            stock.receive(
                sku=line.sku,
                warehouse=order.warehouse,
                quantity=units,
                actor=actor,
                reference=order.number,
                note=f"Purchase order {order.number}",
            )
            line.received_quantity += units
            line.save(update_fields=["received_quantity"])
            received.append(f"{units} x {line.sku.code}")
    if not received and not close:
        raise ValidationFailed(
            "Enter the units that arrived.", fields={"lines": ["Nothing received."]}
        )
    complete = all(line.open_quantity == 0 for line in lines.values())
    message = ("Received " + ", ".join(received) + ".") if received else ""
    if complete or close:
        if close and not complete:
            message += " Closed short: the rest will not come."
        _move(order, "receive_all", actor=actor, message=message.strip())
    else:
        _move(order, "receive_part", actor=actor, message=message)
    return order


@transaction.atomic
def cancel_purchase_order(*, order: PurchaseOrder, actor: Actor, reason: str = "") -> PurchaseOrder:
    order = _lock(order)
    check_warehouse_access(actor.user, order.warehouse)
    _move(order, "cancel", actor=actor, message=reason)
    return order
