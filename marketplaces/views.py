"""Marketplace pages: channel health, sync runs with their failed records, sync now,
replay, retry a shipment confirmation, rotate credentials; and the Shopify webhook.

Who may do what (``oms_site.roles``): ``marketplace.view`` sees the pages,
``marketplace.sync`` syncs, replays and retries, ``marketplace.credentials`` rotates
secrets (the owner only). Secrets are never shown again: only their last characters.
"""

import base64
import hashlib
import hmac
import json
import logging

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.http import HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from oms_site.encryption import mask
from oms_site.pages import capability_required
from oms_site.roles import Capability

from . import selectors, tasks
from .forms import CredentialsForm
from .models import MarketplaceConnection, ShipmentPush, SyncFailure, SyncRun, WebhookReceipt
from .services import pushes, replay
from .services.connections import credential_fields, rotate_credentials

logger = logging.getLogger(__name__)
RUNS_PAGE_SIZE = 50


def _connection(code) -> MarketplaceConnection:
    return get_object_or_404(
        MarketplaceConnection.objects.select_related("channel"), channel__code=code
    )


@capability_required(Capability.MARKETPLACE_VIEW)
@require_GET
def health_list(request):
    return render(
        request,
        "marketplaces/health_list.html",
        {"rows": selectors.all_health(), "stock_waiting": selectors.stock_waiting()},
    )


@capability_required(Capability.MARKETPLACE_VIEW)
@require_GET
def channel_detail(request, code):
    connection = _connection(code)
    runs = Paginator(connection.runs.all(), RUNS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "marketplaces/channel_detail.html",
        {
            "connection": connection,
            "health": selectors.health(connection),
            "runs": runs,
            "failures": connection.failures.filter(status=SyncFailure.Status.OPEN)[:50],
            "pushes": connection.shipment_pushes.select_related("order")[:20],
            "batches": connection.stock_batches.all()[:10],
            "failing_listings": connection.listings.exclude(push_error="").select_related("sku")[
                :50
            ],
            "secrets": [
                (label, mask(connection.credentials.get(key)))
                for key, label in credential_fields(connection.channel.kind)
            ],
        },
    )


@capability_required(Capability.MARKETPLACE_VIEW)
@require_GET
def run_detail(request, pk):
    run = get_object_or_404(SyncRun.objects.select_related("connection__channel"), pk=pk)
    return render(
        request,
        "marketplaces/run_detail.html",
        {"run": run, "failures": run.failures.all()[:200], "pages": run.fetched_pages.count()},
    )


@capability_required(Capability.MARKETPLACE_SYNC)
@require_POST
def sync_now(request, code):
    connection = _connection(code)
    if connection.locked_until and connection.locked_until > timezone.now():
        messages.info(
            request, _("A sync of %(name)s is running already.") % {"name": connection.channel.name}
        )
    else:
        transaction.on_commit(
            lambda: tasks.sync_channel.delay(
                connection.pk, kind=SyncRun.Kind.MANUAL, triggered_by=request.user.get_username()
            )
        )
        messages.success(
            request, _("A sync of %(name)s has started.") % {"name": connection.channel.name}
        )
    return redirect("marketplaces:channel", code=code)


@capability_required(Capability.MARKETPLACE_SYNC)
@require_POST
def failure_replay(request, pk):
    failure = get_object_or_404(SyncFailure.objects.select_related("connection__channel"), pk=pk)
    if failure.status != SyncFailure.Status.OPEN:
        messages.info(request, _("This record is not open any more."))
    else:
        failure = replay.replay(failure, triggered_by=request.user.get_username())
        if failure.status == SyncFailure.Status.RESOLVED:
            messages.success(request, _("Record %(id)s imported.") % {"id": failure.external_id})
        else:
            messages.error(
                request,
                _("Record %(id)s failed again; see the newest run.") % {"id": failure.external_id},
            )
    return redirect("marketplaces:run", pk=failure.run_id)


@capability_required(Capability.MARKETPLACE_SYNC)
@require_POST
def failure_ignore(request, pk):
    failure = get_object_or_404(SyncFailure, pk=pk)
    if failure.status == SyncFailure.Status.OPEN:
        replay.ignore(failure)
        messages.success(request, _("Record %(id)s ignored.") % {"id": failure.external_id})
    return redirect("marketplaces:run", pk=failure.run_id)


@capability_required(Capability.MARKETPLACE_SYNC)
@require_POST
def shipment_retry(request, pk):
    push = get_object_or_404(ShipmentPush.objects.select_related("connection__channel"), pk=pk)
    if push.status != ShipmentPush.Status.FAILED:
        messages.info(request, _("Only a failed confirmation can be sent again."))
    else:
        pushes.requeue_shipment(push)
        messages.success(
            request, _("The confirmation of %(ref)s will be sent again.") % {"ref": push.reference}
        )
    return redirect("marketplaces:channel", code=push.connection.channel.code)


@capability_required(Capability.MARKETPLACE_CREDENTIALS)
def credentials(request, code):
    connection = _connection(code)
    kind = connection.channel.kind
    form = CredentialsForm(request.POST if request.method == "POST" else None, kind=kind)
    if request.method == "POST" and form.is_valid():
        rotate_credentials(connection, values=form.cleaned_data)
        messages.success(
            request, _("Credentials of %(name)s are replaced.") % {"name": connection.channel.name}
        )
        return redirect("marketplaces:channel", code=code)
    response = render(
        request,
        "marketplaces/credentials.html",
        {
            "connection": connection,
            "form": form,
            "secrets": [
                (label, mask(connection.credentials.get(key)))
                for key, label in credential_fields(kind)
            ],
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt
@require_POST
def shopify_webhook(request, code):
    """``orders/create`` / ``orders/updated``: verify the HMAC of the raw body first, answer
    fast, fetch and import the order in a task. Deliveries repeat: deduped on their id."""
    connection = (
        MarketplaceConnection.objects.select_related("channel")
        .filter(channel__code=code, channel__kind="shopify")
        .first()
    )
    if connection is None:
        return HttpResponse(status=404)
    secret = connection.credentials.get("client_secret", "")
    expected = base64.b64encode(
        hmac.new(secret.encode(), request.body, hashlib.sha256).digest()
    ).decode()
    given = request.headers.get("X-Shopify-Hmac-Sha256", "")
    if not secret or not hmac.compare_digest(expected, given):
        return HttpResponseForbidden("invalid signature")
    topic = request.headers.get("X-Shopify-Topic", "")
    delivery = request.headers.get("X-Shopify-Webhook-Id", "")
    if topic not in ("orders/create", "orders/updated", "orders/cancelled"):
        return HttpResponse(status=200)
    try:
        payload = json.loads(request.body)
        order_id = payload.get("admin_graphql_api_id") or f"gid://shopify/Order/{payload['id']}"
    except (ValueError, KeyError, TypeError, AttributeError):
        return HttpResponse("unreadable body", status=400)
    try:
        with transaction.atomic():
            WebhookReceipt.objects.create(
                connection=connection,
                delivery_id=delivery[:100] or order_id,
                topic=topic,
                payload=payload,
            )
            transaction.on_commit(
                lambda: tasks.sync_one_order.delay(connection.pk, order_id, f"webhook {topic}")
            )
    except IntegrityError:
        pass  # a repeated delivery: already queued
    return HttpResponse(status=200)
