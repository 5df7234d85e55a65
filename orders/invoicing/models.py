"""Invoices and credit notes: immutable documents with gapless numbers.

Numbers run per series (``INV``, ``CN``) and year without gaps or duplicates: the
counter row of the series and year (``DocumentSequence``) is locked while a document is
issued, in the same database transaction that writes the document, so a rollback gives
the number back and concurrent issuers wait their turn. Once issued a document never
changes (the queryset and ``save`` refuse it); only its rendered PDF is attached once.
"""

import hashlib

from django.db import models
from django.db.models import Q

from oms_site.money import CURRENCY_CHOICES

from ..models import Order, adds_up


def _amount(**kwargs):
    return models.DecimalField(max_digits=14, decimal_places=3, **kwargs)


class InvoiceSettings(models.Model):
    """The seller as documents show it (one row)."""

    seller_name = models.CharField(max_length=200, default="")
    organisation_number = models.CharField(
        max_length=40, blank=True, help_text="e.g. Org.nr. 912 345 678 MVA (Norway)."
    )
    vat_number = models.CharField(max_length=40, blank=True, help_text="e.g. DE123456789.")
    address = models.TextField(blank=True, help_text="One line per line.")
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    bank_account = models.CharField(max_length=60, blank=True, help_text="IBAN or account no.")
    payment_terms_days = models.PositiveIntegerField(default=14)
    invoice_prefix = models.SlugField(max_length=10, default="INV")
    credit_note_prefix = models.SlugField(max_length=10, default="CN")
    footer = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "invoice settings"

    def __str__(self):
        return "Invoice settings"

    @classmethod
    def current(cls) -> "InvoiceSettings":
        obj = cls.objects.order_by("pk").first()
        if obj is None:
            obj = cls.objects.create()
        return obj

    def seller_snapshot(self) -> dict:
        return {
            "name": self.seller_name,
            "organisation_number": self.organisation_number,
            "vat_number": self.vat_number,
            "address": self.address,
            "email": self.email,
            "phone": self.phone,
            "bank_account": self.bank_account,
            "footer": self.footer,
        }


class DocumentKind(models.TextChoices):
    INVOICE = "invoice", "Invoice"
    CREDIT_NOTE = "credit_note", "Credit note"


class DocumentSequence(models.Model):
    """The last number issued in a series and year: locked to issue the next one."""

    series = models.CharField(max_length=10)
    year = models.PositiveIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["series", "year"], name="document_sequence_unique")
        ]

    def __str__(self):
        return f"{self.series}-{self.year}: {self.last_number}"


class InvoiceQuerySet(models.QuerySet):
    def update(self, **kwargs):
        if set(kwargs) - {"pdf", "pdf_sha256"}:
            raise TypeError("Issued documents are immutable.")
        return super().update(**kwargs)

    def delete(self):
        raise TypeError("Issued documents are immutable.")


class Invoice(models.Model):
    """An invoice or a credit note (which credits an invoice, for a refund)."""

    kind = models.CharField(max_length=12, choices=DocumentKind.choices)
    series = models.CharField(max_length=10)
    year = models.PositiveIntegerField()
    sequence = models.PositiveIntegerField()
    number = models.CharField(max_length=30, unique=True)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="invoices")
    credited_invoice = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_notes"
    )
    refund = models.OneToOneField(
        "orders.Refund",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_note",
    )
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    issue_date = models.DateField()
    due_date = models.DateField(null=True, blank=True)
    issued_at = models.DateTimeField(auto_now_add=True)
    seller = models.JSONField(default=dict)
    buyer = models.JSONField(default=dict)
    prices_include_tax = models.BooleanField(default=False)
    net_total = _amount()
    tax_total = _amount()
    total = _amount()
    base_currency = models.CharField(max_length=3, blank=True)
    base_total = models.DecimalField(max_digits=16, decimal_places=3, null=True, blank=True)
    exchange_rate = models.DecimalField(max_digits=18, decimal_places=8, null=True, blank=True)
    rate_date = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    pdf = models.BinaryField(null=True, blank=True, editable=False)
    pdf_sha256 = models.CharField(max_length=64, blank=True)

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["series", "year", "sequence"], name="invoice_number_unique_per_series"
            ),
            models.CheckConstraint(
                condition=Q(kind="invoice", credited_invoice__isnull=True)
                | Q(kind="credit_note", credited_invoice__isnull=False),
                name="credit_note_credits_an_invoice",
            ),
            models.CheckConstraint(
                condition=adds_up("total", models.F("net_total") + models.F("tax_total")),
                name="invoice_totals_add_up",
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="invoice_total_not_negative"),
        ]
        indexes = [models.Index(fields=["order", "kind"])]

    def __str__(self):
        return self.number

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("Issued documents are immutable.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Issued documents are immutable.")

    @property
    def is_credit_note(self) -> bool:
        return self.kind == DocumentKind.CREDIT_NOTE

    def attach_pdf(self, content: bytes) -> bool:
        """Store the rendered PDF once; a document's PDF never changes afterwards."""
        digest = hashlib.sha256(content).hexdigest()
        stored = Invoice.objects.filter(pk=self.pk, pdf__isnull=True).update(
            pdf=content, pdf_sha256=digest
        )
        if stored:
            self.pdf, self.pdf_sha256 = content, digest
        return bool(stored)


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveIntegerField()
    description = models.CharField(max_length=250)
    sku_code = models.CharField(max_length=64, blank=True)
    quantity = models.DecimalField(max_digits=12, decimal_places=3)
    unit_price = _amount(help_text="Net or gross as the document's prices are entered.")
    discount = _amount(default=0)
    net_amount = _amount()
    tax_rate = models.DecimalField(max_digits=6, decimal_places=3)
    tax_name = models.CharField(max_length=40, blank=True)
    tax_amount = _amount()
    total = _amount()

    class Meta:
        ordering = ["position"]

    def __str__(self):
        return f"{self.invoice.number} #{self.position}"


class InvoiceTaxLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="tax_lines")
    name = models.CharField(max_length=40, blank=True)
    rate = models.DecimalField(max_digits=6, decimal_places=3)
    net_amount = _amount()
    tax_amount = _amount()

    class Meta:
        ordering = ["-rate", "name"]

    def __str__(self):
        return f"{self.name} {self.rate} %"
