"""Forms of the money pages: recording payments, capturing, refunding, invoice settings.
They parse what a person typed; the services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .invoicing.models import InvoiceSettings

RECORDABLE_METHODS = [
    ("bank_transfer", _("Bank transfer")),
    ("cash", _("Cash or card at the till")),
    ("cash_on_delivery", _("Cash on delivery")),
    ("invoice", _("Invoice (pay later)")),
    ("other", _("Other")),
]


def _amount(label, **kwargs):
    return forms.DecimalField(
        label=label, required=False, min_value=0, max_digits=14, decimal_places=3, **kwargs
    )


class RecordPaymentForm(forms.Form):
    method = forms.ChoiceField(label=_("Method"), choices=RECORDABLE_METHODS)
    amount = _amount(_("Amount"), help_text=_("Empty: what is left to pay."))
    received = forms.BooleanField(
        label=_("The money has arrived"),
        required=False,
        help_text=_("Records it as paid now; otherwise record it when it arrives."),
    )


class CaptureForm(forms.Form):
    amount = _amount(_("Amount"), help_text=_("Empty: everything still due."))


class RefundForm(forms.Form):
    """One quantity field per refundable line (``line-<id>``), plus amounts."""

    shipping_amount = _amount(_("Shipping"))
    restocking_fee = _amount(_("Restocking fee"))
    extra_amount = _amount(_("Goodwill amount"), help_text=_("Not tied to a line."))
    reason = forms.CharField(label=_("Reason"), required=False, max_length=300)
    manual = forms.BooleanField(
        label=_("Paid back by hand"),
        required=False,
        help_text=_("Bank transfer or cash, outside the payment gateway."),
    )
    payment = forms.TypedChoiceField(label=_("Payment"), coerce=int, required=False, choices=[])

    def __init__(self, *args, refundable=None, payments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.refundable = refundable
        self.line_fields = []
        for entry in refundable.lines if refundable else []:
            name = f"line-{entry.line.pk}"
            self.fields[name] = forms.IntegerField(
                label=entry.line.sku_code,
                required=False,
                min_value=0,
                max_value=max(entry.quantity, 0),
            )
            self.line_fields.append((entry, self[name]))
        self.fields["payment"].choices = [
            (p.pk, f"#{p.pk} {p.get_method_display()}") for p in payments
        ]
        if len(payments) < 2:
            self.fields["payment"].widget = forms.HiddenInput()

    def lines(self) -> list[tuple[int, int]]:
        return [
            (entry.line.pk, self.cleaned_data[field.name])
            for entry, field in self.line_fields
            if self.cleaned_data.get(field.name)
        ]


class InvoiceSettingsForm(forms.ModelForm):
    class Meta:
        model = InvoiceSettings
        fields = [
            "seller_name",
            "organisation_number",
            "vat_number",
            "address",
            "email",
            "phone",
            "bank_account",
            "payment_terms_days",
            "invoice_prefix",
            "credit_note_prefix",
            "footer",
        ]
        widgets = {"address": forms.Textarea(attrs={"rows": 3})}
