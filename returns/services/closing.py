"""Closing an inspected return: the refund, then done.

The refund goes through the order's own refund service (``orders.payments.refunds``):
the received units at what was paid for them (all, or the lines and quantities staff
choose), optionally shipping, less a restocking fee, to the original payment through its
gateway (or recorded as paid back by hand). The refund's source names the return
(``return:RMA-…``); when it succeeds and the order is invoiced, the refund service issues
the credit note that references the invoice. An exchanged return was settled by its
exchange (``exchanges.py``) and refunds no lines here.
"""

from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from oms_site.actors import Actor
from oms_site.errors import ValidationFailed
from orders.payments.models import Refund, RefundLine, RefundStatus
from orders.payments.refunds import create_refund, refundable
from orders.services.events import lock_order

from ..models import ReturnRequest, ReturnStatus
from .events import lock_return, not_allowed, record, transition

ZERO = Decimal(0)


def refunds_of(request: ReturnRequest):
    return Refund.objects.filter(order_id=request.order_id, source=request.refund_source)


def refunded_units(request: ReturnRequest) -> dict[int, int]:
    """order line id -> units already refunded for this return."""
    return {
        row["order_line_id"]: row["units"]
        for row in RefundLine.objects.filter(
            refund__in=refunds_of(request).exclude(status=RefundStatus.FAILED)
        )
        .values("order_line_id")
        .annotate(units=Sum("quantity"))
    }


def default_refund_lines(request: ReturnRequest) -> dict[int, int]:
    """return line id -> received units not yet refunded."""
    done = refunded_units(request)
    result = {}
    for line in request.lines.all():
        units = line.quantity_received - done.get(line.order_line_id, 0)
        if units > 0:
            result[line.pk] = units
    return result


@transaction.atomic
def close_return(
    request: ReturnRequest,
    *,
    actor: Actor,
    refund: bool = True,
    lines=None,
    shipping_amount=ZERO,
    restocking_fee=ZERO,
    manual: bool = False,
) -> ReturnRequest:
    """Refund (unless ``refund`` is off, the return was exchanged or nothing was paid)
    and close. ``lines``: ``{return line id: units}``, default every received unit."""
    order = lock_order(request.order_id)
    request = lock_return(request)
    if request.status != ReturnStatus.INSPECTED:
        raise not_allowed(request, "close")
    own = {line.pk: line for line in request.lines.all()}
    if lines is None:
        lines = {} if request.exchange_order_id else default_refund_lines(request)
    else:
        errors = {}
        for line_id, units in lines.items():
            line = own.get(line_id)
            if line is None:
                errors[f"lines.{line_id}"] = [f"Line {line_id} is not in {request.number}."]
            elif not 0 < units <= line.quantity_received:
                errors[f"lines.{line_id}"] = [f"Between 1 and {line.quantity_received}."]
        if errors:
            raise ValidationFailed("The refund is not valid.", fields=errors)
    made = None
    wants_money = bool(lines) or shipping_amount or restocking_fee
    if refund and wants_money and refundable(order).money > 0:
        made = create_refund(
            order=order,
            actor=actor,
            lines=[(own[line_id].order_line_id, units) for line_id, units in lines.items()],
            shipping_amount=shipping_amount,
            restocking_fee=restocking_fee,
            manual=manual,
            reason=f"Return {request.number}",
            source=request.refund_source,
        )
        record(
            request,
            actor=actor,
            message=f"Refund {made.number}: {made.amount} {made.currency}",
            details={"refund": made.number},
            on_order=False,
        )
    request.closed_at = timezone.now()
    message = "Return closed" + ("" if made else " without a refund")
    return transition(request, "close", actor=actor, message=message)
