"""Forms of the marketplace pages. They check input; services do the writes."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .services.connections import credential_fields


class CredentialsForm(forms.Form):
    """One password field per secret of the marketplace; blank keeps the stored value."""

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        for key, label in credential_fields(kind):
            self.fields[key] = forms.CharField(
                label=label,
                required=False,
                max_length=2000,
                strip=True,
                widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
                help_text=_("Leave blank to keep the current value."),
            )

    def clean(self):
        data = super().clean()
        if not any(data.values()):
            raise forms.ValidationError(_("Enter at least one new value."))
        return data
