"""Receiving a returned parcel at the return warehouse: by scanning each unit on the
warehouse's phone pages, or all at once (the API, the desk).

Only staff of the return warehouse (and roles not limited to warehouses) receive, and
only at a warehouse that accepts returns. Receiving counts the units back on the order
(``OrderLine.quantity_returned``) and moves the order to partially returned or returned
through its own transitions, in the same transaction. Stock does not move yet: that is
the inspection's decision.
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from inventory.access import check_warehouse_access
from oms_site.actors import Actor
from oms_site.errors import Conflict, ValidationFailed
from orders.models import OrderLine, OrderStatus
from orders.services.events import lock_order, run_transition

from ..models import ReturnRequest, ReturnStatus
from .events import lock_return, not_allowed, transition

RECEIVABLE = (ReturnStatus.APPROVED, ReturnStatus.LABEL_SENT)


@dataclass
class ScanResult:
    ok: bool
    message: str


def check_receiving(request: ReturnRequest, *, actor: Actor) -> None:
    """The actor may work on this return's parcel, and its warehouse takes returns."""
    check_warehouse_access(actor.user, request.warehouse)
    if not request.warehouse.accepts_returns:
        raise Conflict(
            f"Warehouse {request.warehouse.code} does not accept returns.",
            fields={"warehouse": ["Does not accept returns."]},
        )


def _matches(sku, code: str) -> bool:
    code = code.strip().upper()
    return code in {sku.code.upper(), (sku.barcode or "").upper()} and bool(code)


@transaction.atomic
def scan_return_unit(request: ReturnRequest, *, code: str, actor: Actor) -> ScanResult:
    """One unit scanned out of the parcel (GTIN or SKU code). A unit that is not in the
    return, or one more than announced, is refused and records nothing."""
    request = lock_return(request)
    check_receiving(request, actor=actor)
    if request.status not in RECEIVABLE:
        raise not_allowed(request, "receive")
    lines = list(request.lines.select_related("order_line__sku"))
    matching = [line for line in lines if _matches(line.order_line.sku, code)]
    if not matching:
        return ScanResult(False, f"{code} is not in return {request.number}.")
    line = next((ln for ln in matching if ln.quantity_received < ln.quantity), None)
    if line is None:
        first = matching[0]
        return ScanResult(
            False, f"All {first.quantity} of {first.order_line.sku_code} are already counted."
        )
    line.quantity_received += 1
    line.save(update_fields=["quantity_received"])
    return ScanResult(True, f"{line.order_line.sku_code}: {line.quantity_received}/{line.quantity}")


def _move_order(order, *, actor: Actor, number: str) -> None:
    """The order's own transition: returned when every shipped unit is back."""
    if order.status not in (OrderStatus.DELIVERED, OrderStatus.PARTIALLY_RETURNED):
        return
    lines = list(order.lines.all())
    shipped = sum(line.quantity_shipped for line in lines)
    returned = sum(line.quantity_returned for line in lines)
    method = "mark_returned" if returned >= shipped else "mark_partially_returned"
    run_transition(
        order,
        method,
        actor=actor,
        message=f"Return {number} received: {returned} of {shipped} unit(s) back",
        details={"return": number},
    )


@transaction.atomic
def receive_return(request: ReturnRequest, *, actor: Actor, lines=None) -> ReturnRequest:
    """The parcel is in. ``lines``: ``{return line id: units received}``; without it the
    units scanned so far count, or, when nothing was scanned, every announced unit."""
    order = lock_order(request.order_id)
    request = lock_return(request)
    check_receiving(request, actor=actor)
    if request.status not in RECEIVABLE:
        raise not_allowed(request, "receive")
    own = {line.pk: line for line in request.lines.select_related("order_line")}
    if lines is not None:
        errors = {}
        for line_id, quantity in lines.items():
            line = own.get(line_id)
            if line is None:
                errors[f"lines.{line_id}"] = [f"Line {line_id} is not in {request.number}."]
            elif not 0 <= quantity <= line.quantity:
                errors[f"lines.{line_id}"] = [f"Between 0 and {line.quantity}."]
        if errors:
            raise ValidationFailed("The receipt is not valid.", fields=errors)
        for line_id, quantity in lines.items():
            own[line_id].quantity_received = quantity
    elif not any(line.quantity_received for line in own.values()):
        for line in own.values():
            line.quantity_received = line.quantity
    units = sum(line.quantity_received for line in own.values())
    if units <= 0:
        raise ValidationFailed(
            "Nothing was received: scan the units or give the quantities.",
            fields={"lines": ["No units."]},
        )
    for line in own.values():
        line.save(update_fields=["quantity_received"])
        if line.quantity_received:
            OrderLine.objects.filter(pk=line.order_line_id).update(
                quantity_returned=F("quantity_returned") + line.quantity_received
            )
    request.received_at = timezone.now()
    transition(
        request,
        "receive",
        actor=actor,
        message=f"Parcel received at {request.warehouse.code}: {units} unit(s)",
        details={"units": units},
    )
    _move_order(order, actor=actor, number=request.number)
    return request
