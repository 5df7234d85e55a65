"""Settings pages of the base layer: the settings index, API keys and webhooks (with their
deliveries). Sales channels and hold rules are the orders app's (``orders.settings_views``).

Webhooks need ``integrations.manage``; API keys need ``apikeys.manage``. Redelivering a
webhook goes through ``oms_site.webhooks``.
"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from . import webhooks
from .forms import ApiKeyForm, WebhookSubscriptionForm
from .models import ApiKey, WebhookDelivery, WebhookSubscription
from .pages import capability_required, positive_int_param
from .roles import Capability

DELIVERIES_PAGE_SIZE = 50


@capability_required(Capability.INTEGRATIONS_MANAGE)
@require_GET
def index(request):
    return render(request, "settings/index.html")


# --- API keys -------------------------------------------------------------------------------


@capability_required(Capability.API_KEYS_MANAGE)
@require_GET
def api_key_list(request):
    keys = ApiKey.objects.select_related("created_by").order_by("-created")
    return render(request, "settings/api_key_list.html", {"keys": keys})


@capability_required(Capability.API_KEYS_MANAGE)
def api_key_create(request):
    form = ApiKeyForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        api_key, raw_key = ApiKey.objects.create_key(
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            channel_codes=form.cleaned_data["channel_codes"],
            created_by=request.user,
        )
        # Only the hash is stored: this response is the one time the key can be read.
        response = render(
            request, "settings/api_key_created.html", {"api_key": api_key, "raw_key": raw_key}
        )
        response["Cache-Control"] = "no-store"
        return response
    return render(request, "settings/api_key_form.html", {"form": form})


@capability_required(Capability.API_KEYS_MANAGE)
@require_POST
def api_key_revoke(request, prefix):
    api_key = get_object_or_404(ApiKey, prefix=prefix)
    if not api_key.revoked:
        api_key.revoked = True
        api_key.save(update_fields=["revoked"])
        messages.success(
            request,
            _("Key %(name)s (%(prefix)s) is revoked.")
            % {"name": api_key.name, "prefix": api_key.prefix},
        )
    return redirect("settings:api_keys")


# --- webhooks -------------------------------------------------------------------------------


@capability_required(Capability.INTEGRATIONS_MANAGE)
@require_GET
def webhook_list(request):
    subscriptions = WebhookSubscription.objects.order_by("name", "pk")
    return render(request, "settings/webhook_list.html", {"subscriptions": subscriptions})


@capability_required(Capability.INTEGRATIONS_MANAGE)
def webhook_edit(request, pk=None):
    subscription = get_object_or_404(WebhookSubscription, pk=pk) if pk is not None else None
    form = WebhookSubscriptionForm(
        request.POST if request.method == "POST" else None, instance=subscription
    )
    if request.method == "POST" and form.is_valid():
        subscription = form.save()
        messages.success(request, _("Webhook %(name)s is saved.") % {"name": subscription.name})
        return redirect("settings:webhooks")
    return render(
        request, "settings/webhook_form.html", {"form": form, "subscription": subscription}
    )


@capability_required(Capability.INTEGRATIONS_MANAGE)
@require_GET
def webhook_deliveries(request, pk):
    """A subscription's deliveries, newest first, cut by id (``?after=<id>``)."""
    subscription = get_object_or_404(WebhookSubscription, pk=pk)
    deliveries = subscription.deliveries.select_related("event").order_by("-pk")
    after = positive_int_param(request, "after")
    if after is not None:
        deliveries = deliveries.filter(pk__lt=after)
    rows = list(deliveries[: DELIVERIES_PAGE_SIZE + 1])
    older = rows[DELIVERIES_PAGE_SIZE - 1].pk if len(rows) > DELIVERIES_PAGE_SIZE else None
    return render(
        request,
        "settings/webhook_deliveries.html",
        {
            "subscription": subscription,
            "deliveries": rows[:DELIVERIES_PAGE_SIZE],
            "older_cursor": older,
            "paged": after is not None,
        },
    )


@capability_required(Capability.INTEGRATIONS_MANAGE)
@require_GET
def webhook_delivery(request, pk):
    delivery = get_object_or_404(
        WebhookDelivery.objects.select_related("subscription", "event"), pk=pk
    )
    return render(
        request,
        "settings/webhook_delivery.html",
        {"delivery": delivery, "attempts": delivery.attempts.order_by("pk")},
    )


@capability_required(Capability.INTEGRATIONS_MANAGE)
@require_POST
def webhook_redeliver(request, pk):
    delivery = get_object_or_404(WebhookDelivery, pk=pk)
    webhooks.redeliver(delivery)
    messages.success(
        request, _("Delivery #%(id)s is queued to be sent again.") % {"id": delivery.pk}
    )
    return redirect("settings:webhook_delivery", pk=delivery.pk)
