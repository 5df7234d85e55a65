"""``Idempotency-Key`` for creating POSTs.

The same key with the same body returns the first response and creates nothing; the same
key with a different body is refused (422). The record is written in the same
transaction as the work: a concurrent request with the same key blocks on the unique
index, and once the first commits it finds the record and replays it.
"""

import hashlib
import json

from django.db import IntegrityError, transaction
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from .errors import IdempotencyConflict, ValidationFailed
from .models import IdempotencyRecord

HEADER = "HTTP_IDEMPOTENCY_KEY"
MAX_KEY_LENGTH = 255


def _owner(request) -> str:
    api_key = getattr(request._request, "api_key", None)
    return f"key:{api_key.pk}" if api_key is not None else f"user:{request.user.pk}"


def _fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str)
    return hashlib.sha256(f"{request.path}\n{body}".encode()).hexdigest()


def _replay(record: IdempotencyRecord, fingerprint: str) -> Response:
    if record.request_fingerprint != fingerprint:
        raise IdempotencyConflict(
            "This Idempotency-Key was used with a different request body.",
            fields={"Idempotency-Key": ["Already used with a different body."]},
        )
    response = Response(record.response_body, status=record.response_status)
    response["Idempotent-Replayed"] = "true"
    return response


def has_idempotency_key(request) -> bool:
    return bool(request.META.get(HEADER))


def idempotent_create(request, create, *, create_is_atomic: bool = False) -> Response:
    """Run ``create()`` (which returns a Response) at most once per Idempotency-Key.

    ``create_is_atomic``: ``create()`` does all its writes in one transaction of its own
    (a service marked ``@transaction.atomic``); without a key it then needs no outer one,
    which would only add a savepoint's round trips.
    """
    key = request.META.get(HEADER)
    if not key:
        if create_is_atomic:
            return create()
        with transaction.atomic():
            return create()
    if len(key) > MAX_KEY_LENGTH:
        raise ValidationFailed(
            "Idempotency-Key is too long.", fields={"Idempotency-Key": ["At most 255 characters."]}
        )
    owner = _owner(request)
    fingerprint = _fingerprint(request)
    existing = IdempotencyRecord.objects.filter(owner=owner, key=key).first()
    if existing is not None:
        return _replay(existing, fingerprint)
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                owner=owner, key=key, request_fingerprint=fingerprint
            )
            response = create()
            if response.status_code >= 400:
                # Failed work is not remembered: the client may fix the body and retry.
                transaction.set_rollback(True)
                return response
            record.response_status = response.status_code
            # Stored exactly as the first response was rendered, so a replay is identical.
            record.response_body = json.loads(JSONRenderer().render(response.data))
            record.save(update_fields=["response_status", "response_body"])
            return response
    except IntegrityError:
        # A concurrent request with the same key committed first.
        existing = IdempotencyRecord.objects.filter(owner=owner, key=key).first()
        if existing is None:
            raise
        return _replay(existing, fingerprint)
