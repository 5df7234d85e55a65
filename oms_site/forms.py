"""Forms of the settings pages: sales channels, API keys, webhooks and hold rules."""

import secrets

from django import forms
from django.core.validators import URLValidator
from django.db import transaction

from orders.models import HoldRule, SalesChannel

from .models import ApiScope, WebhookSubscription
from .webhooks import EVENT_TYPES, url_problem

# Rules that compare the order's value with a threshold (the others are yes/no checks).
VALUE_RULES = {HoldRule.Kind.HIGH_VALUE, HoldRule.Kind.FIRST_ORDER_HIGH_VALUE}


class SalesChannelForm(forms.ModelForm):
    class Meta:
        model = SalesChannel
        fields = ["code", "name", "kind", "currency", "active"]
        help_texts = {"code": "Short and stable: API keys and integrations refer to it."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # API keys are scoped by channel code; renaming it would silently change them.
            self.fields["code"].disabled = True
            self.fields["code"].help_text = "Fixed once created: API keys refer to it."


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=50, help_text="Which integration uses this key.")
    scopes = forms.MultipleChoiceField(
        choices=ApiScope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="What the key may do.",
    )
    channel_codes = forms.MultipleChoiceField(
        label="Channels",
        required=False,
        help_text="Sales channels the key may act on; none selected means every channel.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel_codes"].choices = [
            (code, f"{name} ({code})")
            for code, name in SalesChannel.objects.order_by("name").values_list("code", "name")
        ]


class WebhookSubscriptionForm(forms.ModelForm):
    url = forms.URLField(
        label="URL",
        max_length=500,
        assume_scheme="https",
        validators=[URLValidator(schemes=["http", "https"])],
        help_text="Where the events are POSTed (http or https).",
    )
    event_types = forms.MultipleChoiceField(
        label="Events",
        choices=[(event, event) for event in EVENT_TYPES],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="None ticked means every event.",
    )

    class Meta:
        model = WebhookSubscription
        fields = ["name", "url", "secret", "event_types", "active"]
        widgets = {"secret": forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.initial.setdefault("secret", secrets.token_urlsafe(32))

    def clean_url(self):
        url = self.cleaned_data["url"]
        problem = url_problem(url)
        if problem:
            raise forms.ValidationError(problem)
        return url


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
                label="Enabled",
                required=False,
                initial=rule.enabled if rule else False,
            )
            row = {"kind": kind, "label": label, "rule": rule, "enabled": self[enabled_name]}
            if kind in VALUE_RULES:
                self.fields[threshold_name] = forms.DecimalField(
                    label="Threshold",
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
                self.add_error(f"{kind}-threshold", "Set a threshold to enable this rule.")
        return data

    @transaction.atomic
    def save(self) -> list[HoldRule]:
        """Update every rule kind, creating the ones that do not exist yet."""
        rules = []
        for kind, _label in HoldRule.Kind.choices:
            values = {"enabled": self.cleaned_data.get(f"{kind}-enabled", False)}
            if kind in VALUE_RULES:
                values["threshold"] = self.cleaned_data.get(f"{kind}-threshold")
            rule, _created = HoldRule.objects.update_or_create(kind=kind, defaults=values)
            rules.append(rule)
        return rules
