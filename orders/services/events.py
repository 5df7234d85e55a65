"""The audit trail and the webhooks that follow it, written in the caller's transaction."""

from contextlib import contextmanager

from django.db import transaction
from django_fsm import TransitionNotAllowed as FSMTransitionNotAllowed
from django_fsm import can_proceed

from oms_site import webhooks
from oms_site.actors import Actor
from oms_site.errors import NotFound, TransitionNotAllowed

from ..models import Order, OrderEvent, OrderStatus


class _DeferredWrites:
    """What a service wrote to an order while it held the only copy of it."""

    def __init__(self):
        self.fields: set[str] = set()
        self.events: list[OrderEvent] = []


@contextmanager
def deferred_writes(order):
    """Collect the order's field saves and events and write them when the block ends:
    one UPDATE of the order and one INSERT of its events instead of one per step.

    For an order created in the caller's transaction (placement): no other transaction
    can see the row, so nobody can observe the steps in between. ``lock_order`` writes
    what was collected before it reads the row back. Nothing is written if the block
    raises (the transaction is rolled back anyway).
    """
    if getattr(order, "_deferred_writes", None) is not None:
        yield order
        return
    order._deferred_writes = _DeferredWrites()
    try:
        yield order
        flush_deferred_writes(order)
    finally:
        order._deferred_writes = None


def flush_deferred_writes(order) -> None:
    batch = getattr(order, "_deferred_writes", None)
    if batch is None:
        return
    if batch.fields:
        fields = sorted(batch.fields)
        batch.fields = set()
        order.save(update_fields=fields)
    if batch.events:
        events, batch.events = batch.events, []
        OrderEvent.objects.bulk_create(events)


def save_order_fields(order, fields) -> None:
    """Save these fields of the order now, or when its deferred writes are flushed."""
    batch = getattr(order, "_deferred_writes", None)
    if batch is not None:
        batch.fields.update(fields)
    else:
        order.save(update_fields=list(fields))


def record_event(
    order, *, kind, actor: Actor, message="", from_status="", to_status="", details=None
) -> OrderEvent:
    event = OrderEvent(
        order=order,
        kind=kind,
        actor_kind=actor.kind,
        actor_label=actor.label[:150],
        actor_user_id=actor.user_id,
        from_status=from_status,
        to_status=to_status,
        message=message[:500],
        details=details or {},
    )
    batch = getattr(order, "_deferred_writes", None)
    if batch is not None:
        batch.events.append(event)
    else:
        event.save()
    return event


def order_payload(order) -> dict:
    return {
        "id": order.pk,
        "number": order.number,
        "channel": order.channel.code,
        "external_id": order.external_id,
        "status": order.status,
        "payment_status": order.payment_status,
        "currency": order.currency,
        "grand_total": str(order.grand_total),
    }


def _not_allowed(order, method_name: str) -> TransitionNotAllowed:
    label = OrderStatus(order.status).label.lower()
    verb = method_name.replace("mark_", "mark ").replace("_", " ")
    return TransitionNotAllowed(
        f"Can't {verb} order {order.number}: it is {label}.",
        fields={"status": [f"Not allowed from {order.status}."]},
    )


def ensure_allowed(order, method_name: str) -> None:
    """Refuse early, before any work, when the transition can't happen from here."""
    if not can_proceed(getattr(order, method_name)):
        raise _not_allowed(order, method_name)


def run_transition(
    order,
    method_name: str,
    *,
    actor: Actor,
    message="",
    details=None,
    args=(),
    kwargs=None,
    announce=True,
):
    """Call a transition, save, write the event and the webhook — one transaction.

    ``announce=False`` keeps the webhook back (placement sends one order.created with the
    final state instead of a burst of intermediate changes); the event is always written.
    """
    from_status = order.status
    method = getattr(order, method_name)
    try:
        method(*args, **(kwargs or {}))
    except FSMTransitionNotAllowed:
        raise _not_allowed(order, method_name)
    save_order_fields(order, ["status", "hold_reason", "placed_at", "updated_at"])
    if order.status != from_status or message:
        record_event(
            order,
            kind=OrderEvent.Kind.STATUS_CHANGED,
            actor=actor,
            from_status=from_status,
            to_status=order.status,
            message=message,
            details=details,
        )
    if announce and order.status != from_status:
        payload = order_payload(order) | {"from_status": from_status}
        webhooks.publish("order.status_changed", payload)
        if order.status == OrderStatus.CANCELLED:
            webhooks.publish("order.cancelled", payload)
    return order


def lock_order(order_or_id) -> Order:
    """Lock the order row for the rest of the transaction and return it fresh."""
    assert transaction.get_connection().in_atomic_block, "lock_order needs a transaction"
    if isinstance(order_or_id, Order):
        flush_deferred_writes(order_or_id)
    order_id = order_or_id.pk if isinstance(order_or_id, Order) else order_or_id
    order = (
        Order.objects.select_for_update(of=("self",))
        .select_related("channel")
        .filter(pk=order_id)
        .first()
    )
    if order is None:
        raise NotFound(f"Order {order_id} does not exist.")
    return order
