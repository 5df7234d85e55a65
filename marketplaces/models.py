"""Marketplace connections and what their sync leaves behind.

A ``MarketplaceConnection`` ties an orders ``SalesChannel`` of kind amazon, ebay, shopify
or aliexpress to the marketplace's API: encrypted credentials, the sync cursor and lease,
the rate limit. Every sync is a ``SyncRun`` (with its fetched ``SyncPage``s and the
records that failed, ``SyncFailure``, kept for replay); every imported order has a
``MarketplaceOrder`` link with the marketplace's ids. Outgoing work is logged too:
``ShipmentPush`` per confirmed package, ``StockPushBatch`` per stock push.

This app imports orders and inventory; neither imports it.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from inventory.models import SKU, Warehouse
from oms_site.encryption import EncryptedJSONField
from oms_site.json_field import JSONField, JSONTextField
from orders.models import Order, SalesChannel

MARKETPLACE_KINDS = (
    SalesChannel.Kind.AMAZON,
    SalesChannel.Kind.EBAY,
    SalesChannel.Kind.SHOPIFY,
    SalesChannel.Kind.ALIEXPRESS,
)


class MarketplaceConnection(models.Model):
    channel = models.OneToOneField(
        SalesChannel, on_delete=models.PROTECT, related_name="marketplace"
    )
    api_base_url = models.URLField(
        _("API base URL"), max_length=300, help_text=_("Where the marketplace's API answers.")
    )
    auth_base_url = models.URLField(
        _("token endpoint base URL"),
        max_length=300,
        blank=True,
        help_text=_("Where access tokens are refreshed, if not at the API's address."),
    )
    credentials = EncryptedJSONField(blank=True, editable=False)
    # Short-lived access tokens, shared by every worker (encrypted like the credentials).
    token_cache = EncryptedJSONField(blank=True, editable=False)
    credentials_rotated_at = models.DateTimeField(null=True, blank=True)
    options = models.JSONField(
        default=dict,
        blank=True,
        help_text=_("Non-secret settings: marketplace and seller ids, location, product type."),
    )
    sync_enabled = models.BooleanField(_("sync orders"), default=True)
    sync_interval_seconds = models.PositiveIntegerField(default=300)
    overlap_seconds = models.PositiveIntegerField(
        default=300, help_text=_("Each run re-reads this much before the cursor (late indexing).")
    )
    initial_lookback_days = models.PositiveIntegerField(default=30)
    page_size = models.PositiveIntegerField(default=100)
    stock_push_enabled = models.BooleanField(_("push stock"), default=True)
    stock_warehouses = models.ManyToManyField(
        Warehouse,
        blank=True,
        help_text=_("Warehouses whose sellable stock is offered here; none means all active."),
    )
    rate_per_second = models.FloatField(default=1.0)
    rate_burst = models.PositiveIntegerField(default=20)
    lease_seconds = models.PositiveIntegerField(
        default=300, help_text=_("A run that stops renewing its lock this long is abandoned.")
    )
    # The cursor: the marketplace's last-updated time up to which every order is committed.
    cursor = models.DateTimeField(null=True, blank=True)
    next_sync_at = models.DateTimeField(null=True, blank=True, db_index=True)
    lock_token = models.CharField(max_length=40, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    webhook_secret_hint = models.CharField(max_length=12, blank=True, editable=False)

    class Meta:
        ordering = ["channel__name"]

    def __str__(self):
        return f"{self.channel.name} ({self.channel.get_kind_display()})"

    @property
    def kind(self) -> str:
        return self.channel.kind


class RateBucket(models.Model):
    """A token bucket per connection and operation, shared by every worker."""

    connection = models.ForeignKey(
        MarketplaceConnection, on_delete=models.CASCADE, related_name="rate_buckets"
    )
    operation = models.CharField(max_length=60)
    tokens = models.FloatField()
    refreshed_at = models.DateTimeField()
    blocked_until = models.DateTimeField(null=True, blank=True)
    throttled_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "operation"], name="rate_bucket_unique")
        ]

    def __str__(self):
        return f"{self.operation}: {self.tokens:.1f} tokens"


class MarketplaceListing(models.Model):
    """A SKU of ours offered on a marketplace: where its stock is pushed."""

    connection = models.ForeignKey(
        MarketplaceConnection, on_delete=models.CASCADE, related_name="listings"
    )
    sku = models.ForeignKey(SKU, on_delete=models.CASCADE, related_name="marketplace_listings")
    seller_sku = models.CharField(max_length=100, help_text=_("The SKU on the marketplace."))
    external_ref = models.JSONField(
        default=dict, blank=True, help_text=_("Marketplace ids, e.g. Shopify's inventory item.")
    )
    active = models.BooleanField(default=True)
    pushed_quantity = models.IntegerField(null=True, blank=True)
    pushed_at = models.DateTimeField(null=True, blank=True)
    push_error = models.CharField(max_length=500, blank=True)
    push_attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["connection", "seller_sku"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "sku"], name="listing_sku_unique"),
            models.UniqueConstraint(
                fields=["connection", "seller_sku"], name="listing_seller_sku_unique"
            ),
        ]

    def __str__(self):
        return f"{self.seller_sku} on {self.connection.channel.code}"


class MarketplaceOrder(models.Model):
    """An imported order's marketplace side: its ids, status and last version seen."""

    class Fulfilment(models.TextChoices):
        MERCHANT = "merchant", _("Merchant (we ship)")
        MARKETPLACE = "marketplace", _("Marketplace (e.g. Amazon FBA)")

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="marketplace_link")
    # No index of its own (see the unique constraint below).
    connection = models.ForeignKey(
        MarketplaceConnection, on_delete=models.PROTECT, related_name="orders", db_index=False
    )
    external_id = models.CharField(max_length=100)
    marketplace_status = models.CharField(max_length=40)
    fulfilment = models.CharField(
        max_length=12, choices=Fulfilment.choices, default=Fulfilment.MERCHANT
    )
    remote_updated_at = models.DateTimeField(null=True, blank=True)
    content_hash = models.CharField(max_length=64)
    # Our order line id (as a string) -> the marketplace's line id (shipment confirmations).
    line_refs = JSONField(default=dict)
    marketplace_totals = JSONField(default=dict, blank=True)
    # Read back whole only (shipment confirmations, the order page): text, not jsonb.
    payload = JSONTextField(default=dict)
    imported_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # External id first, and no index led by the connection: a page's lookup (its
            # external ids on one connection) must descend by external id. Given an index
            # led by the connection, a new connection's first import (not yet in the
            # planner's statistics) read all its links for every page.
            models.UniqueConstraint(
                fields=["external_id", "connection"], name="marketplace_order_unique"
            )
        ]

    def __str__(self):
        return f"{self.external_id} ({self.connection.channel.code})"


class SyncRun(FSMModelMixin, models.Model):
    class Kind(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        MANUAL = "manual", _("Sync now")
        WEBHOOK = "webhook", _("Webhook")
        REPLAY = "replay", _("Replay")

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        ABANDONED = "abandoned", _("Abandoned (worker stopped)")

    connection = models.ForeignKey(
        MarketplaceConnection, on_delete=models.CASCADE, related_name="runs"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.SCHEDULED)
    status = FSMField(default=Status.RUNNING, choices=Status.choices, protected=True)
    triggered_by = models.CharField(max_length=150, blank=True)
    lock_token = models.CharField(max_length=40, blank=True)
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    cursor_before = models.DateTimeField(null=True, blank=True)
    cursor_after = models.DateTimeField(null=True, blank=True)
    max_remote_updated_at = models.DateTimeField(null=True, blank=True)
    fetch_complete = models.BooleanField(default=False)
    # An order showed up twice while paging (it changed meanwhile): offset and token
    # paging may then have skipped another one, so the cursor does not move this time.
    paging_unstable = models.BooleanField(default=False)
    pages = models.PositiveIntegerField(default=0)
    pages_done = models.PositiveIntegerField(default=0)
    fetched = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    throttled = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["connection", "-started_at"])]

    def __str__(self):
        return f"sync #{self.pk} of {self.connection.channel.code} ({self.status})"

    @transition(field=status, source=Status.RUNNING, target=Status.SUCCEEDED)
    def succeed(self):
        self.finished_at = timezone.now()

    @transition(field=status, source=Status.RUNNING, target=Status.FAILED)
    def fail(self, error: str):
        self.error = error[:4000]
        self.finished_at = timezone.now()

    @transition(field=status, source=Status.RUNNING, target=Status.ABANDONED)
    def abandon(self):
        self.error = (self.error + "\n" if self.error else "") + str(
            _("The worker stopped before finishing; the next run re-reads this window.")
        )
        self.finished_at = timezone.now()

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class SyncPage(models.Model):
    """One page of orders as the marketplace sent it, waiting for (or done by) a worker."""

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="fetched_pages")
    sequence = models.PositiveIntegerField()
    # JSON text, not jsonb: the page is only ever read back whole, and a hundred orders
    # (about 250 kB) cost PostgreSQL a parse on the way in and a rendering on the way out.
    records = JSONTextField(
        default=list, help_text="The page's records (a JSON array); emptied once imported."
    )
    done = models.BooleanField(default=False)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "sequence"]
        constraints = [models.UniqueConstraint(fields=["run", "sequence"], name="sync_page_unique")]

    def __str__(self):
        return f"page {self.sequence} of run {self.run_id}"


class SyncFailure(FSMModelMixin, models.Model):
    """A record that could not be imported, kept as received so it can be replayed."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved by replay")
        IGNORED = "ignored", _("Ignored")

    connection = models.ForeignKey(
        MarketplaceConnection, on_delete=models.CASCADE, related_name="failures"
    )
    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="failures")
    external_id = models.CharField(max_length=100, blank=True, db_index=True)
    payload = JSONField()
    error = models.TextField()
    status = FSMField(default=Status.OPEN, choices=Status.choices, protected=True)
    attempts = models.PositiveIntegerField(default=1)
    resolved_order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"failed record {self.external_id or '?'} ({self.status})"

    @transition(field=status, source=Status.OPEN, target=Status.RESOLVED)
    def resolve(self, order):
        self.resolved_order = order

    @transition(field=status, source=Status.OPEN, target=Status.IGNORED)
    def ignore(self):
        """A person decided this record needs no import."""


class ShipmentPush(FSMModelMixin, models.Model):
    """One shipment confirmation (carrier + tracking) sent to the marketplace, once."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Confirmed by the marketplace")
        RETRYING = "retrying", _("Retrying")
        FAILED = "failed", _("Failed")

    connection = models.ForeignKey(
        MarketplaceConnection, on_delete=models.CASCADE, related_name="shipment_pushes"
    )
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipment_pushes")
    reference = models.CharField(
        max_length=100, help_text=_("The shipment (or ship event) this confirms.")
    )
    carrier = models.CharField(max_length=100, blank=True)
    tracking_number = models.CharField(max_length=100, blank=True)
    lines = models.JSONField(default=list)
    status = FSMField(default=Status.PENDING, choices=Status.choices, protected=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_error = models.TextField(blank=True)
    response = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "reference"], name="shipment_push_once_per_reference"
            )
        ]

    def __str__(self):
        return f"shipment push {self.reference} ({self.status})"

    @transition(field=status, source=[Status.PENDING, Status.RETRYING], target=Status.SENT)
    def confirmed(self, response: dict):
        self.response = response
        self.sent_at = timezone.now()
        self.next_attempt_at = None
        self.last_error = ""

    @transition(field=status, source=[Status.PENDING, Status.RETRYING], target=Status.RETRYING)
    def retry_later(self, error: str, at):
        self.last_error = error[:4000]
        self.next_attempt_at = at

    @transition(field=status, source=[Status.PENDING, Status.RETRYING], target=Status.FAILED)
    def give_up(self, error: str):
        self.last_error = error[:4000]
        self.next_attempt_at = None

    @transition(field=status, source=Status.FAILED, target=Status.RETRYING)
    def requeue(self):
        """A person asked to try again (after fixing the cause)."""
        self.next_attempt_at = timezone.now()


class StockPushRequest(models.Model):
    """A SKU whose sellable stock changed and waits (debounced) to be pushed. Written in
    the transaction of the stock change, so a crash can't lose it."""

    sku = models.OneToOneField(SKU, on_delete=models.CASCADE, related_name="+")
    due_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"push SKU {self.sku_id} at {self.due_at}"


class StockPushBatch(models.Model):
    """One push of sellable quantities to one marketplace: what was sent and the answer."""

    connection = models.ForeignKey(
        MarketplaceConnection, on_delete=models.CASCADE, related_name="stock_batches"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    skus = models.PositiveIntegerField(default=0)
    succeeded = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    # seller sku -> {"quantity", "ok", "message"}
    results = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"stock push #{self.pk}: {self.succeeded}/{self.skus}"


class WebhookReceipt(models.Model):
    """A marketplace webhook delivery seen (deliveries repeat: dedupe on their id)."""

    connection = models.ForeignKey(
        MarketplaceConnection, on_delete=models.CASCADE, related_name="webhook_receipts"
    )
    delivery_id = models.CharField(max_length=100)
    topic = models.CharField(max_length=60)
    received_at = models.DateTimeField(auto_now_add=True)
    payload = models.JSONField(default=dict)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "delivery_id"], name="webhook_receipt_unique"
            )
        ]

    def __str__(self):
        return f"{self.topic} {self.delivery_id}"
