"""The gateway interface: what the payment services ask of a payment provider.

A gateway turns one ledger transaction (authorize, capture, void, refund of an amount,
with an idempotency key) into a request to its provider and reports the outcome:

- ``succeeded`` — the provider confirmed it;
- ``failed`` — the provider refused it for good (a decline, a state that does not allow
  it); nothing moved;
- ``unknown`` — no answer that can be trusted (a timeout, a 5xx, a 429, a dropped
  connection). The transaction stays pending and is asked again *with the same
  idempotency key*, which providers answer with the first outcome instead of moving
  money twice.

Gateways never touch the database; the services record what they report.
"""

from dataclasses import dataclass, field
from decimal import Decimal

SUCCEEDED, FAILED, UNKNOWN = "succeeded", "failed", "unknown"


@dataclass
class GatewayResult:
    outcome: str
    provider_reference: str = ""
    raw: dict = field(default_factory=dict)
    error_code: str = ""
    error_message: str = ""
    redirect_url: str = ""

    @classmethod
    def ok(cls, **kwargs) -> "GatewayResult":
        return cls(SUCCEEDED, **kwargs)

    @classmethod
    def refused(cls, code: str, message: str, **kwargs) -> "GatewayResult":
        return cls(FAILED, error_code=code, error_message=message[:500], **kwargs)

    @classmethod
    def unknown(cls, code: str, message: str, **kwargs) -> "GatewayResult":
        return cls(UNKNOWN, error_code=code, error_message=message[:500], **kwargs)


@dataclass(frozen=True)
class ProviderEvent:
    """Something the provider told us by callback: which payment, what happened."""

    provider_reference: str
    name: str  # AUTHORIZED, CAPTURED, REFUNDED, CANCELLED, ABORTED, EXPIRED, TERMINATED
    amount: Decimal
    currency: str
    success: bool
    idempotency_key: str | None
    raw: dict


class Gateway:
    code = ""
    name = ""
    # False for gateways that only record what happened elsewhere (a bank transfer seen
    # on the statement, cash on delivery, a marketplace's payout).
    moves_money = False
    # Whether a customer-approved authorization exists at the provider to be checked.
    verifies_authorization = False
    # Whether the OMS itself can ask the customer to pay (a link to the provider's page),
    # for an amount due after the order was placed: an exchange for dearer goods, say.
    requests_payments = False

    def is_configured(self) -> bool:
        return True

    def request_payment(
        self,
        *,
        reference: str,
        amount: Decimal,
        currency: str,
        description: str,
        return_url: str,
        idempotency_key: str,
    ) -> GatewayResult:
        """Ask the provider for a payment the customer approves on its page; the result's
        ``redirect_url`` is where to send the customer."""
        raise NotImplementedError

    def authorize(self, payment, *, amount: Decimal, idempotency_key: str) -> GatewayResult:
        raise NotImplementedError

    def capture(self, payment, *, amount: Decimal, idempotency_key: str) -> GatewayResult:
        raise NotImplementedError

    def void(self, payment, *, amount: Decimal, idempotency_key: str) -> GatewayResult:
        raise NotImplementedError

    def refund(self, payment, *, amount: Decimal, idempotency_key: str) -> GatewayResult:
        raise NotImplementedError

    def parse_callback(self, request) -> list[ProviderEvent]:
        """Verify a provider's signed callback and read its events (or raise
        ``CallbackRefused``)."""
        raise CallbackRefused(f"{self.name} sends no callbacks.")


class CallbackRefused(Exception):
    """A callback that is not signed by the provider, is stale, or can't be read."""
