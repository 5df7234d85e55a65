"""The manual / offline gateway: money that moves outside the OMS.

Bank transfers, cash on delivery, invoices paid later, cash or card at the till, and
marketplaces that charge the buyer themselves: a person (or an integration) records what
happened, and the ledger says so. Every operation succeeds at once — there is no one to
refuse it — and is kept as a transaction like any other.
"""

from .base import Gateway, GatewayResult


class ManualGateway(Gateway):
    code = "manual"
    name = "Manual / offline"

    def _record(self, operation, payment, amount):
        return GatewayResult.ok(
            raw={"recorded": operation, "amount": str(amount), "currency": payment.currency}
        )

    def authorize(self, payment, *, amount, idempotency_key):
        return self._record("authorize", payment, amount)

    def capture(self, payment, *, amount, idempotency_key):
        return self._record("capture", payment, amount)

    def void(self, payment, *, amount, idempotency_key):
        return self._record("void", payment, amount)

    def refund(self, payment, *, amount, idempotency_key):
        return self._record("refund", payment, amount)


class MarketplaceGateway(ManualGateway):
    code = "marketplace"
    name = "Collected by the marketplace"
