"""The customer pays what is due after the order was placed — the rest of an exchange for
dearer goods, an order edited upwards, an invoice order — through a provider's payment
page (Vipps MobilePay's ePayment API), from the order's tracking link.

The provider's payment is created when the customer clicks "Pay", never earlier: its
approval window is minutes (Vipps: ten), so an e-mail carries our page's link, not the
provider's. The payment is recorded like one from checkout (``add_payment`` with the
provider's reference): its authorization is checked with the provider after commit, asked
again while the customer has not approved yet, and settled by the provider's callback
(AUTHORIZED, or ABORTED/EXPIRED when the customer gives up). The channel's capture rule
then captures it like any other authorization.
"""

import secrets
from datetime import timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from oms_site.actors import Actor
from oms_site.errors import Conflict

from ..models import OrderStatus
from .gateways import GATEWAYS
from .gateways.base import SUCCEEDED
from .models import Payment, PaymentMethod, TransactionStatus
from .services import add_payment, enqueue_transaction, figures

ZERO = Decimal(0)
# How long a created provider payment waits for the customer's approval before another
# may be started (the provider's own window; an older one has expired there).
APPROVAL_WINDOW = timedelta(minutes=10)
# The first key of the PostgreSQL advisory lock that lets one customer payment start per
# order at a time (the second is the order's id).
START_LOCK_NAMESPACE = 0x0C0FFEE
# Orders whose money is not asked for online.
NOT_PAYABLE_ONLINE = (PaymentMethod.CASH_ON_DELIVERY, PaymentMethod.MARKETPLACE)


def amount_due(order) -> Decimal:
    """What is left to pay: the total less what is captured or authorized (refunds for
    returned goods are not due again)."""
    money = figures(order.payments.all())
    return max(order.grand_total - money["captured"] - money["capturable"], ZERO)


def customer_gateway(order):
    """The gateway the customer can pay this order through, or None."""
    if order.status in (OrderStatus.DRAFT, OrderStatus.CANCELLED):
        return None
    methods = set(order.payments.values_list("method", flat=True))
    # No payment recorded: the shop does not keep this order's money here (it was taken
    # elsewhere), so the customer is not asked for it.
    if not methods or methods & set(NOT_PAYABLE_ONLINE):
        return None
    for engine in GATEWAYS.values():
        if (
            engine.requests_payments
            and engine.is_configured()
            and order.currency in getattr(engine, "currencies", ())
        ):
            return engine
    return None


def waiting_payment(order) -> Payment | None:
    """A payment started by the customer that still waits for their approval."""
    return (
        Payment.objects.filter(
            order=order,
            created_at__gte=timezone.now() - APPROVAL_WINDOW,
            transactions__kind="authorize",
            transactions__status=TransactionStatus.PENDING,
        )
        .order_by("-pk")
        .first()
    )


def start_customer_payment(order, *, return_url: str, actor: Actor) -> str:
    """Create the provider's payment for what is due and record it; returns the URL of
    the provider's page where the customer approves it.

    One start per order at a time: two clicks (a double click, two tabs) would otherwise
    both find nothing waiting and create two payments at the provider, both of which the
    customer could approve. The second waits for the first, then finds its payment waiting.
    A payment created at the provider but not recorded (a crash in between, an answer that
    never came) is never approved by anyone and expires there."""
    with transaction.atomic():
        _one_start_at_a_time(order)
        engine = customer_gateway(order)
        if engine is None:
            raise Conflict(
                _("This order can't be paid online."),
                fields={"gateway": [_("No online payment for this order.")]},
                code="payment_not_available",
            )
        due = amount_due(order)
        if due <= 0:
            raise Conflict(
                _("Nothing is left to pay on this order."),
                fields={"amount": [_("Nothing is due.")]},
                code="nothing_due",
            )
        if waiting_payment(order) is not None:
            raise Conflict(
                _("A payment is already waiting for your approval in the app."),
                fields={"payment": [_("Waiting for approval.")]},
                code="payment_waiting",
            )
        reference = f"{order.number}-{secrets.token_hex(6)}"
        result = engine.request_payment(
            reference=reference,
            amount=due,
            currency=order.currency,
            description=_("Order %(number)s") % {"number": order.number},
            return_url=return_url,
            idempotency_key=reference,
        )
        if result.outcome != SUCCEEDED:
            raise Conflict(
                _("%(provider)s could not start the payment; please try again in a moment.")
                % {"provider": engine.name},
                fields={"gateway": [result.error_message or result.error_code]},
                code="provider_unavailable",
            )
        add_payment(
            order=order,
            gateway=engine.code,
            method=PaymentMethod.WALLET,
            amount=due,
            provider_reference=reference,
            actor=actor,
        )
    return result.redirect_url


def _one_start_at_a_time(order) -> None:
    """Wait until no other start of a customer payment for this order is under way (until
    the end of the caller's transaction).

    An advisory lock rather than the order's row: the provider's answer can take seconds,
    and the order's other work (allocation, callbacks, staff) must not wait on it. SQLite,
    the embedded single-user default, has no such lock and needs none."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)",
            [START_LOCK_NAMESPACE, order.pk % 2**31],
        )


def check_returned_payment(order) -> None:
    """The customer is back from the provider's page: ask about their payment now rather
    than at the next retry (the callback may also have settled it already)."""
    pending = waiting_payment(order)
    if pending is None:
        return
    for txn in pending.transactions.filter(status=TransactionStatus.PENDING, kind="authorize"):
        # The services' enqueue: a broker that is down leaves it to beat's retry instead
        # of failing the customer's page.
        transaction.on_commit(lambda pk=txn.pk: enqueue_transaction(pk))
