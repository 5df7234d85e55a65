"""Return requests (RMAs), their lines and their trail.

``ReturnRequest.status`` is an ``FSMField(protected=True)``: it changes only through the
transitions below, which say *whether*; the services in ``returns.services`` do the work
(locks, quantities, stock, money, events, webhooks).

    requested --approve--> approved --send label--> label_sent --receive--> received
        |                     |                                      ^          |
        +--reject--> rejected +-----------------receive--------------+      inspect
                                                                               v
                                                         closed <--close-- inspected
"""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from inventory.models import StockMovement, Warehouse
from orders.models import Order, OrderLine


class ReturnStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    LABEL_SENT = "label_sent", _("Label sent")
    RECEIVED = "received", _("Received")
    INSPECTED = "inspected", _("Inspected")
    CLOSED = "closed", _("Closed")


# Return requests whose lines still hold units of their order lines (see quantities.py).
OPEN_STATUSES = [ReturnStatus.REQUESTED, ReturnStatus.APPROVED, ReturnStatus.LABEL_SENT]


class ReturnReason(models.TextChoices):
    DOES_NOT_FIT = "does_not_fit", _("Does not fit")
    NOT_AS_DESCRIBED = "not_as_described", _("Not as described")
    DAMAGED = "damaged", _("Arrived damaged")
    WRONG_ITEM = "wrong_item", _("Wrong item sent")
    CHANGED_MIND = "changed_mind", _("Changed my mind")
    OTHER = "other", _("Other")


class ReturnSource(models.TextChoices):
    STAFF = "staff", _("Staff")
    API = "api", _("API")
    CUSTOMER = "customer", _("Customer")


class InspectionOutcome(models.TextChoices):
    RESTOCK = "restock", _("Restock")
    DAMAGED = "damaged", _("Damaged")
    DISPOSE = "dispose", _("Dispose")


class ReturnRequest(FSMModelMixin, models.Model):
    number = models.CharField(max_length=20, unique=True, null=True, blank=True)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="return_requests")
    status = FSMField(
        default=ReturnStatus.REQUESTED,
        choices=ReturnStatus.choices,
        protected=True,
        db_index=True,
    )
    source = models.CharField(max_length=10, choices=ReturnSource.choices)
    warehouse = models.ForeignKey(
        Warehouse,
        on_delete=models.PROTECT,
        related_name="return_requests",
        verbose_name=_("return warehouse"),
        help_text=_("Where the parcel goes back to; it must accept returns."),
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    rejection_reason = models.CharField(max_length=300, blank=True)
    # The return label, booked through the carrier adapter.
    carrier = models.ForeignKey(
        "fulfillment.CarrierAccount",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="return_requests",
    )
    carrier_name = models.CharField(max_length=60, blank=True)
    service_code = models.CharField(max_length=40, blank=True)
    tracking_number = models.CharField(max_length=100, blank=True, db_index=True)
    tracking_url = models.URLField(max_length=500, blank=True)
    label_pdf = models.BinaryField(null=True, blank=True, editable=False)
    label_zpl = models.TextField(blank=True, editable=False)
    label_booked_at = models.DateTimeField(null=True, blank=True)
    # An exchange: the replacement is an order of its own, linked here.
    exchange_order = models.OneToOneField(
        Order,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="exchange_for",
    )
    exchange_credit = models.DecimalField(
        max_digits=14,
        decimal_places=3,
        default=0,
        help_text=_("What the returned units were worth, applied to the replacement order."),
    )
    exchange_difference = models.DecimalField(
        max_digits=14,
        decimal_places=3,
        default=0,
        help_text=_("Replacement total minus credit: above zero is charged, below zero refunded."),
    )
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    inspected_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "-id"])]

    def __str__(self):
        return self.number or f"return #{self.pk}"

    @staticmethod
    def pk_from_number(number: str) -> int | None:
        prefix, _sep, digits = (number or "").upper().partition("-")
        if prefix != "RMA" or not digits.isdigit() or len(digits) > 12:
            return None
        return int(digits)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def refund_source(self) -> str:
        """``Refund.source`` of this return's refunds."""
        return f"return:{self.number}"

    # --- transitions: whether; the services do the work ---

    @transition(field=status, source=ReturnStatus.REQUESTED, target=ReturnStatus.APPROVED)
    def approve(self):
        """Staff accept the request: the customer may send the goods."""

    @transition(field=status, source=ReturnStatus.REQUESTED, target=ReturnStatus.REJECTED)
    def reject(self, reason: str):
        self.rejection_reason = reason

    @transition(field=status, source=ReturnStatus.APPROVED, target=ReturnStatus.LABEL_SENT)
    def label_sent(self):
        """A return label was booked and sent to the customer."""

    @transition(
        field=status,
        source=[ReturnStatus.APPROVED, ReturnStatus.LABEL_SENT],
        target=ReturnStatus.RECEIVED,
    )
    def receive(self):
        """The parcel arrived at the return warehouse."""

    @transition(field=status, source=ReturnStatus.RECEIVED, target=ReturnStatus.INSPECTED)
    def inspected(self):
        """Every received line has an outcome."""

    @transition(field=status, source=ReturnStatus.INSPECTED, target=ReturnStatus.CLOSED)
    def close(self):
        """Refunded (or exchanged) and done."""


class ReturnLine(models.Model):
    request = models.ForeignKey(ReturnRequest, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="return_lines")
    quantity = models.PositiveIntegerField(help_text=_("Units the customer sends back."))
    reason = models.CharField(max_length=20, choices=ReturnReason.choices)
    comment = models.CharField(max_length=500, blank=True)
    quantity_received = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=10, choices=InspectionOutcome.choices, blank=True)
    inspection_note = models.CharField(max_length=300, blank=True)
    restock_movement = models.OneToOneField(
        StockMovement,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="return_line",
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="return_line_quantity"),
            models.CheckConstraint(
                condition=Q(quantity_received__lte=F("quantity")),
                name="return_line_received_within_quantity",
            ),
            models.UniqueConstraint(
                fields=["request", "order_line"], name="return_line_once_per_order_line"
            ),
        ]

    def __str__(self):
        return f"{self.quantity} of line {self.order_line_id}"

    @property
    def outcome_or_none(self) -> str | None:
        return self.outcome or None

    @property
    def is_restocked(self) -> bool:
        return self.restock_movement_id is not None


class ReturnEvent(models.Model):
    """The return's trail: who did what, when, from which state to which."""

    request = models.ForeignKey(ReturnRequest, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    message = models.CharField(max_length=500, blank=True)
    details = models.JSONField(default=dict, blank=True)
    actor_label = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.message or self.to_status} on {self.request_id}"


__all__ = [
    "InspectionOutcome",
    "ReturnEvent",
    "ReturnLine",
    "ReturnReason",
    "ReturnRequest",
    "ReturnSource",
    "ReturnStatus",
]
