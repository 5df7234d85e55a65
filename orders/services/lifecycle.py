"""Holding, releasing, cancelling and noting orders (shipping: ``shipping.py``)."""

from django.db import transaction
from django.db.models import F

from inventory import stock
from oms_site.actors import Actor
from oms_site.errors import ValidationFailed

from ..models import Order, OrderEvent
from ..payments import services as payment_services
from . import reporting
from .allocation import allocate_order, release_allocations
from .events import ensure_allowed, lock_order, record_event, run_transition


def _required_text(text: str, *, field="reason", what="a reason") -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(f"Give {what}.", fields={field: ["Required."]})
    if len(text) > 300:
        raise ValidationFailed(
            f"{what.capitalize()} is too long.", fields={field: ["At most 300 characters."]}
        )
    return text


@transaction.atomic
def hold_order(order, *, reason: str, actor: Actor) -> Order:
    """Stop an order from going to the warehouse until a person releases it.
    Allocations are kept, so the stock stays promised to it."""
    reason = _required_text(reason)
    order = lock_order(order)
    return run_transition(order, "hold", actor=actor, args=(reason,), message=f"Held: {reason}")


@transaction.atomic
def release_order(order, *, actor: Actor, note: str = "") -> Order:
    """Release a held order; it is routed again for any units not yet allocated."""
    order = lock_order(order)
    reason = order.hold_reason
    run_transition(
        order,
        "release",
        actor=actor,
        message="Released"
        + (f": {note}" if note else "")
        + (f" (was: {reason})" if reason else ""),
    )
    if order.fulfilled_by_channel:
        return order  # the channel ships it from its own stock: nothing to route here
    order = allocate_order(order, actor=actor)
    payment_services.capture_when_due(order, actor=actor)
    return order


@transaction.atomic
def cancel_order(order, *, actor: Actor, reason: str = "") -> Order:
    """Cancel an order that has not shipped; its allocations go back to stock."""
    order = lock_order(order)
    ensure_allowed(order, "cancel")
    stock.lock_levels_for_skus(order.lines.values_list("sku_id", flat=True))
    released = release_allocations(order, actor=actor, reason="cancelled")
    order.lines.update(quantity_cancelled=F("quantity") - F("quantity_shipped"))
    message = "Cancelled" + (f": {reason}" if reason else "")
    if released:
        message += f"; {released} allocated unit(s) returned to stock"
    order = run_transition(order, "cancel", actor=actor, kwargs={"reason": reason}, message=message)
    reporting.record_cancelled(order)
    payment_services.settle_payments_on_cancel(order, actor=actor, reason=reason)
    return order


@transaction.atomic
def add_note(order, *, text: str, actor: Actor) -> OrderEvent:
    text = _required_text(text, field="text", what="the note's text")
    order = lock_order(order)
    return record_event(order, kind=OrderEvent.Kind.NOTE, actor=actor, message=text)
