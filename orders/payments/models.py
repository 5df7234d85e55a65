"""Payments of orders: a ``Payment`` per way the customer pays, its ledger of
``Transaction`` rows (authorize, capture, void, refund), and ``Refund``s with their lines.

The ledger is the truth. A payment's figures (authorized, captured, voided, refunded) are
sums of its succeeded transactions, kept on the row under its lock so that checks such
as "never refund more than was captured" hold when two requests race; the database
refuses any row that breaks them. The order's ``payment_status`` is derived from these
figures only (``orders.payments.services.settle_payment_status``).
"""

from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django_fsm import FSMField, FSMModelMixin, transition

from oms_site.json_field import JSONField
from oms_site.money import CURRENCY_CHOICES

from ..models import Order, OrderLine, adds_up

ZERO = Decimal(0)


class PaymentMethod(models.TextChoices):
    WALLET = "wallet", "Vipps MobilePay"
    CARD = "card", "Card"
    BANK_TRANSFER = "bank_transfer", "Bank transfer"
    CASH_ON_DELIVERY = "cash_on_delivery", "Cash on delivery"
    INVOICE = "invoice", "Invoice (pay later)"
    CASH = "cash", "Cash or card at the till"
    MARKETPLACE = "marketplace", "Collected by the marketplace"
    OTHER = "other", "Other"


def _amount(**kwargs):
    return models.DecimalField(max_digits=14, decimal_places=3, **kwargs)


class Payment(models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    gateway = models.CharField(max_length=30, help_text="Which gateway moves the money.")
    method = models.CharField(max_length=30, choices=PaymentMethod.choices)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    amount = _amount(help_text="What the customer agreed to pay with this payment.")
    provider_reference = models.CharField(
        max_length=100, blank=True, help_text="The payment's id at the provider."
    )
    authorized_amount = _amount(default=0)
    captured_amount = _amount(default=0)
    voided_amount = _amount(default=0)
    refunded_amount = _amount(default=0)
    refund_reserved_amount = _amount(
        default=0, help_text="Refunds succeeded or still in flight: never above captured."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "provider_reference"],
                condition=~Q(provider_reference=""),
                name="payment_provider_reference_unique",
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0)
                & Q(authorized_amount__gte=0)
                & Q(captured_amount__gte=0)
                & Q(voided_amount__gte=0)
                & Q(refunded_amount__gte=0),
                name="payment_amounts_not_negative",
            ),
            # SQLite subtracts decimals in floating point (44.90 - 30.00 < 14.90 there):
            # half of the smallest stored unit of slack, as the orders' totals checks have.
            models.CheckConstraint(
                condition=Q(
                    captured_amount__lte=F("authorized_amount")
                    - F("voided_amount")
                    + Decimal("0.0005")
                ),
                name="payment_captured_within_authorized",
            ),
            models.CheckConstraint(
                condition=Q(refund_reserved_amount__lte=F("captured_amount"))
                & Q(refunded_amount__lte=F("refund_reserved_amount")),
                name="payment_refunds_within_captured",
            ),
        ]

    def __str__(self):
        return f"payment #{self.pk} of order {self.order_id} ({self.get_method_display()})"

    @property
    def capturable_amount(self) -> Decimal:
        return self.authorized_amount - self.voided_amount - self.captured_amount

    @property
    def refundable_amount(self) -> Decimal:
        return self.captured_amount - self.refund_reserved_amount


class TransactionKind(models.TextChoices):
    AUTHORIZE = "authorize", "Authorize"
    CAPTURE = "capture", "Capture"
    VOID = "void", "Void"
    REFUND = "refund", "Refund"


class TransactionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class Transaction(FSMModelMixin, models.Model):
    """One request to move money (or to record that it moved), kept with the provider's
    raw answer. ``pending`` while the outcome is unknown (a timeout, a 5xx): it is asked
    again with the same idempotency key until the provider says yes or no."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="transactions")
    kind = models.CharField(max_length=10, choices=TransactionKind.choices)
    status = FSMField(
        default=TransactionStatus.PENDING,
        choices=TransactionStatus.choices,
        protected=True,
    )
    amount = _amount()
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    idempotency_key = models.CharField(max_length=50)
    provider_reference = models.CharField(max_length=100, blank=True)
    error_code = models.CharField(max_length=50, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    raw_response = JSONField(default=dict, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Indexed only where set (refunds): a payment's own transactions leave it empty.
    refund = models.ForeignKey(
        "Refund",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="transactions",
        db_index=False,
    )
    actor_label = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        # Almost every transaction succeeds at once (a marketplace's two per order): the
        # retry finds the pending few through a partial index that the others never enter.
        indexes = [
            models.Index(
                fields=["id"],
                condition=Q(status=TransactionStatus.PENDING),
                name="transaction_pending",
            ),
            models.Index(
                fields=["refund"], condition=Q(refund__isnull=False), name="transaction_refund"
            ),
        ]
        constraints = [
            # A constraint, not unique=True: no second (LIKE) index on PostgreSQL.
            models.UniqueConstraint(fields=["idempotency_key"], name="transaction_key_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="transaction_amount_positive"),
            models.CheckConstraint(
                condition=Q(kind=TransactionKind.REFUND, refund__isnull=False)
                | (~Q(kind=TransactionKind.REFUND) & Q(refund__isnull=True)),
                name="transaction_refund_iff_refund_kind",
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.amount} {self.currency} ({self.status})"

    @transition(field=status, source=TransactionStatus.PENDING, target=TransactionStatus.SUCCEEDED)
    def succeed(self):
        """The provider confirmed it. (django-fsm sets the state.)"""

    @transition(field=status, source=TransactionStatus.PENDING, target=TransactionStatus.FAILED)
    def fail(self):
        """The provider said no (a decline, a refusal). (django-fsm sets the state.)"""


class RefundStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class Refund(FSMModelMixin, models.Model):
    """Money given back to the customer: lines, shipping and a restocking fee, to the
    original payment through its gateway, or recorded as paid back by hand."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    status = FSMField(
        default=RefundStatus.PENDING, choices=RefundStatus.choices, protected=True, db_index=True
    )
    amount = _amount(help_text="Lines + shipping - restocking fee.")
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    lines_amount = _amount(default=0)
    shipping_amount = _amount(default=0)
    restocking_fee = _amount(default=0)
    extra_amount = _amount(default=0, help_text="A goodwill amount not tied to a line.")
    manual = models.BooleanField(
        default=False, help_text="Paid back outside the gateway (bank transfer, cash)."
    )
    reason = models.CharField(max_length=300, blank=True)
    source = models.CharField(
        max_length=60,
        blank=True,
        help_text="What led to it: 'order', 'cancellation', 'edit', 'return:RMA-…'.",
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    actor_label = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(
                condition=Q(lines_amount__gte=0)
                & Q(shipping_amount__gte=0)
                & Q(restocking_fee__gte=0)
                & Q(extra_amount__gte=0),
                name="refund_parts_not_negative",
            ),
            models.CheckConstraint(
                condition=adds_up(
                    "amount",
                    F("lines_amount")
                    + F("shipping_amount")
                    + F("extra_amount")
                    - F("restocking_fee"),
                ),
                name="refund_parts_add_up",
            ),
        ]

    def __str__(self):
        return f"refund {self.number}"

    @property
    def number(self) -> str:
        return f"RF-{self.pk:06d}" if self.pk else "RF-new"

    @transition(field=status, source=RefundStatus.PENDING, target=RefundStatus.SUCCEEDED)
    def succeed(self):
        """The money went back. (django-fsm sets the state.)"""

    @transition(field=status, source=RefundStatus.PENDING, target=RefundStatus.FAILED)
    def fail(self):
        """The gateway refused; the reserved amount is free again."""

    @transition(field=status, source=RefundStatus.FAILED, target=RefundStatus.PENDING)
    def retry(self):
        """Try again (a new attempt with a new idempotency key)."""


class RefundLine(models.Model):
    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="refund_lines")
    quantity = models.PositiveIntegerField()
    amount = _amount(help_text="What the customer paid for these units (tax included).")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="refund_line_quantity"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="refund_line_amount"),
        ]

    def __str__(self):
        return f"{self.quantity} of line {self.order_line_id}"


class ProviderCallback(models.Model):
    """A verified callback from a payment provider, kept once: providers retry, and a
    repeat must change nothing."""

    gateway = models.CharField(max_length=30)
    event_key = models.CharField(max_length=200)
    payload = models.JSONField(default=dict)
    result = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["gateway", "event_key"], name="provider_callback_once")
        ]

    def __str__(self):
        return f"{self.gateway} callback {self.event_key}"
