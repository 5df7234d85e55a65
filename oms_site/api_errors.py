"""One place that turns errors into JSON: ``{"error": {"code", "message", "fields"}}``.

Every 4xx and 5xx under ``/api/`` has this shape: DRF's own errors, domain errors raised by
services, Django's 404 for an unknown URL, and a crash (500) alike.

``fields`` is always a flat object: the *dotted path* of the offending input (``lines.0.sku``,
``shipping_address.country``, ``Idempotency-Key``) -> a list of messages. Serializer errors
(nested by DRF) and service errors are flattened to the same shape, so an integrator
handles one format. Errors about the request as a whole sit under ``non_field_errors``.

Status codes: 400 means the request does not match the OpenAPI schema (types, required
fields, lengths, ranges, unknown fields, malformed JSON); 422 means it does, but the server
can't act on it (an unknown SKU, totals that don't add up, a reused Idempotency-Key); 409
means the resource's state forbids it now (an order that already shipped).
"""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import DomainError

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
NON_FIELD = "non_field_errors"

_DRF_CODES = {
    status.HTTP_400_BAD_REQUEST: "invalid",
    status.HTTP_401_UNAUTHORIZED: "not_authenticated",
    status.HTTP_403_FORBIDDEN: "permission_denied",
    status.HTTP_404_NOT_FOUND: "not_found",
    status.HTTP_405_METHOD_NOT_ALLOWED: "method_not_allowed",
    status.HTTP_406_NOT_ACCEPTABLE: "not_acceptable",
    status.HTTP_413_REQUEST_ENTITY_TOO_LARGE: "payload_too_large",
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "unsupported_media_type",
    status.HTTP_429_TOO_MANY_REQUESTS: "throttled",
}


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": flatten_fields(fields or {})}}


def flatten_fields(detail, prefix: str = "") -> dict[str, list[str]]:
    """Any error structure -> ``{"dotted.path": ["message", ...]}``.

    Takes DRF's nested details (dicts, lists of per-item dicts, ``{index: [...]}`` for list
    fields) and the dotted dicts services raise, and gives one flat shape.
    """
    flat: dict[str, list[str]] = {}

    def add(path, message):
        flat.setdefault(path or NON_FIELD, []).append(str(message))

    def walk(value, path):
        if isinstance(value, dict):
            for key, item in value.items():
                key = str(key)
                child = path if key == NON_FIELD else (f"{path}.{key}" if path else key)
                walk(item, child)
        elif isinstance(value, (list, tuple)):
            if all(not isinstance(item, (dict, list, tuple)) for item in value):
                for item in value:
                    add(path, item)
            else:  # one entry per list item (DRF's many=True): empty dicts are valid items
                for index, item in enumerate(value):
                    if item:
                        walk(item, f"{path}.{index}" if path else str(index))
        else:
            add(path, value)

    walk(detail, prefix)
    return flat


def _message(fields: dict[str, list[str]]) -> str:
    if not fields:
        return "Invalid input."
    first_path, messages = next(iter(fields.items()))
    summary = f"{first_path}: {messages[0]}" if first_path != NON_FIELD else messages[0]
    more = len(fields) - 1
    return f"Invalid input: {summary}" + (f" (and {more} more)" if more else "")


def exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every error a view raises, as the one JSON shape."""
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status)
    if isinstance(exc, RequestDataTooBig):
        return Response(
            error_body("payload_too_large", "The request body is too large."),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, DjangoValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD: exc.messages}
        flat = flatten_fields(fields)
        return Response(error_body("invalid", _message(flat), flat), status=422)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = _DRF_CODES.get(response.status_code, "error")
    if isinstance(exc, exceptions.ValidationError):
        flat = flatten_fields(exc.detail)
        response.data = error_body("invalid", _message(flat), flat)
    else:
        detail = getattr(exc, "detail", str(exc))
        message = str(detail) if not isinstance(detail, (dict, list)) else "Request refused."
        # DRF's own codes are precise (parse_error, authentication_failed); keep them.
        default_code = getattr(exc, "default_code", None)
        if isinstance(default_code, str) and default_code not in ("error", "invalid"):
            code = default_code
        response.data = error_body(code, message)
    return response


# --- Django-level errors under /api/ (no DRF view was reached, or it crashed) -------------


def is_api_request(request) -> bool:
    return request.path.startswith(API_PREFIX)


def json_error(code: str, message: str, status_code: int) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status_code)


def api_not_found(request):
    return json_error("not_found", f"No API endpoint at {request.path}.", 404)


def api_server_error(request):
    return json_error(
        "server_error", "The server failed to handle this request; it has been logged.", 500
    )


def api_bad_request(request):
    return json_error("invalid", "Bad request.", 400)


def api_permission_denied(request):
    return json_error("permission_denied", "You may not do this.", 403)
