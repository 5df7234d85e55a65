"""Shipments: units of one order leaving one warehouse (or a drop-shipping supplier), in
packages, with a carrier, a tracking number, a label and a trail of events."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from inventory.models import Supplier, Warehouse
from oms_site.roles import Capability, user_can
from orders.models import Order, OrderLine

from .carriers import CarrierAccount, CarrierService, PackageType


def _may_work(instance, user) -> bool:
    return user_can(user, Capability.FULFILLMENT_WORK)


class ShipmentStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PICKING = "picking", _("Picking")
    PACKED = "packed", _("Packed")
    SHIPPED = "shipped", _("Shipped")
    IN_TRANSIT = "in_transit", _("In transit")
    DELIVERED = "delivered", _("Delivered")
    EXCEPTION = "exception", _("Delivery problem")
    RETURNED_TO_SENDER = "returned_to_sender", _("Returned to sender")
    CANCELLED = "cancelled", _("Cancelled")


SS = ShipmentStatus
# Not yet left the building: at most one per order and warehouse (a database constraint).
OPEN_SHIPMENT_STATUSES = [SS.DRAFT, SS.PICKING, SS.PACKED]
# Left the building, not yet at the customer: what tracking polls.
UNDERWAY_STATUSES = [SS.SHIPPED, SS.IN_TRANSIT, SS.EXCEPTION]


class Shipment(FSMModelMixin, models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="shipments")
    warehouse = models.ForeignKey(
        Warehouse, null=True, blank=True, on_delete=models.PROTECT, related_name="shipments"
    )
    supplier = models.ForeignKey(
        Supplier,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="shipments",
        help_text=_("A drop-shipping supplier sent it."),
    )
    status = FSMField(default=SS.DRAFT, choices=SS.choices, protected=True, db_index=True)
    external = models.BooleanField(
        default=False,
        help_text=_("Fulfilled outside the warehouse flow (marketplace, drop-ship, by hand)."),
    )
    carrier = models.ForeignKey(
        CarrierAccount, null=True, blank=True, on_delete=models.PROTECT, related_name="shipments"
    )
    service = models.ForeignKey(
        CarrierService, null=True, blank=True, on_delete=models.PROTECT, related_name="shipments"
    )
    carrier_name = models.CharField(
        max_length=60, blank=True, help_text=_("The carrier as shown (also for outside ones).")
    )
    service_name = models.CharField(max_length=100, blank=True)
    tracking_number = models.CharField(max_length=100, blank=True, db_index=True)
    tracking_url = models.URLField(max_length=500, blank=True)
    booking_reference = models.CharField(max_length=100, blank=True)
    label_pdf = models.BinaryField(null=True, blank=True, editable=False)
    label_zpl = models.TextField(blank=True, editable=False)
    booked_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    carrier_status = models.CharField(max_length=60, blank=True)
    tracking_checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "warehouse"],
                condition=Q(status__in=["draft", "picking", "packed"]),
                name="one_open_shipment_per_order_and_warehouse",
            ),
            models.CheckConstraint(
                condition=~(Q(warehouse__isnull=False) & Q(supplier__isnull=False)),
                name="shipment_one_source",
            ),
        ]
        indexes = [
            models.Index(fields=["warehouse", "status"]),
            models.Index(fields=["status", "tracking_checked_at"]),
        ]

    def __str__(self):
        return self.number

    @property
    def number(self) -> str:
        return self.number_for(self.pk) if self.pk else "SH-new"

    @staticmethod
    def number_for(pk: int) -> str:
        return f"SH-{pk:07d}"

    @staticmethod
    def pk_from_number(number: str) -> int | None:
        prefix, _, digits = (number or "").upper().partition("-")
        return int(digits) if prefix == "SH" and digits.isdigit() else None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_SHIPMENT_STATUSES

    @property
    def is_underway(self) -> bool:
        return self.status in UNDERWAY_STATUSES

    # --- transitions: whether; the services do the work ---

    @transition(field=status, source=SS.DRAFT, target=SS.PICKING)
    def start_picking(self):
        """Its units are on a pick list. (django-fsm sets the state.)"""

    @transition(field=status, source=[SS.DRAFT, SS.PICKING], target=SS.PACKED, permission=_may_work)
    def mark_packed(self):
        """Every unit is in a package. (django-fsm sets the state.)"""

    @transition(field=status, source=SS.PACKED, target=SS.PICKING, permission=_may_work)
    def reopen(self):
        """Packing is undone to change the packages. (django-fsm sets the state.)"""

    @transition(field=status, source=[SS.DRAFT, SS.PACKED], target=SS.SHIPPED, permission=_may_work)
    def ship(self):
        """Handed to the carrier: stock leaves with it. (django-fsm sets the state.)"""

    @transition(
        field=status, source=[SS.SHIPPED, SS.IN_TRANSIT, SS.EXCEPTION], target=SS.IN_TRANSIT
    )
    def mark_in_transit(self):
        """The carrier reports it moving. (django-fsm sets the state.)"""

    @transition(field=status, source=[SS.SHIPPED, SS.IN_TRANSIT, SS.EXCEPTION], target=SS.DELIVERED)
    def mark_delivered(self):
        """The carrier (or a person) says it arrived. (django-fsm sets the state.)"""

    @transition(field=status, source=[SS.SHIPPED, SS.IN_TRANSIT, SS.EXCEPTION], target=SS.EXCEPTION)
    def mark_exception(self):
        """A delivery problem: failed attempt, damage, address. (django-fsm sets the state.)"""

    @transition(
        field=status,
        source=[SS.SHIPPED, SS.IN_TRANSIT, SS.EXCEPTION],
        target=SS.RETURNED_TO_SENDER,
    )
    def mark_returned_to_sender(self):
        """The carrier brings it back undelivered. (django-fsm sets the state.)"""

    @transition(field=status, source=OPEN_SHIPMENT_STATUSES, target=SS.CANCELLED)
    def cancel(self):
        """Nothing left to send (order cancelled, re-routed, all short). (django-fsm sets the
        state.)"""


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(
        OrderLine, on_delete=models.PROTECT, related_name="shipment_lines"
    )
    quantity = models.PositiveIntegerField()
    quantity_packed = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["shipment", "order_line"], name="shipment_line_unique"),
            models.CheckConstraint(
                condition=Q(quantity_packed__lte=F("quantity")), name="shipment_line_packed_within"
            ),
        ]

    def __str__(self):
        return f"{self.quantity} x line {self.order_line_id}"


class Package(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="packages")
    sequence = models.PositiveIntegerField(default=1)
    package_type = models.ForeignKey(
        PackageType, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    weight_grams = models.PositiveIntegerField(default=0)
    length_mm = models.PositiveIntegerField(default=0)
    width_mm = models.PositiveIntegerField(default=0)
    height_mm = models.PositiveIntegerField(default=0)
    tracking_number = models.CharField(
        max_length=100, blank=True, help_text=_("The carrier's package number.")
    )

    class Meta:
        ordering = ["sequence"]
        constraints = [
            models.UniqueConstraint(fields=["shipment", "sequence"], name="package_sequence_unique")
        ]

    def __str__(self):
        return f"package {self.sequence} of shipment {self.shipment_id}"


class PackageLine(models.Model):
    package = models.ForeignKey(Package, on_delete=models.CASCADE, related_name="lines")
    shipment_line = models.ForeignKey(
        ShipmentLine, on_delete=models.CASCADE, related_name="package_lines"
    )
    quantity = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["package", "shipment_line"], name="package_line_unique")
        ]

    def __str__(self):
        return f"{self.quantity} x shipment line {self.shipment_line_id}"


class ShipmentEvent(models.Model):
    """The shipment's trail: status changes, carrier tracking updates, labels, notes."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        STATUS_CHANGED = "status_changed", _("Status changed")
        TRACKING = "tracking", _("Carrier update")
        LABEL = "label", _("Label")
        NOTE = "note", _("Note")

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    message = models.CharField(max_length=500, blank=True)
    carrier_status = models.CharField(max_length=60, blank=True)
    location = models.CharField(max_length=200, blank=True)
    external_id = models.CharField(
        max_length=100, blank=True, help_text=_("The carrier's event key (no duplicates).")
    )
    occurred_at = models.DateTimeField(db_index=True)
    details = models.JSONField(default=dict, blank=True)
    actor_label = models.CharField(max_length=150)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shipment", "external_id"],
                condition=~Q(external_id=""),
                name="shipment_event_external_unique",
            )
        ]

    def __str__(self):
        return f"{self.kind} on shipment {self.shipment_id}"
