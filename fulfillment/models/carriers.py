"""Carriers the merchant ships with, their services, and the boxes parcels go in."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class CarrierAccount(models.Model):
    """The merchant's account with a carrier; ``kind`` picks the adapter that talks to it."""

    class Kind(models.TextChoices):
        MANUAL = "manual", _("Own courier / manual")
        BRING = "bring", _("Bring (Posten Norge)")

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.MANUAL)
    active = models.BooleanField(default=True)
    api_base_url = models.URLField(
        blank=True, help_text=_("The carrier API's base address (empty: the carrier's default).")
    )
    tracking_url_template = models.CharField(
        max_length=300,
        blank=True,
        help_text=_("Public tracking link with {tracking_number}, shown to customers."),
    )
    credentials = models.JSONField(
        default=dict,
        blank=True,
        help_text=_("API user id, key and customer number, as the carrier names them."),
    )
    webhook_secret = models.CharField(
        max_length=100,
        blank=True,
        help_text=_("Shared secret that signs the carrier's tracking webhooks to us."),
    )
    test_mode = models.BooleanField(
        default=False, help_text=_("Book as tests (the carrier makes no real consignment).")
    )
    poll_tracking = models.BooleanField(
        default=True, help_text=_("Ask the carrier for news on open shipments periodically.")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def tracking_url(self, tracking_number: str) -> str:
        if not (self.tracking_url_template and tracking_number):
            return ""
        return self.tracking_url_template.replace("{tracking_number}", tracking_number)


class CarrierService(models.Model):
    """A product of a carrier (Bring "5800" Pakke til hentested), and the order shipping
    methods it serves (so waves can be cut by carrier)."""

    carrier = models.ForeignKey(CarrierAccount, on_delete=models.CASCADE, related_name="services")
    code = models.CharField(max_length=40, help_text=_("The carrier's product id."))
    name = models.CharField(max_length=100)
    shipping_methods = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Order shipping methods this service serves, e.g. 'DHL Paket'."),
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["carrier__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["carrier", "code"], name="carrier_service_unique")
        ]

    def __str__(self):
        return f"{self.carrier.name} {self.name}"


class PackageType(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    length_mm = models.PositiveIntegerField(default=0)
    width_mm = models.PositiveIntegerField(default=0)
    height_mm = models.PositiveIntegerField(default=0)
    tare_weight_grams = models.PositiveIntegerField(
        default=0, help_text=_("Weight of the empty box or bag.")
    )
    max_weight_grams = models.PositiveIntegerField(default=0, help_text=_("0: no limit."))
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_weight_grams=0)
                | Q(max_weight_grams__gt=models.F("tare_weight_grams")),
                name="package_type_max_above_tare",
            )
        ]

    def __str__(self):
        return self.name
