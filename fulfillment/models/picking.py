"""Pick lists: allocated order lines of one warehouse, in the order of the bins' pick
sequence, with one tote slot per order."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from inventory.models import SKU, Bin, Warehouse
from oms_site.roles import Capability, user_can
from orders.models import Order, OrderLine


def _may_work(instance, user) -> bool:
    return user_can(user, Capability.FULFILLMENT_WORK)


class PickListStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PICKING = "picking", _("Picking")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


ACTIVE_PICK_LIST_STATUSES = [PickListStatus.OPEN, PickListStatus.PICKING]


class PickList(FSMModelMixin, models.Model):
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="pick_lists")
    status = FSMField(
        default=PickListStatus.OPEN, choices=PickListStatus.choices, protected=True, db_index=True
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="pick_lists",
        verbose_name=_("picker"),
    )
    rules = models.JSONField(default=dict, blank=True, help_text=_("How the wave was chosen."))
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["warehouse", "status"])]

    def __str__(self):
        return self.number

    @property
    def number(self) -> str:
        return f"PL-{self.pk:06d}" if self.pk else "PL-new"

    @staticmethod
    def pk_from_number(number: str) -> int | None:
        prefix, _, digits = (number or "").upper().partition("-")
        return int(digits) if prefix == "PL" and digits.isdigit() else None

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_PICK_LIST_STATUSES

    @transition(
        field=status,
        source=PickListStatus.OPEN,
        target=PickListStatus.PICKING,
        permission=_may_work,
    )
    def start(self):
        """The first scan. (django-fsm sets the state.)"""

    @transition(
        field=status,
        source=[PickListStatus.OPEN, PickListStatus.PICKING],
        target=PickListStatus.DONE,
        permission=_may_work,
    )
    def complete(self):
        """Every line is picked or reported short. (django-fsm sets the state.)"""

    @transition(
        field=status,
        source=[PickListStatus.OPEN, PickListStatus.PICKING],
        target=PickListStatus.CANCELLED,
        permission=_may_work,
    )
    def cancel(self):
        """Given up; its orders may be put on another list. (django-fsm sets the state.)"""


class PickListOrder(models.Model):
    """One order on a pick list: its tote slot, and the shipment its units go into."""

    pick_list = models.ForeignKey(PickList, on_delete=models.CASCADE, related_name="orders")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="pick_list_entries")
    shipment = models.OneToOneField(
        "fulfillment.Shipment", on_delete=models.PROTECT, related_name="pick_list_entry"
    )
    tote_slot = models.PositiveIntegerField(help_text=_("Slot of the cart or tote, from 1."))

    class Meta:
        ordering = ["tote_slot"]
        constraints = [
            models.UniqueConstraint(fields=["pick_list", "tote_slot"], name="pick_tote_unique"),
            models.UniqueConstraint(fields=["pick_list", "order"], name="pick_order_unique"),
        ]

    def __str__(self):
        return f"{self.pick_list_id}/{self.tote_slot}: order {self.order_id}"


class PickListLine(models.Model):
    pick_list = models.ForeignKey(PickList, on_delete=models.CASCADE, related_name="lines")
    pick_order = models.ForeignKey(PickListOrder, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="+")
    sku = models.ForeignKey(SKU, on_delete=models.PROTECT, related_name="+")
    bin = models.ForeignKey(Bin, null=True, blank=True, on_delete=models.SET_NULL)
    bin_code = models.CharField(max_length=40, blank=True)
    pick_sequence = models.PositiveIntegerField(default=0)
    quantity = models.PositiveIntegerField()
    quantity_picked = models.PositiveIntegerField(default=0)
    quantity_short = models.PositiveIntegerField(default=0)
    bin_confirmed = models.BooleanField(default=False)

    class Meta:
        ordering = ["pick_sequence", "bin_code", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="pick_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(quantity_picked__lte=F("quantity") - F("quantity_short")),
                name="pick_line_within_quantity",
            ),
        ]

    def __str__(self):
        return f"{self.quantity} x {self.sku_id} at {self.bin_code or '-'}"

    @property
    def quantity_open(self) -> int:
        return self.quantity - self.quantity_picked - self.quantity_short

    @property
    def is_done(self) -> bool:
        return self.quantity_open == 0
