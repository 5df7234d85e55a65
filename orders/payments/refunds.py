"""Refunds: what can still be refunded, and the refund itself (lines, shipping, a
restocking fee, a goodwill amount), to the original payment or paid back by hand.

A line's units are refunded at what the customer paid for them (``line_total`` spread
over its quantity, the last unit taking the rounding), so refunding a line unit by unit
adds up to exactly what was paid. Refunds in flight count: a unit or an amount can't be
refunded twice, and the money refunded never passes the money captured on the payment —
checked under the payment's row lock, kept by a check constraint.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from oms_site import webhooks
from oms_site.actors import Actor
from oms_site.errors import Conflict, ValidationFailed
from oms_site.money import quantize

from ..models import OrderEvent
from ..services.events import lock_order, record_event
from .models import Refund, RefundLine, RefundStatus
from .services import (
    _money,
    lock_payment,
    refund_payload,
    start_refund_transaction,
)

ZERO = Decimal(0)
OPEN_REFUND_STATUSES = (RefundStatus.PENDING, RefundStatus.SUCCEEDED)


def paid_for(line, units: int) -> Decimal:
    """What the customer paid for the first ``units`` units of a line."""
    if units >= line.quantity:
        return line.line_total
    return quantize(line.line_total * units / line.quantity, line.order.currency)


@dataclass
class RefundableLine:
    line: object
    refunded_quantity: int
    refunded_amount: Decimal

    @property
    def quantity(self) -> int:
        return self.line.quantity - self.refunded_quantity

    def amount_for(self, units: int) -> Decimal:
        return paid_for(self.line, self.refunded_quantity + units) - paid_for(
            self.line, self.refunded_quantity
        )

    @property
    def amount(self) -> Decimal:
        return self.amount_for(self.quantity)


@dataclass
class Refundable:
    lines: list[RefundableLine]
    shipping: Decimal
    money: Decimal  # captured and not yet refunded (or reserved), over all payments
    currency: str


def refundable(order) -> Refundable:
    """What can still be refunded on an order: units per line, shipping, money."""
    refunded = {
        row["order_line_id"]: row
        for row in RefundLine.objects.filter(
            refund__order=order, refund__status__in=OPEN_REFUND_STATUSES
        )
        .values("order_line_id")
        .annotate(quantity=Sum("quantity"), amount=Sum("amount"))
    }
    lines = []
    for line in order.lines.all():
        line.order = order
        done = refunded.get(line.pk, {})
        lines.append(RefundableLine(line, done.get("quantity") or 0, done.get("amount") or ZERO))
    shipping_refunded = (
        order.refunds.filter(status__in=OPEN_REFUND_STATUSES).aggregate(
            total=Sum("shipping_amount")
        )["total"]
        or ZERO
    )
    money = sum((p.refundable_amount for p in order.payments.all()), ZERO)
    return Refundable(
        lines=lines,
        shipping=max(order.shipping_total - shipping_refunded, ZERO),
        money=money,
        currency=order.currency,
    )


@transaction.atomic
def create_refund(
    *,
    order,
    actor: Actor,
    lines=(),
    shipping_amount=0,
    restocking_fee=0,
    extra_amount=0,
    payment=None,
    manual: bool = False,
    reason: str = "",
    source: str = "order",
) -> Refund:
    """Refund an order: ``lines`` is a list of ``(order line id, quantity)``.

    The money goes back through the payment's gateway after commit (or is recorded as
    paid back by hand with ``manual``). Refused with 409 ``refund_exceeds_captured`` when
    it would pass what was captured and not yet refunded.
    """
    order = lock_order(order)
    currency = order.currency
    shipping_amount = _money(shipping_amount or 0, currency, "shipping_amount")
    restocking_fee = _money(restocking_fee or 0, currency, "restocking_fee")
    extra_amount = _money(extra_amount or 0, currency, "extra_amount")
    for field, value in (
        ("shipping_amount", shipping_amount),
        ("restocking_fee", restocking_fee),
        ("extra_amount", extra_amount),
    ):
        if value < 0:
            raise ValidationFailed(f"{field} must not be negative.", fields={field: ["≥ 0."]})
    reason = (reason or "").strip()[:300]
    payments = list(order.payments.order_by("pk"))
    if not payments:
        raise Conflict(
            f"Order {order.number} has no payment to refund.",
            fields={"payment": ["No payment."]},
        )
    available = refundable(order)
    by_id = {entry.line.pk: entry for entry in available.lines}
    wanted, errors = {}, {}
    for index, (line_id, quantity) in enumerate(lines):
        entry = by_id.get(line_id)
        key = f"lines.{index}"
        if entry is None:
            errors[f"{key}.line"] = [f"Line {line_id} is not on order {order.number}."]
            continue
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
            errors[f"{key}.quantity"] = ["Must be a whole number above zero."]
            continue
        wanted[line_id] = wanted.get(line_id, 0) + quantity
        if wanted[line_id] > entry.quantity:
            errors[f"{key}.quantity"] = [f"At most {entry.quantity} can still be refunded."]
    if shipping_amount > available.shipping:
        errors["shipping_amount"] = [f"At most {available.shipping} can still be refunded."]
    if errors:
        raise ValidationFailed("The refund is not valid.", fields=errors)
    line_amounts = {line_id: by_id[line_id].amount_for(qty) for line_id, qty in wanted.items()}
    lines_amount = sum(line_amounts.values(), ZERO)
    amount = lines_amount + shipping_amount + extra_amount - restocking_fee
    if restocking_fee and restocking_fee > lines_amount + shipping_amount + extra_amount:
        raise ValidationFailed(
            "The restocking fee is larger than what is refunded.",
            fields={"restocking_fee": ["Larger than the refund."]},
        )
    if amount <= 0:
        raise ValidationFailed(
            "Choose lines, shipping or an amount to refund.",
            fields={"lines": ["Nothing to refund."]},
        )
    if payment is None:
        target = max(payments, key=lambda p: (p.refundable_amount, -p.pk))
    else:
        target = next((p for p in payments if p.pk == getattr(payment, "pk", payment)), None)
        if target is None:
            raise ValidationFailed(
                f"Payment {payment} is not one of order {order.number}'s.",
                fields={"payment": ["Not on this order."]},
            )
    target = lock_payment(target.pk)
    if amount > target.refundable_amount:
        raise Conflict(
            f"{amount} {currency} can't be refunded: {target.refundable_amount} {currency} "
            f"was captured and not yet refunded on this payment.",
            fields={"amount": [f"At most {target.refundable_amount}."]},
            code="refund_exceeds_captured",
        )
    target.refund_reserved_amount += amount
    target.save(update_fields=["refund_reserved_amount", "updated_at"])
    refund = Refund.objects.create(
        order=order,
        payment=target,
        amount=amount,
        currency=currency,
        lines_amount=lines_amount,
        shipping_amount=shipping_amount,
        restocking_fee=restocking_fee,
        extra_amount=extra_amount,
        manual=manual,
        reason=reason,
        source=source[:60],
        actor_label=actor.label[:150],
    )
    RefundLine.objects.bulk_create(
        RefundLine(refund=refund, order_line_id=line_id, quantity=qty, amount=line_amounts[line_id])
        for line_id, qty in wanted.items()
    )
    how = "paid back by hand" if manual else f"to {target.get_method_display()}"
    record_event(
        order,
        kind=OrderEvent.Kind.PAYMENT,
        actor=actor,
        message=f"Refund {refund.number} of {amount} {currency} {how}"
        + (f": {reason}" if reason else ""),
        details={
            "refund_id": refund.pk,
            "lines": {str(k): v for k, v in wanted.items()},
            "shipping": str(shipping_amount),
            "restocking_fee": str(restocking_fee),
            "extra": str(extra_amount),
            "source": source,
        },
    )
    webhooks.publish("refund.created", refund_payload(refund, order))
    start_refund_transaction(refund, target, order, actor=actor)
    refund.refresh_from_db()
    return refund


def refund_everything(order, *, actor: Actor, reason: str, source: str) -> list[Refund]:
    """Refund all captured money left on every payment (a cancellation). When it is the
    whole order, it is refunded as its lines and shipping (so a credit note shows them);
    otherwise as an amount per payment. Runs in the caller's transaction."""
    payments = [lock_payment(p.pk) for p in order.payments.order_by("pk")]
    left = sum((p.refundable_amount for p in payments), ZERO)
    if left <= 0:
        return []
    available = refundable(order)
    lines = [(entry.line.pk, entry.quantity) for entry in available.lines if entry.quantity]
    whole = sum((e.amount for e in available.lines if e.quantity), ZERO) + available.shipping
    best = max(payments, key=lambda p: p.refundable_amount)
    if whole == left and best.refundable_amount == left:
        return [
            create_refund(
                order=order,
                actor=actor,
                lines=lines,
                shipping_amount=available.shipping,
                payment=best,
                reason=reason,
                source=source,
            )
        ]
    return [
        create_refund(
            order=order,
            actor=actor,
            extra_amount=payment.refundable_amount,
            payment=payment,
            reason=reason,
            source=source,
        )
        for payment in payments
        if payment.refundable_amount > 0
    ]
