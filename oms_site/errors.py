"""Domain errors. Each has a machine code and an HTTP status, mapped in one handler
(``oms_site.api_errors``) for the API and shown as a message on pages.

A service refuses well-formed input it can't act on (an unknown SKU, totals that don't add
up) with ``ValidationFailed``: 422. Input that breaks the API's schema is refused before
the service runs, by the serializers (400); ``BadRequest`` is for the few such checks a
view makes by hand.
"""


class DomainError(Exception):
    code = "domain_error"
    status = 400

    def __init__(self, message: str, *, fields: dict | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code:
            self.code = code


class ValidationFailed(DomainError):
    code = "invalid"
    status = 422


class BadRequest(DomainError):
    code = "invalid"
    status = 400


class NotFound(DomainError):
    code = "not_found"
    status = 404


class PermissionDenied(DomainError):
    code = "permission_denied"
    status = 403


class TransitionNotAllowed(DomainError):
    code = "transition_not_allowed"
    status = 409


class Conflict(DomainError):
    code = "conflict"
    status = 409


class InsufficientStock(DomainError):
    code = "insufficient_stock"
    status = 409


class IdempotencyConflict(DomainError):
    code = "idempotency_key_reused"
    status = 422
