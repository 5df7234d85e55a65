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


def idempotency_key(request) -> str | None:
    """The request's ``Idempotency-Key``, or None; a key too long is refused (422)."""
    key = request.META.get(HEADER)
    if not key:
        return None
    if len(key) > MAX_KEY_LENGTH:
        raise ValidationFailed(
            "Idempotency-Key is too long.", fields={"Idempotency-Key": ["At most 255 characters."]}
        )
    return key


def known_response(request) -> Response | None:
    """The first answer to this key, replayed; None if the key is new. A different body
    under a used key is refused (422)."""
    existing = IdempotencyRecord.objects.filter(
        owner=_owner(request), key=idempotency_key(request)
    ).first()
    return None if existing is None else _replay(existing, _fingerprint(request))


class KeyedCreate:
    """The record of one create under an ``Idempotency-Key``, in the order every create
    keeps: ``claim()`` writes it before the work (a concurrent request with the same key
    then waits on the unique index, and locks are always taken key first), ``keep()``
    stores the answer in it, ``refused()`` drops it (failed work is not remembered).
    ``idempotent_create`` uses it around one create; grouped order placement around
    each order of a batch that shares one transaction (``answered``)."""

    def __init__(self, request, respond=None):
        self.request = request
        self.respond = respond  # the work's result -> Response (for ``answered``)
        self.owner = _owner(request)
        self.key = idempotency_key(request)
        self.fingerprint = _fingerprint(request)
        self.record = None

    @property
    def sort_key(self) -> tuple[str, str]:
        return (self.owner, self.key)

    def claim(self) -> None:
        self.record = IdempotencyRecord.objects.create(
            owner=self.owner, key=self.key, request_fingerprint=self.fingerprint
        )

    def keep(self, response: Response) -> Response:
        self.record.response_status = response.status_code
        # Stored exactly as the first response was rendered, so a replay is identical.
        self.record.response_body = json.loads(JSONRenderer().render(response.data))
        self.record.save(update_fields=["response_status", "response_body"])
        return response

    def answered(self, result) -> Response:
        return self.keep(self.respond(result))

    def refused(self) -> None:
        self.record.delete()


def idempotent_create(request, create, *, create_is_atomic: bool = False) -> Response:
    """Run ``create()`` (which returns a Response) at most once per Idempotency-Key.

    ``create_is_atomic``: ``create()`` does all its writes in one transaction of its own
    (a service marked ``@transaction.atomic``); without a key it then needs no outer one,
    which would only add a savepoint's round trips.
    """
    if idempotency_key(request) is None:
        if create_is_atomic:
            return create()
        with transaction.atomic():
            return create()
    known = known_response(request)
    if known is not None:
        return known
    keyed = KeyedCreate(request)
    try:
        with transaction.atomic():
            keyed.claim()
            response = create()
            if response.status_code >= 400:
                # Failed work is not remembered: the client may fix the body and retry.
                transaction.set_rollback(True)
                return response
            return keyed.keep(response)
    except IntegrityError:
        # A concurrent request with the same key committed first.
        existing = IdempotencyRecord.objects.filter(owner=keyed.owner, key=keyed.key).first()
        if existing is None:
            raise
        return _replay(existing, keyed.fingerprint)
