"""The orders app's settings pages, under /settings/: sales channels and hold rules
(``integrations.manage``)."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from oms_site.pages import capability_required
from oms_site.roles import Capability

from .models import SalesChannel
from .services.configuration import save_hold_rules, save_sales_channel
from .settings_forms import HoldRulesForm, SalesChannelForm


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
