"""Forms of the orders app's settings pages: sales channels and hold rules. They check
input; the writes are ``orders.services.configuration``'s."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from inventory.models import TaxClass

from .models import HoldRule, SalesChannel, TaxRate
from .services.configuration import VALUE_RULES


class SalesChannelForm(forms.ModelForm):
    class Meta:
        model = SalesChannel
        fields = [
            "code",
            "name",
            "kind",
            "currency",
            "prices_include_tax",
            "capture_payment_on",
            "collected_by_marketplace",
            "issue_invoice_on",
            "return_window_days",
            "active",
        ]
        help_texts = {"code": _("Short and stable: API keys and integrations refer to it.")}

    # Left out of a post (an older form, a script): the model's default applies.
    DEFAULTED = ("capture_payment_on", "issue_invoice_on", "return_window_days")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.DEFAULTED:
            self.fields[name].required = False
        if self.instance.pk:
            # API keys are scoped by channel code; renaming it would silently change them.
            self.fields["code"].disabled = True
            self.fields["code"].help_text = _("Fixed once created: API keys refer to it.")

    def clean(self):
        data = super().clean()
        for name in self.DEFAULTED:
            if data.get(name) in (None, ""):
                data[name] = (
                    getattr(self.instance, name) or SalesChannel._meta.get_field(name).get_default()
                )
        return data


class HoldRulesForm(forms.Form):
    """Every hold rule kind on one form: enabled, and the threshold of the value rules."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        existing = {rule.kind: rule for rule in HoldRule.objects.all()}
        self.rows = []
        for kind, label in HoldRule.Kind.choices:
            rule = existing.get(kind)
            enabled_name, threshold_name = f"{kind}-enabled", f"{kind}-threshold"
            self.fields[enabled_name] = forms.BooleanField(
                label=_("Enabled"),
                required=False,
                initial=rule.enabled if rule else False,
            )
            row = {"kind": kind, "label": label, "rule": rule, "enabled": self[enabled_name]}
            if kind in VALUE_RULES:
                self.fields[threshold_name] = forms.DecimalField(
                    label=_("Threshold"),
                    required=False,
                    min_value=0,
                    max_digits=14,
                    decimal_places=2,
                    initial=rule.threshold if rule else None,
                )
                row["threshold"] = self[threshold_name]
            self.rows.append(row)

    def clean(self):
        data = super().clean()
        for kind in VALUE_RULES:
            if data.get(f"{kind}-enabled") and data.get(f"{kind}-threshold") is None:
                self.add_error(f"{kind}-threshold", _("Set a threshold to enable this rule."))
        return data

    def rules(self) -> dict:
        """kind -> {"enabled", "threshold"} as the service takes them."""
        return {
            kind: {
                "enabled": self.cleaned_data.get(f"{kind}-enabled", False),
                "threshold": self.cleaned_data.get(f"{kind}-threshold"),
            }
            for kind, _label in HoldRule.Kind.choices
        }


class TaxClassForm(forms.ModelForm):
    class Meta:
        model = TaxClass
        fields = ["code", "name", "is_default"]
        labels = {"is_default": _("Default class (products without a class, and shipping)")}

    def _post_clean(self):
        # A new default takes the role from the old one (save_tax_class), so the "one
        # default" constraint is the service's to keep, not an error to show here.
        is_default = self.cleaned_data.get("is_default")
        self.cleaned_data["is_default"] = False
        super()._post_clean()
        self.instance.is_default = bool(is_default)


class TaxRateForm(forms.Form):
    """A rate; the same country, class and date changes the stored one (a plain form,
    since that is an update rather than a duplicate)."""

    country = forms.ChoiceField(label=_("Country"), choices=[])
    tax_class = forms.ModelChoiceField(
        label=_("Tax class"), queryset=TaxClass.objects.all(), empty_label=None
    )
    rate = forms.DecimalField(
        label=_("Rate (%)"), min_value=0, max_value=Decimal("99.999"), decimal_places=3
    )
    name = forms.CharField(label=_("Name on documents"), max_length=40)
    valid_from = forms.DateField(
        label=_("Valid from"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", _("Choose a country")), *countries]

    def to_rate(self) -> TaxRate:
        return TaxRate(**self.cleaned_data)
