"""Orders: channels, customers, orders and lines, allocations and the audit trail.

Status fields are django-fsm ``FSMField(protected=True)``: they change only through the
``@transition`` methods below, which say *whether* a change is allowed. The services in
``orders.services`` do the work around a transition (locks, stock, events, webhooks).
"""

import secrets
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from inventory.models import SKU, Supplier, TaxClass, Warehouse
from oms_site.json_field import JSONField
from oms_site.money import CURRENCY_CHOICES
from oms_site.roles import Capability, user_can


class CaptureMoment(models.TextChoices):
    PLACEMENT = "placement", _("When the order is placed")
    SHIPMENT = "shipment", _("When the goods ship")


class InvoiceMoment(models.TextChoices):
    PAYMENT = "payment", _("When the order is paid")
    SHIPMENT = "shipment", _("When the order has shipped")


class SalesChannel(models.Model):
    class Kind(models.TextChoices):
        WEB = "web", _("Web shop")
        POS = "pos", _("Point of sale")
        AMAZON = "amazon", "Amazon"
        EBAY = "ebay", "eBay"
        SHOPIFY = "shopify", "Shopify"
        ALIEXPRESS = "aliexpress", "AliExpress"
        API = "api", _("API / partner")

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, default="EUR")
    prices_include_tax = models.BooleanField(
        default=False,
        help_text="Prices on this channel are entered gross (tax included), as consumer "
        "prices are in Norway and the EU; otherwise net, with tax added.",
    )
    capture_payment_on = models.CharField(
        max_length=12,
        choices=CaptureMoment.choices,
        default=CaptureMoment.PLACEMENT,
        help_text="When an authorized payment is captured.",
    )
    collected_by_marketplace = models.BooleanField(
        default=False,
        help_text="The marketplace charges the buyer and pays out: the OMS records the "
        "payment as collected and never captures or refunds through a gateway.",
    )
    issue_invoice_on = models.CharField(
        max_length=12,
        choices=InvoiceMoment.choices,
        default=InvoiceMoment.SHIPMENT,
        help_text="When the order's invoice is issued.",
    )
    return_window_days = models.PositiveIntegerField(
        default=30, help_text="Days after delivery in which customers may ask for a return."
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Customer(models.Model):
    """A buyer. Placing an order finds the customer by e-mail (preferring one from the
    order's channel); an integration may keep its own customer per channel, and the
    dashboard merges two customers with the same e-mail into one (``merged_into``)."""

    email = models.EmailField(_("e-mail"))
    name = models.CharField(_("name"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    channel = models.ForeignKey(
        SalesChannel,
        verbose_name=_("channel"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="customers",
        help_text=_("Where the customer first came from."),
    )
    blocked = models.BooleanField(
        _("blocked"), default=False, help_text=_("Orders from blocked customers are held.")
    )
    notes = models.TextField(_("notes"), blank=True)
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_customers",
        help_text=_("The customer this one was merged into: its orders are there now."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(fields=["email", "channel"], name="customer_email_per_channel"),
            models.UniqueConstraint(
                fields=["email"],
                condition=Q(channel__isnull=True),
                name="customer_email_unique_without_channel",
            ),
        ]

    def __str__(self):
        return self.name or self.email


class OrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING = "pending", _("Pending")
    ON_HOLD = "on_hold", _("On hold")
    BACKORDERED = "backordered", _("Backordered")
    ALLOCATED = "allocated", _("Allocated")
    PARTIALLY_SHIPPED = "partially_shipped", _("Partially shipped")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    PARTIALLY_RETURNED = "partially_returned", _("Partially returned")
    RETURNED = "returned", _("Returned")
    CANCELLED = "cancelled", _("Cancelled")


class PaymentStatus(models.TextChoices):
    UNPAID = "unpaid", _("Unpaid")
    AUTHORIZED = "authorized", _("Authorized")
    VOIDED = "voided", _("Authorization voided")
    PARTIALLY_PAID = "partially_paid", _("Partially paid")
    PAID = "paid", _("Paid")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
    REFUNDED = "refunded", _("Refunded")


S = OrderStatus

# SQLite computes decimal arithmetic in floating point (19.90 * 6 = 119.3999...), so the
# "adds up" checks allow half of the smallest stored unit either way; PostgreSQL is exact.
_ROUNDING_SLACK = Decimal("0.0005")


def _may(capability):
    """A django-fsm transition permission: the user's role must allow ``capability``."""

    def check(instance, user) -> bool:
        return user_can(user, capability)

    return check


def _lines_in_hand(order):
    """The order's lines when a service holds them (``prefetch_related`` or just written)."""
    return getattr(order, "_prefetched_objects_cache", {}).get("lines")


def _nothing_left_to_allocate(order) -> bool:
    """Condition of mark_allocated: every unit is allocated, shipped or cancelled."""
    if order.pk is None:
        return True
    lines = _lines_in_hand(order)
    if lines is not None:
        return all(
            line.quantity
            <= line.quantity_allocated + line.quantity_shipped + line.quantity_cancelled
            for line in lines
        )
    return not order.lines.filter(
        quantity__gt=F("quantity_allocated") + F("quantity_shipped") + F("quantity_cancelled")
    ).exists()


def _nothing_left_to_ship(order) -> bool:
    """Condition of mark_shipped: no unit waits to be shipped."""
    if order.pk is None:
        return True
    return not order.lines.filter(
        quantity__gt=F("quantity_shipped") + F("quantity_cancelled")
    ).exists()


def _fulfilled_here(order) -> bool:
    """Condition of allocation: the channel does not ship this order from its own stock."""
    return not order.fulfilled_by_channel


def adds_up(field: str, expression) -> Q:
    return Q(**{f"{field}__gte": expression - _ROUNDING_SLACK}) & Q(
        **{f"{field}__lte": expression + _ROUNDING_SLACK}
    )


CANCELLABLE = [S.DRAFT, S.PENDING, S.ON_HOLD, S.BACKORDERED, S.ALLOCATED]


class Order(FSMModelMixin, models.Model):
    # Every index here is paid for by each insert and each status change, so a column has
    # one index for the ways it is searched: unique values are constraints (no LIKE
    # index beside them: number and token are looked up exactly), and status, channel and
    # country are served by the composite indexes in Meta.
    number = models.CharField(max_length=20, null=True, blank=True)
    channel = models.ForeignKey(
        SalesChannel, on_delete=models.PROTECT, related_name="orders", db_index=False
    )
    external_id = models.CharField(
        max_length=100, null=True, blank=True, help_text="The order's id in its sales channel."
    )
    status = FSMField(default=S.DRAFT, choices=S.choices, protected=True)
    payment_status = FSMField(
        default=PaymentStatus.UNPAID, choices=PaymentStatus.choices, protected=True
    )
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    email = models.EmailField(blank=True)
    # What the order was given, kept as it was: the Customer record may say otherwise later.
    customer_name = models.CharField(max_length=200, blank=True)
    customer_phone = models.CharField(max_length=40, blank=True)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    subtotal = models.DecimalField(max_digits=14, decimal_places=3, default=0)
    discount_total = models.DecimalField(max_digits=14, decimal_places=3, default=0)
    tax_total = models.DecimalField(max_digits=14, decimal_places=3, default=0)
    shipping_total = models.DecimalField(max_digits=14, decimal_places=3, default=0)
    grand_total = models.DecimalField(max_digits=14, decimal_places=3, default=0)
    prices_include_tax = models.BooleanField(
        default=False,
        help_text="Unit prices, discounts and shipping include tax (gross); the tax "
        "amounts are the part of them that is tax.",
    )
    shipping_tax_amount = models.DecimalField(max_digits=14, decimal_places=3, default=0)
    shipping_tax_rate = models.DecimalField(max_digits=6, decimal_places=3, default=0)
    shipping_tax_name = models.CharField(max_length=40, blank=True)
    base_currency = models.CharField(
        max_length=3, blank=True, help_text="The shop's base currency when the order was placed."
    )
    base_grand_total = models.DecimalField(
        max_digits=16,
        decimal_places=3,
        null=True,
        blank=True,
        help_text="The total in the base currency (empty when no rate was known).",
    )
    base_exchange_rate = models.DecimalField(max_digits=18, decimal_places=8, null=True, blank=True)
    base_rate_date = models.DateField(null=True, blank=True)
    shipping_address = JSONField(default=dict)
    billing_address = JSONField(default=dict, blank=True)
    ship_to_country = models.CharField(max_length=2, blank=True)
    ship_to_latitude = models.FloatField(null=True, blank=True)
    ship_to_longitude = models.FloatField(null=True, blank=True)
    shipping_method = models.CharField(max_length=100, blank=True)
    fulfilled_by_channel = models.BooleanField(
        default=False,
        help_text="The sales channel ships this order from its own stock (e.g. Amazon FBA): "
        "it is kept for history and never allocated or picked here.",
    )
    tags = JSONField(default=list, blank=True)
    hold_reason = models.CharField(max_length=300, blank=True)
    notes = models.TextField(blank=True)
    tracking_token = models.CharField(max_length=43, editable=False)
    routing_decision = JSONField(default=dict, blank=True)
    picking_started_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When a picker started on a pick list holding this order (set by the "
        "warehouse work through orders.services.editing); the order can't be edited after.",
    )
    placed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["number"], name="order_number_unique"),
            models.UniqueConstraint(fields=["tracking_token"], name="order_tracking_token_unique"),
            # External id first: it is also the index for looking an order up by its
            # external id (search, imports), and a batch's lookup by external ids can't be
            # planned through the channel alone (a new channel, not yet in the statistics,
            # looks like it has one order).
            models.UniqueConstraint(
                fields=["external_id", "channel"],
                condition=Q(external_id__isnull=False),
                name="order_external_id_unique_per_channel",
            ),
            # Totals can't disagree with each other; the service makes them agree with lines.
            # Net prices: tax is added; gross prices: tax is already inside the amounts.
            models.CheckConstraint(
                condition=(
                    Q(prices_include_tax=False)
                    & adds_up(
                        "grand_total",
                        F("subtotal") - F("discount_total") + F("tax_total") + F("shipping_total"),
                    )
                )
                | (
                    Q(prices_include_tax=True)
                    & adds_up(
                        "grand_total", F("subtotal") - F("discount_total") + F("shipping_total")
                    )
                ),
                name="order_totals_add_up",
            ),
            models.CheckConstraint(
                condition=Q(grand_total__gte=0), name="order_total_not_negative"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-id"]),
            models.Index(fields=["channel", "-id"]),
            # The dashboard's search and sorts at millions of orders (see orders.selectors):
            # e-mail (exact, prefix and sort), external id alone, totals, and late orders.
            models.Index(
                fields=["email", "id"], name="order_email_id", opclasses=["varchar_pattern_ops", ""]
            ),
            models.Index(fields=["grand_total", "id"], name="order_total_id"),
            models.Index(fields=["ship_to_country", "id"], name="order_country_id"),
            models.Index(
                fields=["placed_at"],
                name="order_waiting_to_ship",
                condition=Q(status__in=["allocated", "partially_shipped"]),
            ),
        ]

    def __str__(self):
        return self.number or f"draft #{self.pk}"

    def save(self, *args, **kwargs):
        if not self.tracking_token:
            self.tracking_token = secrets.token_urlsafe(32)
        super().save(*args, **kwargs)

    # --- transitions: whether; the services do the work ---

    @transition(
        field=status, source=S.DRAFT, target=S.PENDING, permission=_may(Capability.ORDER_MANAGE)
    )
    def submit(self):
        """A draft is placed."""

    @transition(
        field=status,
        source=[S.PENDING, S.BACKORDERED, S.ALLOCATED],
        target=S.ON_HOLD,
        permission=_may(Capability.ORDER_MANAGE),
    )
    def hold(self, reason: str):
        self.hold_reason = reason

    @transition(
        field=status, source=S.ON_HOLD, target=S.PENDING, permission=_may(Capability.ORDER_MANAGE)
    )
    def release(self):
        self.hold_reason = ""

    @transition(
        field=status,
        source=[S.PENDING, S.BACKORDERED],
        target=S.ALLOCATED,
        conditions=[_fulfilled_here, _nothing_left_to_allocate],
    )
    def mark_allocated(self):
        """Every unit is allocated (or drop-shipped)."""

    @transition(
        field=status,
        source=[S.PENDING, S.BACKORDERED],
        target=S.BACKORDERED,
        conditions=[_fulfilled_here],
    )
    def mark_backordered(self):
        """Some units wait for stock."""

    @transition(
        field=status,
        source=[S.ALLOCATED, S.BACKORDERED],
        target=S.PENDING,
        permission=_may(Capability.ORDER_ROUTE),
    )
    def unroute(self):
        """Allocations are given back so the order can be routed again."""

    @transition(
        field=status,
        source=[S.ALLOCATED, S.PARTIALLY_SHIPPED],
        target=S.PARTIALLY_SHIPPED,
        permission=_may(Capability.ORDER_SHIP),
    )
    def mark_partially_shipped(self):
        """Some units left the warehouse; others are still to ship. (django-fsm sets the state.)"""

    @transition(
        field=status,
        source=[S.ALLOCATED, S.PARTIALLY_SHIPPED],
        target=S.SHIPPED,
        permission=_may(Capability.ORDER_SHIP),
        conditions=[_nothing_left_to_ship],
    )
    def mark_shipped(self):
        """Every unit has shipped (or was cancelled). (django-fsm sets the state.)"""

    @transition(
        field=status,
        source=[S.PENDING, S.ON_HOLD],
        target=S.SHIPPED,
        conditions=[_nothing_left_to_ship],
    )
    def mark_fulfilled_elsewhere(self):
        """Every unit shipped outside this system (the marketplace's own fulfilment, such as
        Amazon FBA, or before the order was imported): no stock of ours moved."""
        self.hold_reason = ""

    @transition(
        field=status, source=S.SHIPPED, target=S.DELIVERED, permission=_may(Capability.ORDER_SHIP)
    )
    def mark_delivered(self):
        """The carrier delivered the order. (django-fsm sets the state.)"""

    @transition(
        field=status, source=[S.DELIVERED, S.PARTIALLY_RETURNED], target=S.PARTIALLY_RETURNED
    )
    def mark_partially_returned(self):
        """Some delivered units came back. (django-fsm sets the state.)"""

    @transition(field=status, source=[S.DELIVERED, S.PARTIALLY_RETURNED], target=S.RETURNED)
    def mark_returned(self):
        """Every delivered unit came back. (django-fsm sets the state.)"""

    @transition(
        field=status,
        source=CANCELLABLE,
        target=S.CANCELLED,
        permission=_may(Capability.ORDER_MANAGE),
    )
    def cancel(self, reason: str = ""):
        """The reason goes into the event trail; a pending hold reason no longer applies."""
        self.hold_reason = ""

    # --- payment status: follows the payment ledger (orders.payments.services) ---

    P = PaymentStatus

    @transition(field=payment_status, source=[P.UNPAID, P.VOIDED], target=P.AUTHORIZED)
    def payment_authorized(self):
        """The payment provider holds the money. (django-fsm sets the state.)"""

    @transition(field=payment_status, source=[P.UNPAID, P.AUTHORIZED], target=P.VOIDED)
    def payment_voided(self):
        """The authorization was given back without a capture. (django-fsm sets the state.)"""

    @transition(
        field=payment_status,
        source=[P.UNPAID, P.AUTHORIZED, P.VOIDED, P.PARTIALLY_PAID, P.PAID],
        target=P.PARTIALLY_PAID,
    )
    def payment_partially_captured(self):
        """Part of the total was captured (or the total grew after an edit)."""

    @transition(
        field=payment_status,
        source=[P.UNPAID, P.AUTHORIZED, P.VOIDED, P.PARTIALLY_PAID, P.PAID],
        target=P.PAID,
    )
    def payment_captured(self):
        """The whole total was captured. (django-fsm sets the state.)"""

    @transition(
        field=payment_status,
        source=[P.PAID, P.PARTIALLY_PAID, P.PARTIALLY_REFUNDED, P.REFUNDED],
        target=P.PARTIALLY_REFUNDED,
    )
    def payment_partially_refunded(self):
        """Part of the captured money was refunded. (django-fsm sets the state.)"""

    @transition(
        field=payment_status,
        source=[P.PAID, P.PARTIALLY_PAID, P.PARTIALLY_REFUNDED],
        target=P.REFUNDED,
    )
    def payment_refunded(self):
        """Everything captured was refunded. (django-fsm sets the state.)"""


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    # Found by SKU through the line_sku_order index (SKU first).
    sku = models.ForeignKey(
        SKU, on_delete=models.PROTECT, related_name="order_lines", db_index=False
    )
    sku_code = models.CharField(max_length=64, help_text="The SKU code when the order was placed.")
    name = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=14, decimal_places=3)
    discount_amount = models.DecimalField(max_digits=14, decimal_places=3, default=0)
    tax_amount = models.DecimalField(max_digits=14, decimal_places=3, default=0)
    tax_rate = models.DecimalField(
        max_digits=6, decimal_places=3, default=0, help_text="Percent, e.g. 25.000."
    )
    tax_name = models.CharField(max_length=40, blank=True, help_text="e.g. MVA, VAT, USt.")
    prices_include_tax = models.BooleanField(default=False)
    line_total = models.DecimalField(
        max_digits=14, decimal_places=3, help_text="What the customer pays for the line."
    )
    quantity_allocated = models.PositiveIntegerField(default=0)
    quantity_shipped = models.PositiveIntegerField(default=0)
    quantity_returned = models.PositiveIntegerField(default=0)
    quantity_cancelled = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        # Orders with a SKU, newest first (the dashboard's search by SKU).
        indexes = [models.Index(fields=["sku", "-order"], name="line_sku_order")]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="line_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="line_price_not_negative"),
            models.CheckConstraint(
                condition=Q(quantity_allocated__lte=F("quantity")),
                name="line_allocated_within_quantity",
            ),
            models.CheckConstraint(
                condition=(
                    Q(prices_include_tax=False)
                    & adds_up(
                        "line_total",
                        F("unit_price") * F("quantity") - F("discount_amount") + F("tax_amount"),
                    )
                )
                | (
                    Q(prices_include_tax=True)
                    & adds_up("line_total", F("unit_price") * F("quantity") - F("discount_amount"))
                ),
                name="line_total_adds_up",
            ),
        ]

    def __str__(self):
        return f"{self.quantity} x {self.sku_code}"

    @property
    def quantity_open(self) -> int:
        """Units still to be allocated (neither allocated, shipped nor cancelled)."""
        return (
            self.quantity
            - self.quantity_allocated
            - self.quantity_shipped
            - self.quantity_cancelled
        )


class Allocation(models.Model):
    """Units of a line promised from a warehouse (or drop-shipped by a supplier)."""

    line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="allocations")
    warehouse = models.ForeignKey(
        Warehouse, null=True, blank=True, on_delete=models.PROTECT, related_name="allocations"
    )
    # Indexed only where set: most allocations are a warehouse's.
    supplier = models.ForeignKey(
        Supplier,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="dropships",
        db_index=False,
    )
    quantity = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["supplier"],
                condition=Q(supplier__isnull=False),
                name="allocation_dropship_supplier",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="allocation_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(warehouse__isnull=False, supplier__isnull=True)
                | Q(warehouse__isnull=True, supplier__isnull=False),
                name="allocation_one_source",
            ),
        ]

    def __str__(self):
        return f"{self.quantity} of line {self.line_id}"


class OrderEvent(models.Model):
    """The audit trail: who did what to an order, when, from which state to which."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        STATUS_CHANGED = "status_changed", _("Status changed")
        ROUTED = "routed", _("Routed")
        NOTE = "note", _("Note")
        PAYMENT = "payment", _("Payment")
        EDITED = "edited", _("Edited")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    message = models.CharField(max_length=500, blank=True)
    details = JSONField(default=dict, blank=True)
    actor_kind = models.CharField(max_length=10)
    actor_label = models.CharField(max_length=150)
    # Indexed only where set (a user deleted clears it): the system writes most events.
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_index=False,
    )
    # Not indexed: a trail is read by its order, in id order; nothing looks events up by
    # time, and an order writes five or six of them.
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["actor_user"],
                condition=Q(actor_user__isnull=False),
                name="order_event_actor_user",
            )
        ]

    def __str__(self):
        return f"{self.kind} on order {self.order_id}"


class HoldRule(models.Model):
    """Pre-fulfillment checks: a matching order is put on hold for a person to release."""

    class Kind(models.TextChoices):
        HIGH_VALUE = "high_value", _("Order total above a threshold")
        ADDRESS_MISMATCH = "address_mismatch", _("Billing and shipping countries differ")
        BLOCKED_CUSTOMER = "blocked_customer", _("Customer is blocked")
        FIRST_ORDER_HIGH_VALUE = "first_order_high_value", _("First order above a threshold")

    kind = models.CharField(max_length=30, choices=Kind.choices, unique=True)
    enabled = models.BooleanField(default=True)
    threshold = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="For value rules: the amount, in the base currency.",
    )

    def __str__(self):
        return self.get_kind_display()


class TaxRate(models.Model):
    """A tax rate for one country and product tax class, valid from a date on.

    The rules are data: a new rate (a change of law) is a new row with its own
    ``valid_from``; orders use the latest row valid on the day they are placed.
    """

    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2, e.g. NO.")
    tax_class = models.ForeignKey(TaxClass, on_delete=models.PROTECT, related_name="rates")
    rate = models.DecimalField(
        max_digits=6, decimal_places=3, help_text="Percent, e.g. 25 for 25 %."
    )
    name = models.CharField(max_length=40, help_text="The tax's name on documents: MVA, VAT, USt.")
    valid_from = models.DateField()

    class Meta:
        ordering = ["country", "tax_class__code", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["country", "tax_class", "valid_from"], name="tax_rate_unique_per_day"
            ),
            models.CheckConstraint(
                condition=Q(rate__gte=0) & Q(rate__lt=100), name="tax_rate_within_0_100"
            ),
        ]

    def __str__(self):
        rate = f"{self.name} {self.rate} %"
        return f"{self.country} {self.tax_class.code}: {rate} from {self.valid_from}"


class OrderStatusCount(models.Model):
    """Orders per status, folded from ``OrderStatusDelta`` rows (``orders.status_counts``).

    The count of a status is its row here plus the sum of its delta rows not yet folded in.
    Database triggers on ``orders_order`` write the deltas in the order's own transaction,
    whatever wrote the order (services, bulk loaders, raw SQL). Only the compaction writes
    these rows, so no order placement ever waits on another for a counter row.
    """

    status = models.CharField(max_length=20, unique=True)
    count = models.BigIntegerField(default=0)

    def __str__(self):
        return f"{self.status}: {self.count}"


class OrderStatusDelta(models.Model):
    """+1/-1 for a status, written by a trigger when an order is inserted, changes status
    or is deleted; appended only, so concurrent orders never contend for a row."""

    status = models.CharField(max_length=20)
    delta = models.IntegerField()

    def __str__(self):
        return f"{self.status} {self.delta:+d}"


# The dashboard's data (sales rollup, saved views, bulk jobs) lives in its own module.
from .dashboard_models import BulkJob, BulkJobItem, HourlySales, SavedView  # noqa: E402, F401

# Payments, refunds and invoices are models of this app kept in their own modules.
from .invoicing.models import (  # noqa: E402, F401
    DocumentKind,
    DocumentSequence,
    Invoice,
    InvoiceLine,
    InvoiceSettings,
    InvoiceTaxLine,
)
from .payments.models import (  # noqa: E402, F401
    Payment,
    PaymentMethod,
    ProviderCallback,
    Refund,
    RefundLine,
    RefundStatus,
    Transaction,
    TransactionKind,
    TransactionStatus,
)
