"""Forms of the forecasting and purchasing pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from inventory.access import allowed_warehouses
from inventory.forms import SKUCodeField
from inventory.models import SKU, Supplier, Warehouse

from .engine import MODELS
from .labels import model_label
from .models import ForecastSettings

MAX_PO_LINES = 500


class ForecastFilterForm(forms.Form):
    q = forms.CharField(label=_("SKU"), required=False, max_length=64)
    warehouse = forms.ModelChoiceField(
        label=_("Warehouse"), queryset=Warehouse.objects.none(), required=False
    )
    model = forms.ChoiceField(
        label=_("Model"),
        required=False,
        choices=[("", _("any"))] + [(m, model_label(m)) for m in MODELS],
    )
    at_risk = forms.BooleanField(label=_("At risk only"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["warehouse"].queryset = allowed_warehouses(user).order_by("rank", "code")


class ForecastSettingsForm(forms.ModelForm):
    class Meta:
        model = ForecastSettings
        fields = [
            "horizon_days",
            "history_days",
            "service_level",
            "review_period_days",
            "default_lead_time_days",
            "batch_size",
        ]


class PurchasingTermsForm(forms.ModelForm):
    """A SKU's supplier and purchasing terms, from its forecast page."""

    class Meta:
        model = SKU
        fields = ["supplier", "lead_time_days", "pack_size", "min_order_quantity"]
        labels = {
            "supplier": _("Supplier"),
            "lead_time_days": _("Lead time (days, blank: the supplier's)"),
            "pack_size": _("Pack size"),
            "min_order_quantity": _("Minimum order quantity (blank: the supplier's)"),
        }


class PurchaseOrderForm(forms.Form):
    supplier = forms.ModelChoiceField(label=_("Supplier"), queryset=Supplier.objects.all())
    warehouse = forms.ModelChoiceField(label=_("Deliver to"), queryset=Warehouse.objects.none())
    expected_date = forms.DateField(
        label=_("Expected delivery"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Blank: today plus the supplier's lead time when it is placed."),
    )
    supplier_reference = forms.CharField(
        label=_("Supplier's reference"), required=False, max_length=100
    )
    lines = forms.CharField(
        label=_("Lines"),
        widget=forms.Textarea(attrs={"rows": 6, "placeholder": "BC028-BUR 24\nTSHIRT-BLK-M 12"}),
        help_text=_("One line per SKU: the SKU code, a space, the quantity."),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=500)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["warehouse"].queryset = allowed_warehouses(user).filter(active=True)

    def clean_lines(self):
        text = self.cleaned_data["lines"]
        parsed, errors = [], []
        rows = [row.strip() for row in text.splitlines() if row.strip()]
        if len(rows) > MAX_PO_LINES:
            raise forms.ValidationError(
                _("At most %(n)s lines.") % {"n": MAX_PO_LINES}, code="too_many"
            )
        field = SKUCodeField()
        for number, row in enumerate(rows, start=1):
            parts = row.replace(";", " ").replace(",", " ").split()
            if len(parts) != 2 or not parts[1].isdigit() or int(parts[1]) <= 0:
                errors.append(
                    _("Line %(n)s: write the SKU code and a quantity above zero.") % {"n": number}
                )
                continue
            try:
                sku = field.clean(parts[0])
            except forms.ValidationError:
                errors.append(
                    _("Line %(n)s: unknown SKU %(code)s.") % {"n": number, "code": parts[0]}
                )
                continue
            parsed.append((sku, int(parts[1])))
        if errors:
            raise forms.ValidationError(errors)
        if not parsed:
            raise forms.ValidationError(_("Add at least one line."))
        codes = [sku.code for sku, _q in parsed]
        twice = sorted({c for c in codes if codes.count(c) > 1})
        if twice:
            raise forms.ValidationError(
                _("On the order twice: %(codes)s.") % {"codes": ", ".join(twice)}
            )
        return parsed


class ReceiveForm(forms.Form):
    """One quantity field per open line, named ``line_<id>``."""

    close = forms.BooleanField(label=_("Close the order: nothing more will come"), required=False)

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = [line for line in lines if line.open_quantity > 0]
        for line in self.lines:
            self.fields[f"line_{line.pk}"] = forms.IntegerField(
                label=line.sku.code,
                min_value=0,
                max_value=line.open_quantity,
                initial=line.open_quantity,
                required=False,
            )

    def quantities(self) -> dict[int, int]:
        return {line.pk: self.cleaned_data.get(f"line_{line.pk}") or 0 for line in self.lines}
