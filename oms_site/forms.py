"""Forms of the settings pages of the base layer: API keys and webhooks."""

import secrets

from django import forms
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

from .channel_choices import channel_choices
from .models import ApiScope, WebhookSubscription
from .webhooks import EVENT_TYPES, url_problem


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=50, help_text=_("Which integration uses this key."))
    scopes = forms.MultipleChoiceField(
        choices=ApiScope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("What the key may do."),
    )
    channel_codes = forms.MultipleChoiceField(
        label=_("Channels"),
        required=False,
        help_text=_("Sales channels the key may act on; none selected means every channel."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel_codes"].choices = channel_choices()


class WebhookSubscriptionForm(forms.ModelForm):
    url = forms.URLField(
        label=_("URL"),
        max_length=500,
        assume_scheme="https",
        validators=[URLValidator(schemes=["http", "https"])],
        help_text=_("Where the events are POSTed (http or https)."),
    )
    event_types = forms.MultipleChoiceField(
        label=_("Events"),
        # A callable: apps register their event types when they are ready.
        choices=lambda: [(event, event) for event in EVENT_TYPES],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("None ticked means every event."),
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
