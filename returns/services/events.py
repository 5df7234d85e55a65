"""The return's trail, its webhooks, and the one locking function.

Every change of a return writes a ``ReturnEvent`` (and, for the steps a person looking
at the order wants to see, an ``OrderEvent``) and its ``return.*`` webhook in the
caller's transaction; the deliveries leave after commit (the outbox).
"""

from django.db import transaction
from django_fsm import TransitionNotAllowed as FSMTransitionNotAllowed

from oms_site import webhooks
from oms_site.actors import Actor
from oms_site.errors import NotFound, TransitionNotAllowed
from orders.models import OrderEvent
from orders.services.events import record_event

from ..models import ReturnEvent, ReturnRequest, ReturnStatus

RETURN_EVENT_TYPES = (
    "return.requested",
    "return.approved",
    "return.rejected",
    "return.received",
    "return.inspected",
    "return.closed",
)


def lock_return(return_or_id) -> ReturnRequest:
    """Lock the return's row for the rest of the transaction and return it fresh.

    Callers that also change the order lock the order first (``lock_order``), then the
    return: the same order as every other order-changing service, so no lock cycle."""
    assert transaction.get_connection().in_atomic_block, "lock_return needs a transaction"
    pk = return_or_id.pk if isinstance(return_or_id, ReturnRequest) else return_or_id
    found = (
        ReturnRequest.objects.select_for_update(of=("self",))
        .select_related("order__channel", "warehouse")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise NotFound(f"Return {pk} does not exist.")
    return found


def return_payload(request: ReturnRequest) -> dict:
    return {
        "order": request.order.number,
        "return": request.number,
        "status": request.status,
        "warehouse": request.warehouse.code,
        "source": request.source,
        "exchange_order": request.exchange_order.number if request.exchange_order_id else None,
        "lines": [
            {
                "line": line.order_line_id,
                "sku": line.order_line.sku_code,
                "quantity": line.quantity,
                "quantity_received": line.quantity_received,
                "reason": line.reason,
                "outcome": line.outcome or None,
            }
            for line in request.lines.select_related("order_line")
        ],
    }


def record(
    request: ReturnRequest,
    *,
    actor: Actor,
    message: str,
    from_status: str = "",
    details=None,
    on_order: bool = True,
) -> ReturnEvent:
    """Write the return's event, and the same line on the order's timeline."""
    event = ReturnEvent.objects.create(
        request=request,
        from_status=from_status,
        to_status=request.status if from_status else "",
        message=message[:500],
        details=details or {},
        actor_label=actor.label[:150],
    )
    if on_order:
        record_event(
            request.order,
            kind=OrderEvent.Kind.NOTE,
            actor=actor,
            message=f"{request.number}: {message}",
            details={"return": request.number, **(details or {})},
        )
    return event


def transition(
    request: ReturnRequest, method_name: str, *, actor: Actor, message: str, details=None, args=()
) -> ReturnRequest:
    """Call a transition, save, write the events and the ``return.<status>`` webhook."""
    from_status = request.status
    try:
        getattr(request, method_name)(*args)
    except FSMTransitionNotAllowed:
        raise not_allowed(request, method_name)
    request.save()
    record(request, actor=actor, message=message, from_status=from_status, details=details)
    event_type = f"return.{request.status}"
    if event_type in RETURN_EVENT_TYPES:
        webhooks.publish(event_type, return_payload(request) | {"from_status": from_status})
    from ..notifications import queue_return_email

    queue_return_email(request)
    return request


def not_allowed(request: ReturnRequest, method_name: str) -> TransitionNotAllowed:
    label = ReturnStatus(request.status).label.lower()
    verb = method_name.replace("_", " ")
    return TransitionNotAllowed(
        f"Can't {verb} return {request.number}: it is {label}.",
        fields={"status": [f"Not allowed from {request.status}."]},
    )
