"""The exchange-rate page (/settings/rates/): the latest rate of every currency, one
currency's history, a CSV import and a form for one rate (``integrations.manage``)."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import exchange_rates
from .errors import ValidationFailed
from .models import ExchangeRate
from .money import CURRENCY_CHOICES
from .pages import capability_required
from .roles import Capability

HISTORY_ROWS = 120
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


class RateImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        required=False,
        help_text=gettext_lazy("Columns: currency, valid_on, rate (or units_per_base)."),
    )
    text = forms.CharField(
        label=gettext_lazy("…or paste the rows"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "currency,valid_on,rate"}),
    )

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload is not None:
            if upload.size > MAX_UPLOAD_BYTES:
                raise forms.ValidationError(_("The file is larger than 5 MB."))
            try:
                data["content"] = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise forms.ValidationError(_("The file is not UTF-8 text."))
        else:
            data["content"] = data.get("text") or ""
        if not data["content"].strip():
            raise forms.ValidationError(_("Choose a file or paste the rows."))
        return data


class RateForm(forms.Form):
    currency = forms.ChoiceField(label=gettext_lazy("Currency"), choices=[])
    valid_on = forms.DateField(
        label=gettext_lazy("Valid on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    rate = forms.DecimalField(
        label=gettext_lazy("Rate"), min_value=0, max_digits=18, decimal_places=8
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        base = settings.OMS_BASE_CURRENCY
        self.fields["currency"].choices = [c for c in CURRENCY_CHOICES if c[0] != base]
        self.fields["rate"].help_text = _("%(base)s for one unit of the currency.") % {"base": base}


@capability_required(Capability.INTEGRATIONS_MANAGE)
def rates(request):
    which = request.POST.get("form") if request.method == "POST" else None
    import_form = RateImportForm(
        request.POST if which == "import" else None, request.FILES if which == "import" else None
    )
    rate_form = RateForm(request.POST if which == "rate" else None)
    import_errors = []
    if which == "import" and import_form.is_valid():
        try:
            result = exchange_rates.import_rates(import_form.cleaned_data["content"])
        except ValidationFailed as exc:
            import_errors = exc.fields.get("file", [exc.message])
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("%(created)s rates added, %(updated)s changed, %(unchanged)s unchanged.")
                % {
                    "created": result.created,
                    "updated": result.updated,
                    "unchanged": result.unchanged,
                },
            )
            return redirect("settings:rates")
    if which == "rate" and rate_form.is_valid():
        try:
            rate = exchange_rates.save_rate(**rate_form.cleaned_data)
        except ValidationFailed as exc:
            for field, problems in exc.fields.items():
                rate_form.add_error(field if field in rate_form.fields else None, problems)
        else:
            messages.success(
                request,
                _("%(currency)s on %(day)s: %(rate)s is saved.")
                % {"currency": rate.currency, "day": rate.valid_on, "rate": rate.rate},
            )
            return redirect(f"{request.path}?currency={rate.currency}")
    currency = request.GET.get("currency", "").upper()[:3]
    history = (
        ExchangeRate.objects.filter(currency=currency).order_by("-valid_on")[:HISTORY_ROWS]
        if currency
        else []
    )
    return render(
        request,
        "settings/rates.html",
        {
            "base": settings.OMS_BASE_CURRENCY,
            "latest": exchange_rates.latest_rates(),
            "currency": currency,
            "history": history,
            "import_form": import_form,
            "import_errors": import_errors,
            "rate_form": rate_form,
        },
    )
