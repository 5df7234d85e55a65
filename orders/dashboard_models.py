"""Data behind the merchant's dashboard: the sales rollup the home page reads, saved views
of the order list, and bulk jobs with their per-order results.

Imported by ``orders.models`` (so Django and the migrations see them); kept apart so that
the order core's models module stays about orders.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from oms_site.money import CURRENCY_CHOICES

from .models import Order, SalesChannel

# Placements and cancellations add to one of this many rows per hour and channel (chosen by
# the order's id), so that concurrent orders rarely wait on the same counter row.
SALES_SHARDS = 4


class HourlySales(models.Model):
    """Orders and revenue per local hour and channel, in the base currency.

    Written in the order's own transaction (``orders.services.reporting``) and reconciled
    for closed days by a periodic task: the home page sums a few thousand of these rows
    instead of scanning millions of orders. Revenue excludes cancelled orders; orders whose
    currency has no rate to the base currency are counted in ``unconverted``.
    """

    day = models.DateField(help_text=_("Local date (the site's time zone)."))
    hour = models.PositiveSmallIntegerField()
    channel = models.ForeignKey(SalesChannel, on_delete=models.CASCADE, related_name="+")
    currency = models.CharField(
        max_length=3, choices=CURRENCY_CHOICES, help_text=_("The base currency of the sums.")
    )
    shard = models.PositiveSmallIntegerField(default=0)
    orders = models.IntegerField(default=0)
    cancelled = models.IntegerField(default=0)
    unconverted = models.IntegerField(default=0)
    revenue = models.DecimalField(max_digits=18, decimal_places=3, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "hour", "channel", "currency", "shard"],
                name="hourly_sales_unique",
            )
        ]
        indexes = [models.Index(fields=["day"], name="hourly_sales_day")]

    def __str__(self):
        return f"{self.day} {self.hour:02d}h {self.channel_id}: {self.orders}"


class SavedView(models.Model):
    """A named order list: its filters, sort and columns (the query string), for its owner
    or the whole team."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    name = models.CharField(_("name"), max_length=80)
    query = models.CharField(
        _("filters"), max_length=1000, blank=True, help_text=_("The list's query string.")
    )
    shared = models.BooleanField(_("shared with the team"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="saved_view_name_per_owner")
        ]
        indexes = [models.Index(fields=["shared"], name="saved_view_shared")]

    def __str__(self):
        return self.name


class BulkJob(models.Model):
    """One action on many orders (hold, release, cancel, route, tags, pick lists ...),
    run by a Celery task in batches; every order gets a result row."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    action = models.CharField(max_length=40)
    params = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    succeeded = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    # A file the action made (packing slips): where the job page offers it for download.
    result_file = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-pk"]

    def __str__(self):
        return f"{self.action} #{self.pk} ({self.status})"

    @property
    def percent(self) -> int:
        return int(100 * self.processed / self.total) if self.total else 100

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class BulkJobItem(models.Model):
    """One order of a bulk job and what happened to it."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Waiting")
        DONE = "done", _("Done")
        REFUSED = "refused", _("Refused")

    job = models.ForeignKey(BulkJob, on_delete=models.CASCADE, related_name="items")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="+")
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    message = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["job", "order"], name="bulk_item_once_per_order")
        ]
        indexes = [
            models.Index(
                fields=["job", "id"],
                condition=Q(outcome="pending"),
                name="bulk_item_pending",
            )
        ]

    def __str__(self):
        return f"{self.order_id}: {self.outcome}"
