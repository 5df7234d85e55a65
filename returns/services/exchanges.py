"""Exchanges: the replacement is a new order, linked to the return.

The new order is placed like any order (same channel, customer and address; routed and
allocated by the order core), with the replacement SKUs at today's prices and no
shipping charge. What the returned units were paid for is the exchange credit: it is
recorded as a payment on the new order (gateway ``manual``, method ``other``, captured),
up to the new order's total. The difference:

- the replacement costs more: the rest is due on the new order (its payment status shows
  it). The customer is e-mailed a link to the new order's payment page, where they pay it
  through the payment provider (Vipps MobilePay, see ``orders.payments.customer_payments``)
  or, where no provider takes the order's currency, are told to contact the shop; staff
  can also record a payment by hand;
- it costs less: the difference is refunded on the original order, to the original
  payment through the refund service (its credit note references the invoice).
"""

from decimal import Decimal

from django.db import transaction

from oms_site.actors import Actor
from oms_site.errors import Conflict, ValidationFailed
from orders.payments import services as payments
from orders.payments.models import PaymentMethod
from orders.payments.refunds import create_refund, paid_for, refundable
from orders.services import place_order
from orders.services.events import lock_order

from ..models import ReturnRequest, ReturnStatus
from .events import lock_return, record

ZERO = Decimal(0)
EXCHANGEABLE = (
    ReturnStatus.APPROVED,
    ReturnStatus.LABEL_SENT,
    ReturnStatus.RECEIVED,
    ReturnStatus.INSPECTED,
)


def exchange_credit(request: ReturnRequest) -> Decimal:
    """What the customer paid for the units coming back (received ones once received)."""
    received = request.status in (ReturnStatus.RECEIVED, ReturnStatus.INSPECTED)
    total = ZERO
    for line in request.lines.select_related("order_line__order"):
        units = line.quantity_received if received else line.quantity
        total += paid_for(line.order_line, units) if units else ZERO
    return total


@transaction.atomic
def create_exchange(request: ReturnRequest, *, lines, actor: Actor) -> ReturnRequest:
    """``lines``: ``[{"sku": code, "quantity": n}]``, the replacement."""
    original = lock_order(request.order_id)
    request = lock_return(request)
    if request.exchange_order_id:
        raise Conflict(
            f"Return {request.number} is already exchanged for {request.exchange_order.number}.",
            fields={"exchange_order": [request.exchange_order.number]},
            code="already_exchanged",
        )
    if request.status not in EXCHANGEABLE:
        raise Conflict(
            f"Return {request.number} is {request.get_status_display().lower()}: "
            "approve it before exchanging.",
            fields={"status": [f"Not allowed from {request.status}."]},
            code="transition_not_allowed",
        )
    if not lines:
        raise ValidationFailed("Choose the replacement.", fields={"lines": ["Empty."]})
    customer = (
        {"email": original.email, "name": original.customer_name, "phone": original.customer_phone}
        if original.email
        else None
    )
    replacement = place_order(
        channel=original.channel,
        lines=[{"sku": item["sku"], "quantity": item["quantity"]} for item in lines],
        currency=original.currency,
        shipping_address=original.shipping_address,
        billing_address=original.billing_address or None,
        customer=customer,
        email=original.email,
        shipping_method=original.shipping_method,
        tags=["exchange"],
        notes=f"Exchange for {request.number} (order {original.number})",
        prices_include_tax=original.prices_include_tax,
        actor=actor,
    )
    credit = exchange_credit(request)
    applied = min(credit, replacement.grand_total)
    if applied > 0:
        payment = payments.add_payment(
            order=replacement,
            gateway="manual",
            method=PaymentMethod.OTHER,
            amount=applied,
            provider_reference=f"exchange-{request.number}",
            actor=actor,
        )
        payments.capture_payment(order=replacement, payment=payment, amount=applied, actor=actor)
    difference = replacement.grand_total - credit
    request.exchange_order = replacement
    request.exchange_credit = credit
    request.exchange_difference = difference
    request.save(
        update_fields=["exchange_order", "exchange_credit", "exchange_difference", "updated_at"]
    )
    currency = original.currency
    if difference < 0 and refundable(original).money > 0:
        back = min(-difference, refundable(original).money)
        refund = create_refund(
            order=original,
            actor=actor,
            extra_amount=back,
            reason=f"Exchange {request.number}: price difference",
            source=request.refund_source,
        )
        outcome = f"{back} {currency} refunded ({refund.number})"
    elif difference > 0:
        from ..notifications import queue_payment_due_email  # notifications imports services

        outcome = f"{difference} {currency} due on {replacement.number}, asked of the customer"
        queue_payment_due_email(request)
    else:
        outcome = "no difference"
    record(
        request,
        actor=actor,
        message=f"Exchanged for {replacement.number}: credit {credit} {currency}, {outcome}",
        details={"exchange_order": replacement.number, "difference": str(difference)},
    )
    return request
