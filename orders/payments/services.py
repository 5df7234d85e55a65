"""Payment use cases: add a payment, authorize, capture, void, refund, retry, and the
provider's callbacks — all through the transaction ledger.

How a money movement runs (crash-safe, never twice):

1. In a database transaction the order and payment rows are locked (in that order), the
   request is checked against the ledger (never capture more than is authorized, never
   refund more than was captured — refunds in flight count), and a pending
   ``Transaction`` with its own idempotency key is written. Refunds reserve their amount
   on the payment here, so two racing refunds can't both pass.
2. After commit, ``execute_transaction`` asks the gateway (no database transaction is
   open while the provider answers) …
3. … and ``record_outcome`` writes the answer under the same locks: succeeded or failed,
   or still pending when the outcome is unknown (timeout, 5xx), to be asked again later
   with the *same* idempotency key by ``retry_pending_transactions``. A provider callback
   may settle it first; whichever comes second finds it settled and changes nothing.

The order's ``payment_status`` follows the ledger only: ``settle_payment_status``
derives it from the payments' figures after every recorded outcome.
"""

import logging
import uuid
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from oms_site import webhooks
from oms_site.actors import Actor
from oms_site.bulk_rows import insert_rows
from oms_site.errors import Conflict, NotFound, ValidationFailed
from oms_site.money import quantize

from ..models import OrderEvent, OrderStatus, PaymentStatus
from ..services.events import lock_order, record_event
from .gateways import FAILED, SUCCEEDED, GatewayResult, get_gateway
from .models import (
    Payment,
    PaymentMethod,
    ProviderCallback,
    Refund,
    RefundStatus,
    Transaction,
    TransactionKind,
    TransactionStatus,
)

logger = logging.getLogger(__name__)

ZERO = Decimal(0)
K = TransactionKind
P = PaymentStatus
# payment status -> the order transition that leads there
_STATUS_TRANSITIONS = {
    P.AUTHORIZED: "payment_authorized",
    P.VOIDED: "payment_voided",
    P.PARTIALLY_PAID: "payment_partially_captured",
    P.PAID: "payment_captured",
    P.PARTIALLY_REFUNDED: "payment_partially_refunded",
    P.REFUNDED: "payment_refunded",
}
# Methods where nothing is held at checkout: the money arrives later (a person records it).
PAY_LATER_METHODS = {
    PaymentMethod.BANK_TRANSFER,
    PaymentMethod.INVOICE,
    PaymentMethod.CASH_ON_DELIVERY,
}


def new_key(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"[:50]


def lock_payment(payment_id) -> Payment:
    assert transaction.get_connection().in_atomic_block, "lock_payment needs a transaction"
    payment = Payment.objects.select_for_update(of=("self",)).filter(pk=payment_id).first()
    if payment is None:
        raise NotFound(f"Payment {payment_id} does not exist.")
    return payment


def _money(amount, currency, field="amount") -> Decimal:
    amount = Decimal(str(amount))
    if amount != quantize(amount, currency):
        raise ValidationFailed(
            f"{field} has more decimals than {currency} allows.",
            fields={field: [f"Too many decimals for {currency}."]},
        )
    return amount


# --- the order's payment status -----------------------------------------------------------


def figures(payments) -> dict:
    payments = list(payments)
    return {
        "authorized": sum((p.authorized_amount for p in payments), ZERO),
        "captured": sum((p.captured_amount for p in payments), ZERO),
        "voided": sum((p.voided_amount for p in payments), ZERO),
        "refunded": sum((p.refunded_amount for p in payments), ZERO),
        "capturable": sum((p.capturable_amount for p in payments), ZERO),
        "refundable": sum((p.refundable_amount for p in payments), ZERO),
    }


def status_from_ledger(order, payments) -> str:
    """What the ledger says the order's payment status is."""
    money = figures(payments)
    if money["refunded"] > 0:
        return P.REFUNDED if money["refunded"] >= money["captured"] else P.PARTIALLY_REFUNDED
    if money["captured"] > 0:
        return P.PAID if money["captured"] >= order.grand_total else P.PARTIALLY_PAID
    if money["capturable"] > 0:
        return P.AUTHORIZED
    if money["voided"] > 0:
        return P.VOIDED
    return P.UNPAID


def settle_payment_status(order, *, actor: Actor) -> str:
    """Move the (locked) order's payment status to what the ledger says: one transition,
    one event. Returns the status."""
    target = status_from_ledger(order, order.payments.all())
    current = order.payment_status
    if target == current:
        return current
    if target == P.UNPAID:
        # Nothing moves an order back to unpaid: the ledger never loses money.
        logger.warning("order %s: ledger says unpaid, status is %s", order.number, current)
        return current
    getattr(order, _STATUS_TRANSITIONS[target])()
    order.save(update_fields=["payment_status", "updated_at"])
    record_event(
        order,
        kind=OrderEvent.Kind.PAYMENT,
        actor=actor,
        message=f"Payment status: {P(current).label} → {P(target).label}",
        details={"from": current, "to": target},
    )
    _after_settled(order, current, target, actor=actor)
    return target


def _after_settled(order, previous, status, *, actor):
    """Work that follows a payment status: the invoice of channels that invoice on
    payment. (Imported here: invoicing builds on payments.)"""
    if status == P.PAID:
        from ..invoicing import services as invoicing

        invoicing.issue_invoice_when_due(order, moment="payment", actor=actor)


def _payload(txn: Transaction, order) -> dict:
    return _payload_of(
        order,
        payment_id=txn.payment_id,
        transaction_id=txn.pk,
        kind=txn.kind,
        status=txn.status,
        amount=txn.amount,
        currency=txn.currency,
        gateway=txn.payment.gateway,
        error_code=txn.error_code,
    )


def _payload_of(
    order, *, payment_id, transaction_id, kind, status, amount, currency, gateway, error_code=""
) -> dict:
    return {
        "order": order.number,
        "payment_id": payment_id,
        "transaction_id": transaction_id,
        "kind": kind,
        "status": status,
        "amount": str(amount),
        "currency": currency,
        "gateway": gateway,
        "payment_status": order.payment_status,
        "error_code": error_code,
    }


# --- starting a movement -----------------------------------------------------------------


def _start(payment, kind, amount, *, actor: Actor, refund=None, key=None) -> Transaction:
    """A pending transaction; executed after commit (the gateway is never called while a
    database transaction is open)."""
    txn = Transaction.objects.create(
        payment=payment,
        kind=kind,
        amount=amount,
        currency=payment.currency,
        idempotency_key=key or new_key(kind),
        refund=refund,
        actor_label=actor.label[:150],
    )
    txn.payment = payment
    transaction.on_commit(lambda: enqueue_transaction(txn.pk))
    return txn


def enqueue_transaction(transaction_id: int) -> None:
    from ..tasks import execute_payment_transaction

    try:
        execute_payment_transaction.delay(transaction_id)
    except Exception:  # broker down: beat's retry_pending_transactions picks it up
        logger.exception("could not enqueue payment transaction %s", transaction_id)


def _pending_amount(payment, kind) -> Decimal:
    return (
        payment.transactions.filter(kind=kind, status=TransactionStatus.PENDING).aggregate(
            total=Sum("amount")
        )["total"]
        or ZERO
    )


@transaction.atomic
def add_payment(
    *,
    order,
    gateway: str,
    method: str,
    actor: Actor,
    amount=None,
    provider_reference: str = "",
) -> Payment:
    """Record how the customer pays an order.

    - a provider's payment (Vipps MobilePay): the authorization the customer gave at
      checkout is checked with the provider after commit; the channel's capture rule
      then captures it (on placement, or when the goods ship);
    - bank transfer, invoice, cash on delivery: nothing is held; record the money when it
      arrives (``capture_payment``);
    - cash at the till, or a marketplace that collected it: recorded as paid at once.
    """
    order = lock_order(order)
    engine = get_gateway(gateway)
    if method not in PaymentMethod.values:
        raise ValidationFailed(
            f"Unknown payment method '{method}'.",
            fields={"method": [f"One of: {', '.join(PaymentMethod.values)}."]},
        )
    if order.status == OrderStatus.CANCELLED:
        raise Conflict(
            f"Order {order.number} is cancelled.", fields={"status": ["Order is cancelled."]}
        )
    if engine.verifies_authorization and not provider_reference:
        raise ValidationFailed(
            f"A {engine.name} payment needs its reference.",
            fields={"reference": ["Required for this gateway."]},
        )
    if (
        provider_reference
        and Payment.objects.filter(gateway=gateway, provider_reference=provider_reference).exists()
    ):
        raise Conflict(
            f"Payment {provider_reference} is already recorded.",
            fields={"reference": ["Already recorded."]},
            code="duplicate_payment",
        )
    paid_so_far = figures(order.payments.all())
    outstanding = order.grand_total - paid_so_far["captured"] - paid_so_far["capturable"]
    amount = _money(amount if amount is not None else max(outstanding, ZERO), order.currency)
    if amount <= 0:
        raise ValidationFailed(
            "Nothing is left to pay on this order.", fields={"amount": ["Must be above zero."]}
        )
    if amount > outstanding and not engine.verifies_authorization:
        # Money recorded by hand can't be more than is due; a provider's authorization may
        # be (a buffer the customer approved for changes to the order).
        raise Conflict(
            f"{amount} {order.currency} is more than the {max(outstanding, ZERO)} "
            f"{order.currency} left to pay on order {order.number}.",
            fields={"amount": [f"At most {max(outstanding, ZERO)}."]},
            code="payment_exceeds_due",
        )
    payment = Payment.objects.create(
        order=order,
        gateway=gateway,
        method=method,
        currency=order.currency,
        amount=amount,
        provider_reference=provider_reference[:100],
    )
    record_event(
        order,
        kind=OrderEvent.Kind.PAYMENT,
        actor=actor,
        message=f"Payment added: {payment.get_method_display()}, {amount} {order.currency}",
        details={"payment_id": payment.pk, "gateway": gateway, "method": method},
    )
    webhooks.publish(
        "payment.created",
        {
            "order": order.number,
            "payment_id": payment.pk,
            "gateway": gateway,
            "method": method,
            "amount": str(amount),
            "currency": order.currency,
        },
    )
    if engine.verifies_authorization:
        _start(payment, K.AUTHORIZE, amount, actor=actor)
    elif method in (PaymentMethod.CASH, PaymentMethod.MARKETPLACE):
        _record_now(payment, K.AUTHORIZE, amount, actor=actor, order=order, settle=False)
        _record_now(payment, K.CAPTURE, amount, actor=actor, order=order)
    return payment


def record_collected_by_marketplace(orders, *, actor: Actor) -> list:
    """Orders a marketplace collected the money for, placed in one batch: each gets the
    payment ``add_payment`` gives one such order (authorized and captured in full, two
    succeeded transactions), written with one COPY per table (PostgreSQL). The orders are
    new, so nothing else can hold their payments. Returns the transactions, as (order,
    row), for ``collected_events`` once the orders themselves are written."""
    now = timezone.now()
    # Rows, not instances: a marketplace page writes three hundred and reads none back.
    payment_ids = insert_rows(
        Payment,
        [
            {
                "order_id": order.pk,
                "gateway": "marketplace",
                "method": PaymentMethod.MARKETPLACE,
                "currency": order.currency,
                "amount": order.grand_total,
                "authorized_amount": order.grand_total,
                "captured_amount": order.grand_total,
            }
            for order in orders
        ],
        ids=True,
    )
    transactions = [
        (
            order,
            {
                "payment_id": payment_id,
                "kind": kind,
                "amount": order.grand_total,
                "currency": order.currency,
                "idempotency_key": new_key(kind),
                "status": TransactionStatus.SUCCEEDED,
                "completed_at": now,
                "actor_label": actor.label[:150],
            },
        )
        for order, payment_id in zip(orders, payment_ids, strict=True)
        for kind in (K.AUTHORIZE, K.CAPTURE)
    ]
    ids = insert_rows(Transaction, [row for _, row in transactions], ids=True)
    for (_, row), pk in zip(transactions, ids, strict=True):
        row["id"] = pk
    return transactions


def collected_events(transactions) -> list[tuple[str, dict]]:
    """The webhooks of ``record_collected_by_marketplace``'s transactions, (type, payload)
    each, for the caller to publish once the orders' ``order.created`` are (as for an
    order paid on its own)."""
    return [
        (
            event,
            _payload_of(
                order,
                payment_id=row["payment_id"],
                transaction_id=row["id"],
                kind=row["kind"],
                status=row["status"],
                amount=row["amount"],
                currency=row["currency"],
                gateway="marketplace",
            ),
        )
        for kind, event in ((K.AUTHORIZE, "payment.authorized"), (K.CAPTURE, "payment.captured"))
        for order, row in transactions
        if row["kind"] == kind
    ]


def _record_now(
    payment, kind, amount, *, actor, order, refund=None, engine=None, settle=True
) -> Transaction:
    """A movement a person or a marketplace already made: recorded as succeeded at once
    (only through gateways that do not move money themselves)."""
    engine = engine or get_gateway(payment.gateway)
    assert not engine.moves_money, "a gateway that moves money is asked after commit"
    txn = Transaction.objects.create(
        payment=payment,
        kind=kind,
        amount=amount,
        currency=payment.currency,
        idempotency_key=new_key(kind),
        refund=refund,
        actor_label=actor.label[:150],
    )
    result = getattr(engine, kind)(payment, amount=amount, idempotency_key=txn.idempotency_key)
    _apply(txn, payment, order, result, actor=actor, settle=settle)
    return txn


@transaction.atomic
def capture_payment(*, order, actor: Actor, amount=None, payment=None) -> list[Transaction]:
    """Capture money: ``amount`` (default: everything still to pay, up to what is
    authorized). On manual payments this records money that arrived (a transfer on the
    bank statement, cash on delivery)."""
    order = lock_order(order)
    payments = [lock_payment(p.pk) for p in _payments_of(order, payment)]
    wanted = None if amount is None else _money(amount, order.currency)
    if wanted is not None and wanted <= 0:
        raise ValidationFailed("Capture a positive amount.", fields={"amount": ["Must be > 0."]})
    captured = figures(payments)["captured"]
    due = order.grand_total - captured - sum(_pending_amount(p, K.CAPTURE) for p in payments)
    remaining = wanted if wanted is not None else max(due, ZERO)
    if remaining <= 0:
        raise Conflict(
            f"Nothing is left to capture on order {order.number}.",
            fields={"amount": ["Everything due is captured."]},
        )
    if wanted is not None and wanted > due:
        # Taking more than the order costs is never a capture: it is a mistake to fix.
        raise Conflict(
            f"{wanted} {order.currency} is more than the {due} {order.currency} still due "
            f"on order {order.number}.",
            fields={"amount": [f"At most {due}."]},
            code="capture_exceeds_due",
        )
    started = []
    for pay in payments:
        if remaining <= 0:
            break
        engine = get_gateway(pay.gateway)
        if engine.moves_money:
            available = pay.capturable_amount - _pending_amount(pay, K.CAPTURE)
            take = min(remaining, available)
            if take > 0:
                started.append(_start(pay, K.CAPTURE, take, actor=actor))
                remaining -= take
        else:
            # Recording money that arrived (a transfer, cash): arriving authorizes it.
            take = remaining
            missing = take - pay.capturable_amount
            if missing > 0:
                _record_now(pay, K.AUTHORIZE, missing, actor=actor, order=order, settle=False)
            started.append(_record_now(pay, K.CAPTURE, take, actor=actor, order=order))
            remaining = ZERO
    if not started or (wanted is not None and remaining > 0):
        raise Conflict(
            f"Only part of {wanted} {order.currency} can be captured on order {order.number}: "
            "the authorization is smaller.",
            fields={"amount": ["More than is authorized."]},
            code="capture_exceeds_authorized",
        )
    return started


@transaction.atomic
def void_payment(*, order, actor: Actor) -> list[Transaction]:
    """Give back what is authorized and not captured (before shipping, or after a
    partial capture when nothing more will ship)."""
    order = lock_order(order)
    _payments_of(order)
    started = _void_open(order, actor=actor)
    if not started:
        raise Conflict(
            f"Order {order.number} has no open authorization to void.",
            fields={"payment": ["Nothing to void."]},
        )
    return started


def _payments_of(order, payment=None) -> list[Payment]:
    payments = list(order.payments.order_by("pk"))
    if payment is not None:
        payments = [p for p in payments if p.pk == getattr(payment, "pk", payment)]
        if not payments:
            raise ValidationFailed(
                f"Payment {payment} is not one of order {order.number}'s.",
                fields={"payment": ["Not on this order."]},
            )
    if not payments:
        raise Conflict(
            f"Order {order.number} has no payment.", fields={"payment": ["No payment yet."]}
        )
    return payments


# --- executing and recording ---------------------------------------------------------------


def execute_transaction(transaction_id: int) -> Transaction:
    """Ask the gateway for a pending transaction and record the answer. Safe to run
    twice and concurrently: a transaction already settled is left alone, and the same
    idempotency key makes the provider answer a repeat with the first outcome."""
    txn = Transaction.objects.select_related("payment").filter(pk=transaction_id).first()
    if txn is None or txn.status != TransactionStatus.PENDING:
        return txn
    engine = get_gateway(txn.payment.gateway)
    try:
        result = getattr(engine, txn.kind)(
            txn.payment, amount=txn.amount, idempotency_key=txn.idempotency_key
        )
    except Exception as exc:  # a gateway bug must not lose the transaction: retry later
        logger.exception("gateway %s failed on transaction %s", engine.code, txn.pk)
        result = GatewayResult.unknown("gateway_error", f"{type(exc).__name__}: {exc}")
    return record_outcome(txn.pk, result, actor=Actor.system(f"gateway:{engine.code}"))


@transaction.atomic
def record_outcome(transaction_id: int, result: GatewayResult, *, actor: Actor) -> Transaction:
    """Write what the provider answered. Locks order, payment, transaction (that order)."""
    plain = Transaction.objects.select_related("payment").get(pk=transaction_id)
    order = lock_order(plain.payment.order_id)
    payment = lock_payment(plain.payment_id)
    txn = Transaction.objects.select_for_update(of=("self",)).get(pk=transaction_id)
    if txn.status != TransactionStatus.PENDING:
        return txn
    txn.payment = payment
    _apply(txn, payment, order, result, actor=actor)
    return txn


def _apply(txn, payment, order, result: GatewayResult, *, actor, settle=True):
    """Apply an outcome to a (locked) pending transaction, its payment and order."""
    now = timezone.now()
    txn.attempts += 1
    txn.raw_response = result.raw or txn.raw_response
    if result.provider_reference:
        txn.provider_reference = result.provider_reference[:100]
    txn.error_code, txn.error_message = result.error_code[:50], result.error_message[:500]
    refund = txn.refund
    if result.outcome == SUCCEEDED:
        txn.succeed()
        txn.completed_at, txn.next_attempt_at = now, None
        if txn.kind == K.AUTHORIZE:
            payment.authorized_amount += txn.amount
        elif txn.kind == K.CAPTURE:
            payment.captured_amount += txn.amount
        elif txn.kind == K.VOID:
            payment.voided_amount += txn.amount
        else:
            payment.refunded_amount += txn.amount
    elif result.outcome == FAILED:
        txn.fail()
        txn.completed_at, txn.next_attempt_at = now, None
        if txn.kind == K.REFUND:
            payment.refund_reserved_amount -= txn.amount
    else:
        delay = settings.OMS_PAYMENT_RETRY_SECONDS * min(2 ** (txn.attempts - 1), 60)
        txn.next_attempt_at = now + timedelta(seconds=delay)
    txn.save()
    payment.save()
    if txn.status == TransactionStatus.PENDING:
        record_event(
            order,
            kind=OrderEvent.Kind.PAYMENT,
            actor=actor,
            message=f"{txn.get_kind_display()} of {txn.amount} {txn.currency}: no answer yet "
            f"({result.error_message or result.error_code}); asked again later",
            details={"transaction_id": txn.pk, "error_code": txn.error_code},
        )
        return
    _record_settled(txn, payment, order, refund, actor=actor, settle=settle)


def _record_settled(txn, payment, order, refund, *, actor, settle=True):
    method = payment.get_method_display()
    verb = {
        K.AUTHORIZE: "Authorized",
        K.CAPTURE: "Captured",
        K.VOID: "Voided",
        K.REFUND: "Refunded",
    }[txn.kind]
    if txn.status == TransactionStatus.SUCCEEDED:
        message = f"{verb} {txn.amount} {txn.currency} ({method})"
    else:
        message = (
            f"{txn.get_kind_display()} of {txn.amount} {txn.currency} refused by "
            f"{get_gateway(payment.gateway).name}: {txn.error_message or txn.error_code}"
        )
    record_event(
        order,
        kind=OrderEvent.Kind.PAYMENT,
        actor=actor,
        message=message,
        details={
            "transaction_id": txn.pk,
            "kind": txn.kind,
            "status": txn.status,
            "amount": str(txn.amount),
            "error_code": txn.error_code,
        },
    )
    if refund is not None:
        _settle_refund(refund, txn, order, actor=actor)
    if settle:
        settle_payment_status(order, actor=actor)
    event = {
        K.AUTHORIZE: "payment.authorized",
        K.CAPTURE: "payment.captured",
        K.VOID: "payment.voided",
    }.get(txn.kind)
    if txn.status == TransactionStatus.FAILED and txn.kind != K.REFUND:
        event = "payment.failed"
    if event:
        webhooks.publish(event, _payload(txn, order))
    if txn.kind == K.AUTHORIZE and txn.status == TransactionStatus.SUCCEEDED:
        if order.status == OrderStatus.CANCELLED:
            # Confirmed after the order was cancelled: give it back.
            _void_open(order, actor=actor)
        else:
            capture_when_due(order, actor=actor)
    if txn.kind == K.CAPTURE and txn.status == TransactionStatus.SUCCEEDED:
        release_what_is_left(order, actor=actor)


def capture_when_due(order, *, actor) -> list[Transaction]:
    """Channels that capture on placement capture what is authorized as soon as it is
    confirmed and the order may go ahead (held, draft and cancelled orders wait: a
    person decides). Runs in the caller's transaction, the order locked."""
    from ..models import CaptureMoment

    if order.channel.capture_payment_on != CaptureMoment.PLACEMENT:
        return []
    if order.status in (OrderStatus.CANCELLED, OrderStatus.ON_HOLD, OrderStatus.DRAFT):
        return []
    started = []
    payments = [lock_payment(p.pk) for p in order.payments.order_by("pk")]
    pending = sum((_pending_amount(p, K.CAPTURE) for p in payments), ZERO)
    due = order.grand_total - figures(payments)["captured"] - pending
    for pay in payments:
        if due <= 0:
            break
        if not get_gateway(pay.gateway).moves_money:
            continue
        take = min(due, pay.capturable_amount - _pending_amount(pay, K.CAPTURE))
        if take > 0:
            started.append(_start(pay, K.CAPTURE, take, actor=actor))
            due -= take
    return started


def release_what_is_left(order, *, actor) -> list[Transaction]:
    """An order that has shipped in full and whose total is captured will never capture
    more: void the rest of its authorization (left over when an edit lowered the total)
    so the customer's money is released now, not when the reservation lapses at the
    provider days later. Runs in the (locked) order's transaction."""
    if order.status not in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        return []
    if figures(order.payments.all())["captured"] < order.grand_total:
        return []
    voids = _void_open(order, actor=actor)
    if voids:
        amounts = ", ".join(f"{t.amount} {t.currency}" for t in voids)
        record_event(
            order,
            kind=OrderEvent.Kind.PAYMENT,
            actor=actor,
            message=f"Releasing the rest of the authorization ({amounts}): the order has "
            "shipped and its total is captured",
            details={"voids": [t.pk for t in voids]},
        )
    return voids


def _void_open(order, *, actor) -> list[Transaction]:
    started = []
    for pay in [lock_payment(p.pk) for p in order.payments.order_by("pk")]:
        open_amount = (
            pay.capturable_amount - _pending_amount(pay, K.CAPTURE) - _pending_amount(pay, K.VOID)
        )
        if open_amount <= 0:
            continue
        if get_gateway(pay.gateway).moves_money:
            started.append(_start(pay, K.VOID, open_amount, actor=actor))
        else:
            started.append(_record_now(pay, K.VOID, open_amount, actor=actor, order=order))
    return started


def settle_payments_on_cancel(order, *, actor, reason: str = "") -> None:
    """A cancelled order: void what is authorized and not captured, refund what was
    captured — and say so on the timeline. Runs in the cancelling transaction; the
    gateway is asked after commit."""
    from .refunds import refund_everything

    voids = _void_open(order, actor=actor)
    refunds = refund_everything(
        order, actor=actor, reason=reason or "Order cancelled", source="cancellation"
    )
    if not voids and not refunds:
        return
    parts = []
    if voids:
        parts.append(
            "voiding the authorization of " + ", ".join(f"{t.amount} {t.currency}" for t in voids)
        )
    if refunds:
        parts.append(
            "refunding " + ", ".join(f"{r.amount} {r.currency} ({r.number})" for r in refunds)
        )
    record_event(
        order,
        kind=OrderEvent.Kind.PAYMENT,
        actor=actor,
        message="Cancellation: " + " and ".join(parts),
        details={
            "voids": [t.pk for t in voids],
            "refunds": [r.pk for r in refunds],
        },
    )


def capture_for_shipment(order, *, actor) -> list[Transaction]:
    """Channels that capture on shipment capture what has left: the value of every unit
    shipped so far, with shipping once anything shipped, and the rest of the order when
    the last unit ships. (Called in the shipping transaction, the order locked; the
    gateway is asked after commit.)"""
    from ..models import CaptureMoment
    from .refunds import paid_for

    if order.channel.capture_payment_on != CaptureMoment.SHIPMENT:
        return []
    payments = [lock_payment(p.pk) for p in order.payments.order_by("pk")]
    if not payments:
        return []
    if order.status == OrderStatus.SHIPPED:
        target = order.grand_total
    else:
        lines = list(order.lines.all())
        for line in lines:
            line.order = order
        shipped = sum((paid_for(line, line.quantity_shipped) for line in lines), ZERO)
        if shipped and order.shipping_total:
            shipped += order.shipping_total + (
                ZERO if order.prices_include_tax else order.shipping_tax_amount
            )
        target = min(order.grand_total, shipped)
    pending = sum((_pending_amount(p, K.CAPTURE) for p in payments), ZERO)
    remaining = target - figures(payments)["captured"] - pending
    started = []
    for pay in payments:
        if remaining <= 0:
            break
        if not get_gateway(pay.gateway).moves_money:
            continue
        take = min(remaining, pay.capturable_amount - _pending_amount(pay, K.CAPTURE))
        if take > 0:
            started.append(_start(pay, K.CAPTURE, take, actor=actor))
            remaining -= take
    return started


# --- refunds -------------------------------------------------------------------------------


def _settle_refund(refund, txn, order, *, actor):
    refund = Refund.objects.select_for_update(of=("self",)).get(pk=refund.pk)
    if refund.status != RefundStatus.PENDING:
        return
    if txn.status == TransactionStatus.SUCCEEDED:
        refund.succeed()
        refund.completed_at = timezone.now()
        refund.last_error = ""
        event = "refund.succeeded"
    else:
        refund.fail()
        refund.last_error = (txn.error_message or txn.error_code)[:500]
        event = "refund.failed"
    refund.save()
    webhooks.publish(event, refund_payload(refund, order))
    if refund.status == RefundStatus.SUCCEEDED:
        from ..invoicing import services as invoicing

        invoicing.credit_refund(refund, actor=actor)


def refund_payload(refund, order) -> dict:
    return {
        "order": order.number,
        "refund": refund.number,
        "refund_id": refund.pk,
        "status": refund.status,
        "amount": str(refund.amount),
        "currency": refund.currency,
        "payment_id": refund.payment_id,
        "manual": refund.manual,
        "source": refund.source,
        "payment_status": order.payment_status,
    }


def start_refund_transaction(refund, payment, order, *, actor) -> Transaction:
    """The refund's money movement, its amount already reserved on the payment."""
    key = f"refund-{refund.pk}-{refund.attempts + 1}"
    refund.attempts += 1
    refund.save(update_fields=["attempts"])
    if refund.manual or not get_gateway(payment.gateway).moves_money:
        engine = get_gateway("manual") if refund.manual else None
        return _record_now(
            payment, K.REFUND, refund.amount, actor=actor, order=order, refund=refund, engine=engine
        )
    return _start(payment, K.REFUND, refund.amount, actor=actor, refund=refund, key=key)


@transaction.atomic
def retry_refund(refund, *, actor: Actor) -> Refund:
    """Try a failed refund again (a new attempt, a new idempotency key); the amount is
    reserved again, so it still can't pass what was captured."""
    order = lock_order(refund.order_id)
    payment = lock_payment(refund.payment_id)
    refund = Refund.objects.select_for_update(of=("self",)).get(pk=refund.pk)
    if refund.status != RefundStatus.FAILED:
        raise Conflict(
            f"Refund {refund.number} is {refund.get_status_display().lower()}; only a failed "
            "refund is tried again.",
            fields={"status": [f"Not allowed from {refund.status}."]},
        )
    if refund.amount > payment.refundable_amount:
        raise Conflict(
            f"Only {payment.refundable_amount} {payment.currency} can still be refunded.",
            fields={"amount": ["More than is left to refund."]},
            code="refund_exceeds_captured",
        )
    refund.retry()
    refund.save()
    payment.refund_reserved_amount += refund.amount
    payment.save(update_fields=["refund_reserved_amount", "updated_at"])
    record_event(
        order,
        kind=OrderEvent.Kind.PAYMENT,
        actor=actor,
        message=f"Refund {refund.number} of {refund.amount} {refund.currency} tried again",
        details={"refund_id": refund.pk},
    )
    start_refund_transaction(refund, payment, order, actor=actor)
    return refund


# --- retries and callbacks -----------------------------------------------------------------


def retry_pending_transactions(*, limit: int = 200) -> int:
    """Ask again about transactions whose outcome is unknown (beat, every minute)."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.OMS_PAYMENT_RETRY_SECONDS)
    ids = list(
        Transaction.objects.filter(
            status=TransactionStatus.PENDING,
            attempts__lt=settings.OMS_PAYMENT_MAX_ATTEMPTS,
        )
        .filter(
            Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True, created_at__lte=stale)
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    for transaction_id in ids:
        execute_transaction(transaction_id)
    return len(ids)


# What a provider's callback event means for our ledger.
_EVENT_KINDS = {
    "AUTHORIZED": K.AUTHORIZE,
    "CAPTURED": K.CAPTURE,
    "CANCELLED": K.VOID,
    "REFUNDED": K.REFUND,
}
_AUTHORIZATION_ENDED = {"ABORTED", "EXPIRED", "TERMINATED"}


def handle_provider_event(gateway_code: str, event) -> str:
    """Apply one verified callback event; returns what was done (for the log).

    Duplicates (the provider retries) are recognised and ignored. An event for one of
    our pending transactions settles it; a capture, refund or cancel done elsewhere (the
    provider's portal) is written to the ledger so that ours follows reality."""
    event_key = "|".join(
        [event.provider_reference, event.name, event.idempotency_key or "", str(event.amount)]
    )
    with transaction.atomic():
        callback, created = ProviderCallback.objects.get_or_create(
            gateway=gateway_code,
            event_key=event_key[:200],
            defaults={"payload": event.raw},
        )
        if not created:
            return "duplicate"
        payment = Payment.objects.filter(
            gateway=gateway_code, provider_reference=event.provider_reference
        ).first()
        if payment is None:
            callback.result = "unknown payment"
            callback.save(update_fields=["result"])
            return callback.result
    actor = Actor.system(f"callback:{gateway_code}")
    kind = _EVENT_KINDS.get(event.name)
    pending = None
    if event.idempotency_key:
        pending = Transaction.objects.filter(
            payment=payment, idempotency_key=event.idempotency_key
        ).first()
    elif kind == K.AUTHORIZE or event.name in _AUTHORIZATION_ENDED:
        pending = (
            Transaction.objects.filter(
                payment=payment, kind=K.AUTHORIZE, status=TransactionStatus.PENDING
            )
            .order_by("pk")
            .first()
        )
    if pending is not None:
        success = event.success and event.name not in _AUTHORIZATION_ENDED
        result = (
            GatewayResult.ok(raw=event.raw)
            if success
            else GatewayResult.refused(f"callback_{event.name.lower()}", event.name, raw=event.raw)
        )
        record_outcome(pending.pk, result, actor=actor)
        outcome = f"settled transaction {pending.pk}"
    elif kind in (K.CAPTURE, K.VOID) and event.success:
        outcome = _record_external(payment, kind, event, actor=actor)
    else:
        outcome = "no change"
    ProviderCallback.objects.filter(pk=callback.pk).update(result=outcome[:200])
    return outcome


@transaction.atomic
def _record_external(payment, kind, event, *, actor) -> str:
    """A capture or cancel made at the provider, not by us: record it."""
    order = lock_order(payment.order_id)
    payment = lock_payment(payment.pk)
    amount = min(event.amount, payment.capturable_amount)
    if amount <= 0:
        return "nothing left to record"
    txn = Transaction.objects.create(
        payment=payment,
        kind=kind,
        amount=amount,
        currency=payment.currency,
        idempotency_key=new_key(f"ext-{kind}"),
        actor_label=actor.label,
    )
    _apply(txn, payment, order, GatewayResult.ok(raw=event.raw), actor=actor)
    return f"recorded {kind} of {amount} made at the provider"
