"""Inspecting what came back, line by line: restock (back on the shelf through the stock
ledger, reason ``return_restock``), damaged or dispose (no stock change; the outcome and
its note are recorded). When every received line has an outcome the return is inspected.
"""

from django.db import transaction
from django.utils import timezone

from inventory import stock
from oms_site.actors import Actor
from oms_site.errors import Conflict, ValidationFailed
from orders.access import ledger_reference
from orders.services.events import lock_order

from ..models import InspectionOutcome, ReturnRequest, ReturnStatus
from .events import lock_return, not_allowed, record, transition
from .receiving import check_receiving


@transaction.atomic
def inspect_return(request: ReturnRequest, *, actor: Actor, lines) -> ReturnRequest:
    """``lines``: ``{return line id: (outcome, note)}``. A line keeps its first outcome:
    the same outcome again changes nothing, another one is refused (409)."""
    order = lock_order(request.order_id)
    request = lock_return(request)
    check_receiving(request, actor=actor)
    if request.status != ReturnStatus.RECEIVED:
        raise not_allowed(request, "inspect")
    own = {line.pk: line for line in request.lines.select_related("order_line__sku")}
    errors = {}
    for line_id, (outcome, _note) in lines.items():
        line = own.get(line_id)
        if line is None:
            errors[f"lines.{line_id}"] = [f"Line {line_id} is not in {request.number}."]
        elif outcome not in InspectionOutcome.values:
            errors[f"lines.{line_id}.outcome"] = [f"One of: {', '.join(InspectionOutcome.values)}."]
        elif not line.quantity_received:
            errors[f"lines.{line_id}"] = ["Nothing of this line was received."]
        elif line.outcome and line.outcome != outcome:
            raise Conflict(
                f"Line {line_id} of {request.number} was already inspected: {line.outcome}.",
                fields={f"lines.{line_id}.outcome": [f"Already {line.outcome}."]},
            )
    if not lines:
        errors["lines"] = ["Give an outcome for at least one line."]
    if errors:
        raise ValidationFailed("The inspection is not valid.", fields=errors)
    done = []
    for line_id, (outcome, note) in lines.items():
        line = own[line_id]
        if line.outcome:
            continue
        line.outcome = outcome
        line.inspection_note = (note or "")[:300]
        if outcome == InspectionOutcome.RESTOCK:
            line.restock_movement = stock.restock_return(
                sku=line.order_line.sku,
                warehouse=request.warehouse,
                quantity=line.quantity_received,
                reference=ledger_reference(order),
                actor=actor,
                note=f"{request.number}: returned, restocked",
            )
        line.save(update_fields=["outcome", "inspection_note", "restock_movement"])
        done.append(f"{line.quantity_received} x {line.order_line.sku_code}: {outcome}")
    if done:
        record(request, actor=actor, message="Inspected: " + ", ".join(done))
    if all(line.outcome for line in own.values() if line.quantity_received):
        request.inspected_at = timezone.now()
        transition(request, "inspected", actor=actor, message="Inspection finished")
    return request
