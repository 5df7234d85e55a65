"""Callbacks from payment providers: ``POST /callbacks/payments/<gateway>/``.

Not part of the API for integrators: the provider calls it, signed (each gateway
verifies its own signature scheme). A refused signature is a 401 and changes nothing; a
verified event is applied once, however often the provider sends it.
"""

import logging

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .gateways import GATEWAYS, CallbackRefused
from .services import handle_provider_event

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def provider_callback(request, gateway):
    engine = GATEWAYS.get(gateway)
    if engine is None:
        return JsonResponse(
            {"error": {"code": "not_found", "message": "Unknown gateway."}}, status=404
        )
    try:
        events = engine.parse_callback(request)
    except CallbackRefused as exc:
        logger.warning("refused %s callback: %s", gateway, exc)
        return JsonResponse(
            {"error": {"code": "invalid_signature", "message": str(exc)}}, status=401
        )
    results = [handle_provider_event(gateway, event) for event in events]
    return JsonResponse({"received": len(events), "results": results})
