"""Asking for a return, and staff's answer to it: create, approve, reject."""

from django.db import transaction
from django.utils import timezone

from inventory.models import MovementReason, StockMovement, Warehouse
from oms_site import webhooks
from oms_site.actors import Actor
from oms_site.errors import Conflict, ValidationFailed
from orders.access import ledger_reference
from orders.services.events import lock_order

from ..models import ReturnLine, ReturnReason, ReturnRequest, ReturnSource, ReturnStatus
from .events import lock_return, record, return_payload, transition
from .quantities import RETURNABLE_STATUSES, returnable_lines, within_window

MAX_COMMENT = 500


def default_warehouse(order) -> Warehouse | None:
    """Where a return goes when nobody says: a warehouse the order shipped from that
    accepts returns, else the best-ranked active warehouse that does."""
    shipped_from = StockMovement.objects.filter(
        reference=ledger_reference(order), reason=MovementReason.SHIPMENT
    ).values_list("warehouse_id", flat=True)
    candidates = Warehouse.objects.filter(active=True, accepts_returns=True).order_by("rank", "pk")
    return candidates.filter(pk__in=list(shipped_from)).first() or candidates.first()


def _check_warehouse(warehouse) -> None:
    if not warehouse.accepts_returns or not warehouse.active:
        raise ValidationFailed(
            f"Warehouse {warehouse.code} does not accept returns.",
            fields={"warehouse": ["Does not accept returns."]},
        )


def _checked_lines(order, lines) -> list[dict]:
    """``lines``: dicts with ``line`` (order line id), ``quantity``, ``reason``, ``comment``.
    Refused (422, naming each line) beyond what was shipped and not yet returned."""
    if not lines:
        raise ValidationFailed("Choose at least one line.", fields={"lines": ["Empty."]})
    available = {entry.line.pk: entry for entry in returnable_lines(order)}
    wanted, errors = {}, {}
    for index, item in enumerate(lines):
        key = f"lines.{index}"
        entry = available.get(item.get("line"))
        quantity = item.get("quantity")
        if entry is None:
            errors[f"{key}.line"] = [f"Line {item.get('line')} is not on order {order.number}."]
            continue
        if item["line"] in wanted:
            errors[f"{key}.line"] = ["The same line twice."]
            continue
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
            errors[f"{key}.quantity"] = ["Must be a whole number above zero."]
            continue
        if quantity > entry.quantity:
            errors[f"{key}.quantity"] = [
                f"At most {entry.quantity} of {entry.line.sku_code} can be returned "
                f"(shipped {entry.line.quantity_shipped}, returned "
                f"{entry.line.quantity_returned}, in open returns {entry.on_the_way})."
            ]
            continue
        reason = item.get("reason") or ReturnReason.OTHER
        if reason not in ReturnReason.values:
            errors[f"{key}.reason"] = [f"One of: {', '.join(ReturnReason.values)}."]
            continue
        wanted[item["line"]] = {
            "order_line": entry.line,
            "quantity": quantity,
            "reason": reason,
            "comment": str(item.get("comment") or "")[:MAX_COMMENT],
        }
    if errors:
        raise ValidationFailed("The return is not valid.", fields=errors)
    return list(wanted.values())


@transaction.atomic
def create_return(
    *,
    order,
    lines,
    actor: Actor,
    source: str = ReturnSource.STAFF,
    warehouse: Warehouse | None = None,
    note: str = "",
) -> ReturnRequest:
    """A return request for some shipped units of an order. Customers ask within the
    channel's return window after delivery; staff and integrations at any time."""
    order = lock_order(order)
    if order.status not in RETURNABLE_STATUSES:
        raise Conflict(
            f"Order {order.number} is {order.get_status_display().lower()}: only delivered "
            "orders can be returned.",
            fields={"order": [f"Not allowed from {order.status}."]},
            code="transition_not_allowed",
        )
    if source == ReturnSource.CUSTOMER and not within_window(order):
        raise Conflict(
            f"The return window of order {order.number} has closed.",
            fields={"order": ["Outside the return window."]},
            code="return_window_closed",
        )
    checked = _checked_lines(order, lines)
    warehouse = warehouse or default_warehouse(order)
    if warehouse is None:
        raise Conflict(
            "No warehouse accepts returns.",
            fields={"warehouse": ["None accepts returns."]},
        )
    _check_warehouse(warehouse)
    request = ReturnRequest.objects.create(
        order=order,
        source=source,
        warehouse=warehouse,
        note=(note or "")[:500],
        created_by=actor.label[:150],
    )
    request.number = f"RMA-{request.pk:06d}"
    request.save(update_fields=["number"])
    ReturnLine.objects.bulk_create(ReturnLine(request=request, **line) for line in checked)
    units = sum(line["quantity"] for line in checked)
    record(
        request,
        actor=actor,
        message=f"Return requested: {units} unit(s), to {warehouse.code}",
        details={"source": source},
    )
    webhooks.publish("return.requested", return_payload(request))
    return request


@transaction.atomic
def approve_return(request, *, actor: Actor, warehouse: Warehouse | None = None) -> ReturnRequest:
    """Accept the request; the label is booked next (``send_return_label``)."""
    lock_order(request.order_id)
    request = lock_return(request)
    if request.status in (ReturnStatus.APPROVED, ReturnStatus.LABEL_SENT):
        return request  # already approved: a retry or a double click
    if warehouse is not None and warehouse.pk != request.warehouse_id:
        _check_warehouse(warehouse)
        request.warehouse = warehouse
    request.approved_at = timezone.now()
    return transition(request, "approve", actor=actor, message="Return approved")


@transaction.atomic
def reject_return(request, *, actor: Actor, reason: str) -> ReturnRequest:
    """Refuse the request; its units may be asked for again."""
    reason = (reason or "").strip()[:300]
    if not reason:
        raise ValidationFailed("Say why the return is rejected.", fields={"reason": ["Empty."]})
    lock_order(request.order_id)
    request = lock_return(request)
    return transition(
        request, "reject", actor=actor, message=f"Return rejected: {reason}", args=(reason,)
    )
