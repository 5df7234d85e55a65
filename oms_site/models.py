"""Cross-cutting data: staff roles, API keys, idempotency records, webhooks and outbox."""

from django.conf import settings
from django.db import models
from rest_framework_api_key.models import AbstractAPIKey

from .json_field import JSONField
from .roles import Role


class StaffProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.READONLY)
    language = models.CharField(
        max_length=8,
        blank=True,
        choices=settings.LANGUAGES,
        help_text="The dashboard's language for this user; empty: the browser's.",
    )

    def __str__(self):
        return f"{self.user} ({self.get_role_display()})"


class ApiScope(models.TextChoices):
    ORDERS_READ = "orders:read", "Read orders"
    ORDERS_WRITE = "orders:write", "Create and change orders"
    STOCK_READ = "stock:read", "Read stock"
    STOCK_WRITE = "stock:write", "Receive and adjust stock"
    RESERVATIONS_WRITE = "reservations:write", "Hold stock for carts"
    CATALOG_WRITE = "catalog:write", "Create, change and deactivate products and SKUs"
    WEBHOOKS_MANAGE = "webhooks:manage", "Manage webhook subscriptions and redeliver"
    FULFILLMENT_READ = "fulfillment:read", "Read shipments and pick lists"
    FULFILLMENT_WRITE = "fulfillment:write", "Create shipments for outside fulfilment"
    PAYMENTS_WRITE = "payments:write", "Record, capture and void payments; refund"
    RETURNS_WRITE = "returns:write", "Create and work on returns"
    INVOICES_WRITE = "invoices:write", "Issue invoices and credit notes"


class ApiKey(AbstractAPIKey):
    """A key per integration. Only its SHA-512 hash is stored; the key is shown once."""

    scopes = models.JSONField(
        default=list, blank=True, help_text="Actions this key may take, e.g. orders:write."
    )
    channel_codes = models.JSONField(
        default=list,
        blank=True,
        help_text="Sales channel codes this key may act on; empty means every channel.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "API key"
        verbose_name_plural = "API keys"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def allows_channel(self, channel_code: str) -> bool:
        return not self.channel_codes or channel_code in self.channel_codes


class IdempotencyRecord(models.Model):
    """The first response to a create request, replayed for retries with the same key.

    The row is inserted in the same transaction as the work, so a concurrent retry with
    the same key waits on the unique index and then replays the committed response.
    """

    owner = models.CharField(max_length=200, help_text="API key id or user id.")
    key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(default=0)
    response_body = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="idempotency_owner_key_unique")
        ]

    def __str__(self):
        return f"{self.owner}:{self.key}"


class WebhookSubscription(models.Model):
    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=100, help_text="Shared secret for the HMAC signature.")
    event_types = models.JSONField(
        default=list, help_text="Event types to send, e.g. order.created; empty means all."
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.name

    def wants(self, event_type: str) -> bool:
        return self.active and (not self.event_types or event_type in self.event_types)


class OutboxEvent(models.Model):
    """An event, written in the same transaction as the change it describes.

    ``subject`` names what the event is about (``order:SO-0000042``,
    ``stock:SKU-1@ber``); ``sequence`` counts that subject's events from 1, so a receiver
    can put deliveries (which arrive at least once and in any order) back in order.
    """

    event_type = models.CharField(max_length=60)
    payload = JSONField()
    subject = models.CharField(max_length=200, blank=True)
    sequence = models.PositiveBigIntegerField(default=0)
    # Nothing but the primary key is indexed: deliveries are found through their own
    # rows, never events by time, type or subject, and every order writes two or three
    # events (an index less is a write less on the hottest paths).
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.event_type} #{self.pk}"


class OutboxSequence(models.Model):
    """The last sequence number given to a subject's events (one row per subject)."""

    subject = models.CharField(max_length=200)
    last_value = models.PositiveBigIntegerField(default=0)

    class Meta:
        # A constraint rather than unique=True: ON CONFLICT (subject) needs only this index.
        constraints = [
            models.UniqueConstraint(fields=["subject"], name="outbox_sequence_subject_unique")
        ]

    def __str__(self):
        return f"{self.subject}: {self.last_value}"


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        RETRYING = "retrying", "Retrying"
        FAILED = "failed", "Failed"

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempt_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        # The home page counts failed deliveries without reading the whole history.
        indexes = [
            models.Index(fields=["id"], condition=models.Q(status="failed"), name="webhook_failed")
        ]

    def __str__(self):
        return f"delivery #{self.pk} ({self.status})"


class WebhookAttempt(models.Model):
    """One HTTP attempt of a delivery: kept for every try, successful or not."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    attempted_at = models.DateTimeField(auto_now_add=True)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"attempt #{self.pk} ({self.status_code or self.error})"


class ExchangeRate(models.Model):
    """How many units of the base currency one unit of ``currency`` bought on a date."""

    currency = models.CharField(max_length=3)
    rate = models.DecimalField(max_digits=18, decimal_places=8)
    valid_on = models.DateField()

    class Meta:
        ordering = ["currency", "-valid_on"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "valid_on"], name="rate_unique_per_day")
        ]

    def __str__(self):
        return f"{self.currency} {self.rate} on {self.valid_on}"


class CacheVersion(models.Model):
    """The current token of each per-process cache (``oms_site.process_cache``).

    A save of a cached model writes a new random token here in the same transaction;
    processes compare tokens to know when their copy is stale.
    """

    name = models.CharField(max_length=60, unique=True)
    version = models.BigIntegerField(default=0)

    def __str__(self):
        return f"{self.name} @ {self.version}"
