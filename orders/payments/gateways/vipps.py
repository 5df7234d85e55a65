"""Vipps MobilePay, through its ePayment API v1 (and the Access Token API).

The customer approves the payment in the Vipps or MobilePay app at checkout (the web shop
creates it with ``POST /epayment/v1/payments``); the shop then sends us the payment's
``reference`` with the order. From there the OMS speaks to the API:

- asking the customer to pay an amount due later (an exchange for dearer goods):
  ``POST /epayment/v1/payments`` with ``paymentMethod.type`` WALLET and ``userFlow``
  WEB_REDIRECT; the answer's ``redirectUrl`` is where the customer approves it (within
  the provider's default ten minutes, so it is asked for when the customer clicks "Pay",
  never e-mailed);
- authorize: ``GET /epayment/v1/payments/{reference}`` — the payment must be
  ``AUTHORIZED`` for at least the amount, in the order's currency;
- capture: ``POST /epayment/v1/payments/{reference}/capture`` with
  ``{"modificationAmount": {"currency", "value"}}`` (value in minor units, øre/cents);
- void: ``POST /epayment/v1/payments/{reference}/cancel`` (releases what is not captured);
- refund: ``POST /epayment/v1/payments/{reference}/refund``.

Every modification carries an ``Idempotency-Key`` header (at most 50 characters), so a
request repeated after a timeout is answered with the first outcome. Requests are
authorised by a bearer token from ``POST /accesstoken/get`` (client id, client secret,
``Ocp-Apim-Subscription-Key``, ``Merchant-Serial-Number``), cached until shortly before it
expires. Errors come as RFC 7807 problems (``title``, ``detail``, ``extraDetails`` with an
``ErrorCode``): a 4xx is a refusal, a 5xx, 429 or timeout leaves the outcome unknown.

Webhooks (``epayments.payment.*.v1``) are signed with HMAC-SHA256 over
``"POST\\n<path and query>\\n<x-ms-date>;<host>;<x-ms-content-sha256>"`` with the secret
given when the webhook was registered; the body's SHA-256 (base64) must match
``x-ms-content-sha256``.

Configuration comes from the environment (``OMS_VIPPS_*``), never the database.
"""

import base64
import hashlib
import hmac
import json
import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.utils import parsedate_to_datetime

import requests
from django.conf import settings
from django.core.cache import cache

from oms_site.money import minor_units

from .base import SUCCEEDED, CallbackRefused, Gateway, GatewayResult, ProviderEvent

logger = logging.getLogger(__name__)

API_VERSION = "ePayment API v1"
TOKEN_CACHE_KEY = "payments:vipps:access-token"
SYSTEM_HEADERS = {
    "Vipps-System-Name": "oms",
    "Vipps-System-Version": "1.0",
    "Vipps-System-Plugin-Name": "oms-payments",
    "Vipps-System-Plugin-Version": "1.0",
}
CALLBACK_TOLERANCE = timedelta(minutes=5)


def to_minor(amount: Decimal, currency: str) -> int:
    return int((Decimal(amount) * (10 ** minor_units(currency))).to_integral_value())


def from_minor(value: int, currency: str) -> Decimal:
    return Decimal(int(value)).scaleb(-minor_units(currency))


def _config() -> dict:
    return settings.OMS_VIPPS


class VippsGateway(Gateway):
    code = "vipps"
    name = "Vipps MobilePay"
    moves_money = True
    verifies_authorization = True
    requests_payments = True
    currencies = ("NOK", "DKK", "EUR")

    def is_configured(self) -> bool:
        config = _config()
        return all(
            config.get(key)
            for key in ("base_url", "client_id", "client_secret", "subscription_key", "msn")
        )

    # --- HTTP ---

    def _token(self, *, refresh: bool = False) -> str:
        if not refresh:
            token = cache.get(TOKEN_CACHE_KEY)
            if token:
                return token
        config = _config()
        response = requests.post(
            f"{config['base_url']}/accesstoken/get",
            headers={
                "client_id": config["client_id"],
                "client_secret": config["client_secret"],
                "Ocp-Apim-Subscription-Key": config["subscription_key"],
                "Merchant-Serial-Number": config["msn"],
                **SYSTEM_HEADERS,
            },
            timeout=config.get("timeout", 10),
        )
        response.raise_for_status()
        body = response.json()
        token = body["access_token"]
        lifetime = int(body.get("expires_in", 3600))
        cache.set(TOKEN_CACHE_KEY, token, max(lifetime - 60, 30))
        return token

    def _request(self, method: str, path: str, *, idempotency_key=None, body=None):
        """One API call, with a fresh token once if the cached one is refused.
        Returns the response, or raises requests.RequestException."""
        config = _config()
        for attempt in (1, 2):
            headers = {
                "Authorization": f"Bearer {self._token(refresh=attempt == 2)}",
                "Ocp-Apim-Subscription-Key": config["subscription_key"],
                "Merchant-Serial-Number": config["msn"],
                "Content-Type": "application/json",
                **SYSTEM_HEADERS,
            }
            if idempotency_key:
                headers["Idempotency-Key"] = idempotency_key
            response = requests.request(
                method,
                f"{config['base_url']}{path}",
                headers=headers,
                data=json.dumps(body) if body is not None else None,
                timeout=config.get("timeout", 10),
            )
            if response.status_code != 401:
                return response
        return response

    @staticmethod
    def _json(response) -> dict:
        try:
            body = response.json()
        except ValueError:
            return {"status": response.status_code, "text": response.text[:500]}
        return body if isinstance(body, dict) else {"body": body}

    def _outcome(self, response) -> GatewayResult:
        body = self._json(response)
        if 200 <= response.status_code < 300:
            return GatewayResult.ok(provider_reference=body.get("pspReference", ""), raw=body)
        code = _error_code(body) or f"http_{response.status_code}"
        message = body.get("detail") or body.get("title") or f"HTTP {response.status_code}"
        if response.status_code == 429 or response.status_code >= 500:
            return GatewayResult.unknown(code, message, raw=body)
        return GatewayResult.refused(code, message, raw=body)

    def _modify(self, payment, operation, *, amount, idempotency_key) -> GatewayResult:
        if not self.is_configured():
            return GatewayResult.refused("not_configured", "Vipps MobilePay is not configured.")
        body = {
            "modificationAmount": {
                "currency": payment.currency,
                "value": to_minor(amount, payment.currency),
            }
        }
        try:
            response = self._request(
                "POST",
                f"/epayment/v1/payments/{payment.provider_reference}/{operation}",
                idempotency_key=idempotency_key,
                body=body,
            )
        except requests.Timeout as exc:
            return GatewayResult.unknown("timeout", f"No answer in time: {exc}")
        except requests.RequestException as exc:
            return GatewayResult.unknown("connection", f"{type(exc).__name__}: {exc}")
        return self._outcome(response)

    # --- operations ---

    def request_payment(
        self, *, reference, amount, currency, description, return_url, idempotency_key
    ):
        if not self.is_configured():
            return GatewayResult.refused("not_configured", "Vipps MobilePay is not configured.")
        if currency not in self.currencies:
            return GatewayResult.refused(
                "currency_not_supported", f"Vipps MobilePay does not take {currency}."
            )
        body = {
            "amount": {"currency": currency, "value": to_minor(amount, currency)},
            "paymentMethod": {"type": "WALLET"},
            "reference": reference,
            "returnUrl": return_url,
            "userFlow": "WEB_REDIRECT",
            "paymentDescription": description[:100],
        }
        try:
            response = self._request(
                "POST", "/epayment/v1/payments", idempotency_key=idempotency_key, body=body
            )
        except requests.Timeout as exc:
            return GatewayResult.unknown("timeout", f"No answer in time: {exc}")
        except requests.RequestException as exc:
            return GatewayResult.unknown("connection", f"{type(exc).__name__}: {exc}")
        result = self._outcome(response)
        if result.outcome == SUCCEEDED:
            redirect_url = str(result.raw.get("redirectUrl") or "")
            if not redirect_url.startswith(("https://", "http://")):
                return GatewayResult.unknown(
                    "no_redirect_url", "The answer has no redirectUrl.", raw=result.raw
                )
            result.redirect_url = redirect_url
            result.provider_reference = reference
        return result

    def authorize(self, payment, *, amount, idempotency_key):
        """Check the customer's approval: the payment is AUTHORIZED for the amount."""
        if not self.is_configured():
            return GatewayResult.refused("not_configured", "Vipps MobilePay is not configured.")
        try:
            response = self._request("GET", f"/epayment/v1/payments/{payment.provider_reference}")
        except requests.Timeout as exc:
            return GatewayResult.unknown("timeout", f"No answer in time: {exc}")
        except requests.RequestException as exc:
            return GatewayResult.unknown("connection", f"{type(exc).__name__}: {exc}")
        if response.status_code != 200:
            return self._outcome(response)
        body = self._json(response)
        state = body.get("state")
        aggregate = body.get("aggregate") or {}
        authorized = aggregate.get("authorizedAmount") or body.get("amount") or {}
        cancelled = (aggregate.get("cancelledAmount") or {}).get("value", 0)
        reference = body.get("pspReference", "")
        if state == "CREATED":
            return GatewayResult.unknown(
                "not_yet_approved", "The customer has not approved the payment yet.", raw=body
            )
        if state != "AUTHORIZED":
            return GatewayResult.refused(
                f"state_{(state or 'unknown').lower()}",
                f"The payment is {state or 'in an unknown state'}, not authorized.",
                raw=body,
            )
        if authorized.get("currency") != payment.currency:
            return GatewayResult.refused(
                "currency_mismatch",
                f"Authorized in {authorized.get('currency')}, the order is in {payment.currency}.",
                raw=body,
            )
        available = from_minor(authorized.get("value", 0) - cancelled, payment.currency)
        if available < amount:
            return GatewayResult.refused(
                "amount_too_low",
                f"Only {available} {payment.currency} is authorized; {amount} is needed.",
                raw=body,
            )
        return GatewayResult.ok(provider_reference=reference, raw=body)

    def capture(self, payment, *, amount, idempotency_key):
        return self._modify(payment, "capture", amount=amount, idempotency_key=idempotency_key)

    def void(self, payment, *, amount, idempotency_key):
        return self._modify(payment, "cancel", amount=amount, idempotency_key=idempotency_key)

    def refund(self, payment, *, amount, idempotency_key):
        return self._modify(payment, "refund", amount=amount, idempotency_key=idempotency_key)

    # --- callbacks ---

    def parse_callback(self, request) -> list[ProviderEvent]:
        secret = _config().get("webhook_secret")
        if not secret:
            raise CallbackRefused("No webhook secret is configured.")
        body = request.body
        verify_callback(
            secret=secret,
            method=request.method,
            path_and_query=request.get_full_path(),
            host=request.get_host(),
            date=request.headers.get("x-ms-date", ""),
            content_sha256=request.headers.get("x-ms-content-sha256", ""),
            authorization=request.headers.get("Authorization", ""),
            body=body,
        )
        try:
            event = json.loads(body)
            amount = event["amount"]
            currency = amount["currency"]
            return [
                ProviderEvent(
                    provider_reference=event["reference"],
                    name=event["name"],
                    amount=from_minor(amount["value"], currency),
                    currency=currency,
                    success=bool(event.get("success", True)),
                    idempotency_key=event.get("idempotencyKey"),
                    raw=event,
                )
            ]
        except (ValueError, KeyError, TypeError) as exc:
            raise CallbackRefused(f"Unreadable event: {exc}")


def _error_code(body: dict) -> str:
    for detail in body.get("extraDetails") or []:
        if isinstance(detail, dict) and detail.get("name") == "ErrorCode":
            return f"vipps_{detail.get('reason')}"
    return ""


def content_hash(body: bytes) -> str:
    return base64.b64encode(hashlib.sha256(body).digest()).decode()


def sign_callback(*, secret: str, path_and_query: str, date: str, host: str, body: bytes) -> str:
    """The Authorization header value Vipps MobilePay sends (and our stub server too)."""
    signed = f"POST\n{path_and_query}\n{date};{host};{content_hash(body)}"
    mac = hmac.new(secret.encode(), signed.encode(), hashlib.sha256).digest()
    return (
        "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256"
        f"&Signature={base64.b64encode(mac).decode()}"
    )


def verify_callback(
    *, secret, method, path_and_query, host, date, content_sha256, authorization, body, now=None
) -> None:
    """Raise CallbackRefused unless the callback is signed with ``secret`` and fresh."""
    if method != "POST":
        raise CallbackRefused("Callbacks are POSTed.")
    if not hmac.compare_digest(content_hash(body), content_sha256):
        raise CallbackRefused("The body does not match x-ms-content-sha256.")
    try:
        sent_at = parsedate_to_datetime(date)
    except (TypeError, ValueError):
        raise CallbackRefused("x-ms-date is missing or not a date.")
    if sent_at.tzinfo is None:
        sent_at = sent_at.replace(tzinfo=UTC)
    if abs((now or datetime.now(UTC)) - sent_at) > CALLBACK_TOLERANCE:
        raise CallbackRefused("The callback is stale (x-ms-date too far from now).")
    expected = sign_callback(
        secret=secret, path_and_query=path_and_query, date=date, host=host, body=body
    )
    if not hmac.compare_digest(expected, authorization):
        raise CallbackRefused("The signature does not match.")
