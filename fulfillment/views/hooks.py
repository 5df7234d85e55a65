"""Carriers push tracking updates here: ``POST /hooks/carriers/<code>/tracking/``.

The body is in the carrier's own format (Bring: the Tracking API v2 document; the
manual carrier: our generic ``{"updates": [...]}``). Each request is signed with the
carrier account's webhook secret, like our own outgoing webhooks:
``X-OMS-Carrier-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">``; a
missing or wrong signature, or a stamp older than five minutes, is refused with 401 and
nothing is recorded. Sending the same update twice records it once.
"""

import json

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from oms_site.webhooks import verify_signature

from ..models import CarrierAccount
from ..services import tracking

SIGNATURE_HEADER = "X-OMS-Carrier-Signature"
MAX_BODY_BYTES = 1024 * 1024


def _error(status, code, message):
    return JsonResponse({"error": {"code": code, "message": message, "fields": {}}}, status=status)


@csrf_exempt
@require_POST
def carrier_tracking_webhook(request, code):
    carrier = (
        CarrierAccount.objects.filter(code=code, active=True).exclude(webhook_secret="").first()
    )
    if carrier is None:
        return _error(404, "not_found", "No carrier webhook here.")
    body = request.body
    if len(body) > MAX_BODY_BYTES:
        return _error(413, "payload_too_large", "The request body is too large.")
    if not verify_signature(
        carrier.webhook_secret, request.headers.get(SIGNATURE_HEADER, ""), body
    ):
        return _error(401, "bad_signature", f"Missing or wrong {SIGNATURE_HEADER}.")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _error(400, "invalid", "The body is not JSON.")
    result = tracking.receive_webhook(carrier, payload)
    return JsonResponse(result)
