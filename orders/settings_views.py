"""The orders app's settings pages, under /settings/: sales channels and hold rules
(``integrations.manage``)."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from inventory.models import TaxClass
from oms_site.pages import capability_required
from oms_site.roles import Capability

from .models import SalesChannel, TaxRate
from .services.configuration import (
    delete_tax_rate,
    save_hold_rules,
    save_sales_channel,
    save_tax_class,
    save_tax_rate,
)
from .settings_forms import HoldRulesForm, SalesChannelForm, TaxClassForm, TaxRateForm


@capability_required(Capability.INTEGRATIONS_MANAGE)
@require_GET
def channel_list(request):
    return render(
        request,
        "orders/settings/channel_list.html",
        {"channels": SalesChannel.objects.order_by("name")},
    )


@capability_required(Capability.INTEGRATIONS_MANAGE)
def channel_edit(request, pk=None):
    channel = get_object_or_404(SalesChannel, pk=pk) if pk is not None else None
    form = SalesChannelForm(request.POST if request.method == "POST" else None, instance=channel)
    if request.method == "POST" and form.is_valid():
        channel = save_sales_channel(channel=form.save(commit=False))
        messages.success(request, _("Channel %(code)s is saved.") % {"code": channel.code})
        return redirect("order_settings:channels")
    return render(request, "orders/settings/channel_form.html", {"form": form, "channel": channel})


@capability_required(Capability.INTEGRATIONS_MANAGE)
def hold_rules(request):
    form = HoldRulesForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        save_hold_rules(rules=form.rules())
        messages.success(request, _("Hold rules are saved."))
        return redirect("order_settings:hold_rules")
    return render(request, "orders/settings/hold_rules.html", {"form": form})


@capability_required(Capability.INTEGRATIONS_MANAGE)
def tax_rules(request):
    """Tax classes and the rates per country and class (the rules are data)."""
    which = request.POST.get("form") if request.method == "POST" else None
    class_form = TaxClassForm(request.POST if which == "class" else None, prefix="class")
    rate_form = TaxRateForm(request.POST if which == "rate" else None, prefix="rate")
    if which == "class" and class_form.is_valid():
        tax_class = save_tax_class(tax_class=class_form.save(commit=False))
        messages.success(request, _("Tax class %(code)s is saved.") % {"code": tax_class.code})
        return redirect("order_settings:tax")
    if which == "rate" and rate_form.is_valid():
        rate = save_tax_rate(rate=rate_form.to_rate())
        messages.success(
            request,
            _("%(country)s %(cls)s: %(name)s %(rate)s %% from %(date)s is saved.")
            % {
                "country": rate.country,
                "cls": rate.tax_class.code,
                "name": rate.name,
                "rate": rate.rate.normalize(),
                "date": rate.valid_from,
            },
        )
        return redirect("order_settings:tax")
    return render(
        request,
        "orders/settings/tax_rules.html",
        {
            "classes": TaxClass.objects.all(),
            "rates": TaxRate.objects.select_related("tax_class"),
            "class_form": class_form,
            "rate_form": rate_form,
        },
    )


@capability_required(Capability.INTEGRATIONS_MANAGE)
@require_POST
def tax_rate_delete(request, pk):
    rate = get_object_or_404(TaxRate, pk=pk)
    delete_tax_rate(rate=rate)
    messages.success(request, _("The rate is deleted; orders keep the rate they were placed with."))
    return redirect("order_settings:tax")
