"""Forecasting runs and results, and purchase orders.

A ``ForecastRun`` splits the SKUs into ``ForecastBatch`` rows that any worker may claim;
each finished batch writes one ``SkuForecast`` per SKU and warehouse (the newest result;
a later run replaces it). ``PurchaseOrder`` is what the merchant has ordered from a supplier
and not yet received: its open quantities count as stock on the way.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from inventory.models import SKU, Supplier, Warehouse


class ForecastSettings(models.Model):
    """The merchant's forecasting and reordering settings (one row)."""

    horizon_days = models.PositiveIntegerField(
        _("forecast horizon (days)"),
        default=56,
        validators=[MinValueValidator(7), MaxValueValidator(182)],
    )
    history_days = models.PositiveIntegerField(
        _("history used (days)"),
        default=730,
        validators=[MinValueValidator(56), MaxValueValidator(1500)],
    )
    service_level = models.DecimalField(
        _("service level (%)"),
        max_digits=4,
        decimal_places=1,
        default=95,
        validators=[MinValueValidator(50), MaxValueValidator(99.9)],
        help_text=_("Chance of not running out during a lead time; sets the safety stock."),
    )
    review_period_days = models.PositiveIntegerField(
        _("review period (days)"),
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text=_("How often you order: suggestions cover lead time plus this."),
    )
    default_lead_time_days = models.PositiveIntegerField(
        _("lead time without a supplier (days)"),
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    batch_size = models.PositiveIntegerField(
        _("SKUs per worker batch"),
        default=500,
        validators=[MinValueValidator(10), MaxValueValidator(5000)],
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("forecast settings")
        verbose_name_plural = _("forecast settings")

    def __str__(self):
        return str(_("Forecast settings"))

    @classmethod
    def current(cls) -> "ForecastSettings":
        obj = cls.objects.order_by("pk").first()
        return obj if obj is not None else cls.objects.create()


class ForecastRun(FSMModelMixin, models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        FINISHED = "finished", _("Finished")
        CANCELLED = "cancelled", _("Cancelled")

    class Trigger(models.TextChoices):
        NIGHTLY = "nightly", _("Nightly job")
        MANUAL = "manual", _("Started from the dashboard")
        COMMAND = "command", _("Command")
        SKU = "sku", _("One SKU")
        DEMO = "demo", _("Demo data")

    status = FSMField(default=Status.RUNNING, choices=Status.choices, protected=True)
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    sku = models.ForeignKey(
        SKU, null=True, blank=True, on_delete=models.CASCADE, help_text=_("For one-SKU runs.")
    )
    as_of = models.DateField(help_text=_("The last day of history the forecast uses."))
    actor_label = models.CharField(max_length=150)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    batch_total = models.PositiveIntegerField(default=0)
    series_total = models.PositiveIntegerField(default=0)
    at_risk = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"forecast run {self.pk} ({self.status})"

    @transition(field=status, source=Status.RUNNING, target=Status.FINISHED)
    def finish(self):
        """Every batch is done."""

    @transition(field=status, source=Status.RUNNING, target=Status.CANCELLED)
    def cancel(self):
        """A newer run replaced this one before it finished."""


class ForecastBatch(FSMModelMixin, models.Model):
    """A share of a run's SKUs. Workers claim pending batches (or running ones whose
    worker went quiet), so a killed worker's batch is picked up again."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")

    run = models.ForeignKey(ForecastRun, on_delete=models.CASCADE, related_name="batches")
    number = models.PositiveIntegerField()
    sku_ids = models.JSONField(default=list)
    status = FSMField(default=Status.PENDING, choices=Status.choices, protected=True)
    attempts = models.PositiveIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    series = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["run", "number"]
        constraints = [
            models.UniqueConstraint(fields=["run", "number"], name="forecast_batch_unique")
        ]

    def __str__(self):
        return f"batch {self.number} of run {self.run_id} ({self.status})"

    @transition(field=status, source=[Status.PENDING, Status.RUNNING], target=Status.RUNNING)
    def claim(self):
        """A worker takes the batch (again, when the last one went quiet)."""

    @transition(field=status, source=Status.RUNNING, target=Status.DONE)
    def complete(self):
        """Results are written."""


class SkuForecast(models.Model):
    """The newest forecast and reorder figures of one SKU in one warehouse."""

    sku = models.ForeignKey(SKU, on_delete=models.CASCADE, related_name="forecasts")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="forecasts")
    run = models.ForeignKey(ForecastRun, null=True, on_delete=models.SET_NULL)
    computed_at = models.DateTimeField()
    as_of = models.DateField()
    # The model and how well it did in the backtest.
    model = models.CharField(max_length=20)
    params = models.JSONField(default=dict)
    intermittent = models.BooleanField(default=False)
    mase = models.FloatField(null=True, blank=True)
    rmsse = models.FloatField(null=True, blank=True)
    coverage = models.FloatField(null=True, blank=True)
    backtest = models.JSONField(default=dict, help_text=_("MASE and RMSSE of every candidate."))
    history_days = models.PositiveIntegerField(default=0)
    stockout_days = models.PositiveIntegerField(default=0)
    # Daily forecast from the day after as_of, with its interval.
    mean = models.JSONField(default=list)
    lower = models.JSONField(default=list)
    upper = models.JSONField(default=list)
    interval_level = models.FloatField(default=0.9)
    sigma = models.FloatField(default=0)
    daily_demand = models.FloatField(default=0)
    # Reordering.
    supplier = models.ForeignKey(Supplier, null=True, blank=True, on_delete=models.SET_NULL)
    lead_time_days = models.PositiveIntegerField(default=0)
    lead_time_std_days = models.FloatField(default=0)
    service_level = models.FloatField(default=0.95)
    safety_stock = models.PositiveIntegerField(default=0)
    reorder_point = models.PositiveIntegerField(default=0)
    target_level = models.PositiveIntegerField(default=0)
    on_hand = models.IntegerField(default=0)
    allocated = models.IntegerField(default=0)
    open_purchase = models.IntegerField(default=0)
    projected = models.JSONField(default=list, help_text=_("Projected available stock per day."))
    days_of_cover = models.FloatField(null=True, blank=True)
    stockout_date = models.DateField(null=True, blank=True)
    at_risk = models.BooleanField(default=False, db_index=True)
    suggested_quantity = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["sku__code", "warehouse__rank"]
        constraints = [
            models.UniqueConstraint(fields=["sku", "warehouse"], name="sku_forecast_unique")
        ]

    def __str__(self):
        return f"{self.sku_id}@{self.warehouse_id}: {self.model}"

    @property
    def available(self) -> int:
        return self.on_hand - self.allocated

    @property
    def position(self) -> int:
        """Inventory position: available plus what is on order."""
        return self.on_hand - self.allocated + self.open_purchase


class PurchaseOrder(FSMModelMixin, models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ORDERED = "ordered", _("Ordered")
        PARTIALLY_RECEIVED = "partially_received", _("Partially received")
        RECEIVED = "received", _("Received")
        CANCELLED = "cancelled", _("Cancelled")

    OPEN = (Status.ORDERED, Status.PARTIALLY_RECEIVED)

    number = models.CharField(max_length=20, unique=True)
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="purchases")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="purchases")
    status = FSMField(default=Status.DRAFT, choices=Status.choices, protected=True)
    expected_date = models.DateField(null=True, blank=True)
    supplier_reference = models.CharField(max_length=100, blank=True)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    ordered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return self.number

    @transition(field=status, source=Status.DRAFT, target=Status.ORDERED)
    def place(self):
        """Sent to the supplier: its lines now count as stock on the way."""

    @transition(
        field=status,
        source=[Status.ORDERED, Status.PARTIALLY_RECEIVED],
        target=Status.PARTIALLY_RECEIVED,
    )
    def receive_part(self):
        """Some units arrived."""

    @transition(
        field=status, source=[Status.ORDERED, Status.PARTIALLY_RECEIVED], target=Status.RECEIVED
    )
    def receive_all(self):
        """Every line arrived in full, or the rest will not come (closed short)."""

    @transition(field=status, source=[Status.DRAFT, Status.ORDERED], target=Status.CANCELLED)
    def cancel(self):
        """Nothing received and nothing will be."""


class PurchaseOrderLine(models.Model):
    order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey(SKU, on_delete=models.PROTECT, related_name="purchase_lines")
    quantity = models.PositiveIntegerField()
    received_quantity = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "sku"], name="purchase_line_sku_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="purchase_line_quantity"),
            models.CheckConstraint(
                condition=Q(received_quantity__lte=F("quantity")),
                name="purchase_line_received_within_quantity",
            ),
        ]

    def __str__(self):
        return f"{self.order_id}: {self.quantity} x {self.sku_id}"

    @property
    def open_quantity(self) -> int:
        return self.quantity - self.received_quantity


class PurchaseOrderEvent(models.Model):
    """The purchase order's trail: created, placed, received, cancelled."""

    order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    message = models.CharField(max_length=500, blank=True)
    actor_label = models.CharField(max_length=150)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.order_id} {self.kind}"
