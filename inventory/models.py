"""Catalogue, places and stock.

Stock truth: ``StockLevel`` holds on-hand and allocated per SKU and warehouse; every change
to it is a ``StockMovement`` row written in the same transaction by ``inventory.stock``.
The database refuses ``allocated > on_hand`` and negatives, so no code path can oversell.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django_countries.fields import CountryField
from django_fsm import FSMField, FSMModelMixin, transition
from stdnum import ean

from oms_site.money import CURRENCY_CHOICES


def validate_gtin(value: str) -> None:
    """GTIN-8/12/13/14 (EAN/UPC) with a correct check digit."""
    if value and not (len(value) in (8, 12, 13, 14) and ean.is_valid(value)):
        raise ValidationError(
            "'%(value)s' is not a valid GTIN (8, 12, 13 or 14 digits with a correct check digit).",
            params={"value": value},
            code="invalid_gtin",
        )


class Supplier(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    drop_ships = models.BooleanField(
        default=False, help_text="Ships to customers directly when no warehouse can."
    )
    lead_time_days = models.PositiveIntegerField(default=7)
    lead_time_std_days = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        default=0,
        validators=[MinValueValidator(0)],
        help_text="How many days deliveries vary around the lead time (standard deviation).",
    )
    min_order_quantity = models.PositiveIntegerField(
        default=1, help_text="Smallest quantity of a SKU the supplier accepts on an order line."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class TaxClass(models.Model):
    """A product's tax category ("standard", "food", "books", "zero-rated").

    The rates themselves are data per country and class (``orders.TaxRate``); the class
    marked ``is_default`` applies to products without a class and to shipping.
    """

    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=100)
    is_default = models.BooleanField(
        default=False, help_text="Used for products without a class and for shipping."
    )

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "tax classes"
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_tax_class"
            )
        ]

    def __str__(self):
        return self.name


class Product(models.Model):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    brand = models.CharField(max_length=100, blank=True)
    tax_class = models.ForeignKey(
        TaxClass,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="products",
        help_text="Empty: the default tax class.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class SKU(models.Model):
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="skus")
    code = models.CharField("SKU", max_length=64, unique=True)
    name = models.CharField(max_length=200, help_text="Variant name, e.g. 'Blue / L'.")
    barcode = models.CharField(
        "barcode (GTIN)", max_length=14, blank=True, validators=[validate_gtin], db_index=True
    )
    price = models.DecimalField(max_digits=14, decimal_places=3, default=0)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, default="EUR")
    weight_grams = models.PositiveIntegerField(default=0)
    length_mm = models.PositiveIntegerField(default=0)
    width_mm = models.PositiveIntegerField(default=0)
    height_mm = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)
    supplier = models.ForeignKey(
        Supplier, null=True, blank=True, on_delete=models.SET_NULL, related_name="skus"
    )
    lead_time_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Overrides the supplier's lead time."
    )
    pack_size = models.PositiveIntegerField(
        default=1,
        validators=[MinValueValidator(1)],
        help_text="Units per case: purchase quantities are whole cases.",
    )
    min_order_quantity = models.PositiveIntegerField(
        null=True, blank=True, help_text="Overrides the supplier's minimum order quantity."
    )

    class Meta:
        ordering = ["code"]
        verbose_name = "SKU"
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="sku_price_not_negative"),
        ]

    def __str__(self):
        return f"{self.code} — {self.product.name} {self.name}".strip()

    @property
    def display_name(self) -> str:
        return f"{self.product.name} {self.name}".strip()


class Warehouse(models.Model):
    code = models.SlugField(max_length=20, unique=True)
    name = models.CharField(max_length=100)
    address_line1 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100)
    postal_code = models.CharField(max_length=20, blank=True)
    country = CountryField()
    latitude = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(-90), MaxValueValidator(90)]
    )
    longitude = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(-180), MaxValueValidator(180)]
    )
    rank = models.PositiveIntegerField(default=100, help_text="Lower ranks are preferred.")
    ships_to_countries = models.JSONField(
        default=list,
        blank=True,
        help_text="ISO country codes this warehouse ships to; empty means everywhere.",
    )
    cutoff_time = models.TimeField(
        null=True, blank=True, help_text="Orders allocated after this time ship the next day."
    )
    accepts_returns = models.BooleanField(default=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["rank", "code"]

    def __str__(self):
        return f"{self.code} ({self.city})"

    def ships_to(self, country_code: str) -> bool:
        return not self.ships_to_countries or country_code in self.ships_to_countries


class Bin(models.Model):
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="bins")
    code = models.CharField(max_length=40)
    pick_sequence = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["warehouse", "pick_sequence", "code"]
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "code"], name="bin_code_unique")
        ]

    def __str__(self):
        return f"{self.warehouse.code}/{self.code}"


class WarehouseAccess(models.Model):
    """Warehouse staff see and change stock only in the warehouses they are assigned."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="warehouse_access"
    )
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "warehouse"], name="warehouse_access_unique")
        ]

    def __str__(self):
        return f"{self.user} @ {self.warehouse.code}"


class StockLevel(models.Model):
    sku = models.ForeignKey(SKU, on_delete=models.PROTECT, related_name="stock_levels")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="stock_levels")
    bin = models.ForeignKey(Bin, null=True, blank=True, on_delete=models.SET_NULL)
    on_hand = models.IntegerField(default=0)
    allocated = models.IntegerField(default=0)
    safety_stock = models.PositiveIntegerField(
        default=0, help_text="Units routing keeps back when the safety-stock rule is on."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sku__code", "warehouse__rank"]
        constraints = [
            models.UniqueConstraint(fields=["sku", "warehouse"], name="stock_level_unique"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stock_on_hand_not_negative"),
            models.CheckConstraint(
                condition=Q(allocated__gte=0), name="stock_allocated_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(allocated__lte=F("on_hand")), name="stock_allocated_within_on_hand"
            ),
        ]

    def __str__(self):
        return f"{self.sku.code}@{self.warehouse.code}: {self.on_hand}/{self.allocated}"

    @property
    def available(self) -> int:
        return self.on_hand - self.allocated

    @property
    def available_after_safety(self) -> int:
        return max(self.on_hand - self.allocated - self.safety_stock, 0)


class MovementReason(models.TextChoices):
    RECEIPT = "receipt", "Receipt"
    ADJUSTMENT = "adjustment", "Adjustment"
    ALLOCATION = "allocation", "Allocation"
    DEALLOCATION = "deallocation", "Deallocation"
    RESERVATION = "reservation", "Reservation"
    RESERVATION_RELEASE = "reservation_release", "Reservation released"
    SHIPMENT = "shipment", "Shipment"
    RETURN_RESTOCK = "return_restock", "Return restock"
    TRANSFER_OUT = "transfer_out", "Transfer out"
    TRANSFER_IN = "transfer_in", "Transfer in"
    CYCLE_COUNT = "cycle_count", "Cycle count"


class StockMovementQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Stock movements are immutable.")

    def delete(self):
        raise TypeError("Stock movements are immutable.")


class StockMovement(models.Model):
    """One immutable ledger row. A level equals the sum of its rows (see oms_audit)."""

    # Found by SKU through the (sku, warehouse) index in Meta.
    sku = models.ForeignKey(SKU, on_delete=models.PROTECT, related_name="movements", db_index=False)
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="movements")
    on_hand_change = models.IntegerField(default=0)
    allocated_change = models.IntegerField(default=0)
    reason = models.CharField(max_length=24, choices=MovementReason.choices)
    # Looked up exactly (a shipment's movements): a plain index in Meta, without the
    # LIKE index db_index adds on PostgreSQL (the ledger's search is a contains, which
    # neither serves).
    reference = models.CharField(
        max_length=100, blank=True, help_text="e.g. order:SO-1000021 or PO-77."
    )
    note = models.CharField(max_length=300, blank=True)
    actor_label = models.CharField(max_length=150)
    # Indexed only where set (a user deleted clears it): allocations by the system are
    # most of the ledger.
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = StockMovementQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["sku", "warehouse"]),
            models.Index(fields=["reference"], name="stock_movement_reference"),
            models.Index(
                fields=["actor_user"],
                condition=Q(actor_user__isnull=False),
                name="stock_movement_actor_user",
            ),
        ]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("Stock movements are immutable.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Stock movements are immutable.")

    def __str__(self):
        change = f"{self.on_hand_change:+}/{self.allocated_change:+}"
        return f"{self.reason} {self.sku_id}@{self.warehouse_id} {change}"


class Reservation(models.Model):
    """A checkout hold: units allocated against a cart until it expires or becomes an order."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        CONVERTED = "converted", "Converted to order"
        RELEASED = "released", "Released"
        EXPIRED = "expired", "Expired"

    token = models.CharField(max_length=64, db_index=True, help_text="The cart's hold token.")
    sku = models.ForeignKey(SKU, on_delete=models.PROTECT)
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT)
    quantity = models.PositiveIntegerField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    expires_at = models.DateTimeField(db_index=True)
    reference = models.CharField(max_length=100, blank=True, help_text="The caller's cart id.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="reservation_quantity_positive"
            )
        ]

    @property
    def ledger_reference(self) -> str:
        return f"reservation:{self.token}"

    def __str__(self):
        return f"hold {self.token[:8]}: {self.quantity} x {self.sku_id}"


class RoutingRule(models.TextChoices):
    SHIP_COMPLETE = "ship_complete", "Ship complete from one warehouse (fewest splits)"
    CLOSEST = "closest", "Closest to the delivery address"
    RANK = "rank", "Warehouse rank"
    MOST_AVAILABLE = "most_available", "Most units available"


DEFAULT_RULE_CHAIN = [
    RoutingRule.SHIP_COMPLETE.value,
    RoutingRule.CLOSEST.value,
    RoutingRule.RANK.value,
    RoutingRule.MOST_AVAILABLE.value,
]


class RoutingSettings(models.Model):
    """The merchant's routing configuration (one row)."""

    rule_chain = models.JSONField(
        default=list, help_text="Rules in the order they decide; the first that differs wins."
    )
    respect_safety_stock = models.BooleanField(default=True)
    allow_split = models.BooleanField(
        default=True, help_text="Split an order across warehouses when none has everything."
    )
    allow_dropship = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "routing settings"

    @classmethod
    def current(cls) -> "RoutingSettings":
        obj = cls.objects.order_by("pk").first()
        if obj is None:
            obj = cls.objects.create(rule_chain=list(DEFAULT_RULE_CHAIN))
        return obj

    def __str__(self):
        return "Routing settings"


class ImportJob(FSMModelMixin, models.Model):
    """A CSV import the merchant confirmed, run by a Celery worker; the page follows it.

    queued -> running -> done (``result`` says whether it was applied and why not) or
    failed (the worker crashed; nothing was written).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    token = models.CharField(max_length=64, help_text="The stored upload (csv_io).")
    kind = models.CharField(max_length=20)
    filename = models.CharField(max_length=255, blank=True)
    valid_only = models.BooleanField(default=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    status = FSMField(default=Status.QUEUED, choices=Status.choices, protected=True)
    phase = models.CharField(max_length=20, blank=True, help_text="checking or writing")
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"import #{self.pk} {self.filename} ({self.status})"

    @transition(field=status, source=Status.QUEUED, target=Status.RUNNING)
    def start(self):
        """A worker took the job. (django-fsm sets the state.)"""

    @transition(field=status, source=Status.RUNNING, target=Status.DONE)
    def finish(self, result: dict):
        self.result = result

    @transition(field=status, source=[Status.QUEUED, Status.RUNNING], target=Status.FAILED)
    def fail(self, error: str):
        self.error = error

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int:
        if self.finished:
            return 100
        if not self.rows_total:
            return 0
        # Checking is the first half of the work, writing the second.
        share = self.rows_done / self.rows_total
        return int(50 * share) + (50 if self.phase == "writing" else 0)
