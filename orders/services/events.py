"""The audit trail and the webhooks that follow it, written in the caller's transaction."""

from django.db import transaction
from django_fsm import TransitionNotAllowed as FSMTransitionNotAllowed
from django_fsm import can_proceed

from oms_site import webhooks
from oms_site.actors import Actor
from oms_site.errors import NotFound, TransitionNotAllowed

from ..models import Order, OrderEvent, OrderStatus


def record_event(
    order, *, kind, actor: Actor, message="", from_status="", to_status="", details=None
) -> OrderEvent:
    return OrderEvent.objects.create(
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
    order.save(update_fields=["status", "hold_reason", "placed_at", "updated_at"])
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
