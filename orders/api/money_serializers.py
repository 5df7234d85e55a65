"""API shapes of payments, refunds and invoices."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from oms_site.api_fields import (
    MoneyField,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    StrictSerializer,
)

from ..invoicing.models import Invoice, InvoiceLine, InvoiceTaxLine
from ..payments.models import Payment, PaymentMethod, Refund, RefundLine, Transaction

AMOUNT = {"max_digits": 14, "decimal_places": 3}


class TransactionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Transaction
        fields = [
            "id",
            "kind",
            "status",
            "amount",
            "currency",
            "provider_reference",
            "error_code",
            "error_message",
            "attempts",
            "created_at",
            "completed_at",
        ]


class PaymentSerializer(serializers.ModelSerializer):
    capturable_amount = serializers.DecimalField(**AMOUNT, read_only=True)
    refundable_amount = serializers.DecimalField(**AMOUNT, read_only=True)
    transactions = TransactionSerializer(many=True, read_only=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "gateway",
            "method",
            "currency",
            "amount",
            "provider_reference",
            "authorized_amount",
            "captured_amount",
            "voided_amount",
            "refunded_amount",
            "capturable_amount",
            "refundable_amount",
            "transactions",
            "created_at",
        ]


class PaymentCreateSerializer(StrictSerializer):
    gateway = serializers.ChoiceField(
        choices=["manual", "vipps", "marketplace"],
        help_text="manual: offline methods; vipps: Vipps MobilePay (give the reference); "
        "marketplace: collected by the channel's marketplace.",
    )
    method = serializers.ChoiceField(choices=PaymentMethod.choices)
    reference = StrictCharField(
        max_length=50,
        required=False,
        allow_blank=True,
        default="",
        help_text="The payment's reference at the provider (Vipps MobilePay's ePayment "
        "reference, 8 to 50 letters, digits and dashes).",
    )
    amount = MoneyField(
        required=False, allow_null=True, default=None, help_text="Default: what is left to pay."
    )
    received = StrictBooleanField(
        required=False,
        default=False,
        help_text="For offline methods: the money has arrived (recorded as captured now).",
    )


class CaptureSerializer(StrictSerializer):
    amount = MoneyField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Default: everything still due, up to what is authorized.",
    )


class RefundLineSerializer(serializers.ModelSerializer):
    line = serializers.IntegerField(source="order_line_id")
    sku = serializers.CharField(source="order_line.sku_code")

    class Meta:
        model = RefundLine
        fields = ["line", "sku", "quantity", "amount"]


class RefundSerializer(serializers.ModelSerializer):
    number = serializers.CharField()
    order = serializers.CharField(source="order.number")
    payment = serializers.IntegerField(source="payment_id")
    lines = RefundLineSerializer(many=True)
    credit_note = serializers.SerializerMethodField()

    class Meta:
        model = Refund
        fields = [
            "id",
            "number",
            "order",
            "payment",
            "status",
            "amount",
            "currency",
            "lines_amount",
            "shipping_amount",
            "restocking_fee",
            "extra_amount",
            "manual",
            "reason",
            "source",
            "attempts",
            "last_error",
            "lines",
            "credit_note",
            "created_at",
            "completed_at",
        ]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_credit_note(self, refund):
        note = Invoice.objects.filter(refund=refund).only("number").first()
        return note.number if note else None


class RefundLineInputSerializer(StrictSerializer):
    line = StrictIntegerField(min_value=1, help_text="The order line's id.")
    quantity = StrictIntegerField(min_value=1, max_value=100_000)


class RefundCreateSerializer(StrictSerializer):
    lines = RefundLineInputSerializer(many=True, required=False, default=list, max_length=500)
    shipping_amount = MoneyField(required=False, default="0")
    restocking_fee = MoneyField(required=False, default="0")
    extra_amount = MoneyField(
        required=False, default="0", help_text="A goodwill amount not tied to a line."
    )
    payment = StrictIntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        help_text="Which payment to refund to; default: the one with the most to refund.",
    )
    manual = StrictBooleanField(
        required=False,
        default=False,
        help_text="Paid back outside the gateway (bank transfer, cash): recorded at once.",
    )
    reason = StrictCharField(max_length=300, required=False, allow_blank=True, default="")


class InvoiceLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = InvoiceLine
        fields = [
            "position",
            "description",
            "sku_code",
            "quantity",
            "unit_price",
            "discount",
            "net_amount",
            "tax_rate",
            "tax_name",
            "tax_amount",
            "total",
        ]


class InvoiceTaxLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = InvoiceTaxLine
        fields = ["name", "rate", "net_amount", "tax_amount"]


class InvoiceSerializer(serializers.ModelSerializer):
    order = serializers.CharField(source="order.number")
    credits = serializers.CharField(
        source="credited_invoice.number",
        allow_null=True,
        default=None,
        help_text="For a credit note: the invoice it credits.",
    )
    refund = serializers.SerializerMethodField()
    lines = InvoiceLineSerializer(many=True)
    tax_lines = InvoiceTaxLineSerializer(many=True)
    pdf = serializers.SerializerMethodField(help_text="Path of the document's PDF.")

    class Meta:
        model = Invoice
        fields = [
            "number",
            "kind",
            "order",
            "credits",
            "refund",
            "currency",
            "issue_date",
            "due_date",
            "issued_at",
            "seller",
            "buyer",
            "prices_include_tax",
            "net_total",
            "tax_total",
            "total",
            "base_currency",
            "base_total",
            "exchange_rate",
            "rate_date",
            "note",
            "lines",
            "tax_lines",
            "pdf",
        ]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_refund(self, invoice):
        return invoice.refund.number if invoice.refund_id else None

    def get_pdf(self, invoice) -> str:
        return f"/api/v1/invoices/{invoice.number}/pdf/"


class InvoiceIssueSerializer(StrictSerializer):
    note = StrictCharField(max_length=300, required=False, allow_blank=True, default="")
