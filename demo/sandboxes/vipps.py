"""A local stand-in for Vipps MobilePay's ePayment API v1 and Access Token API.

It speaks the documented wire format — ``POST /accesstoken/get``; ``POST
/epayment/v1/payments``; ``GET /epayment/v1/payments/{reference}``; ``POST .../capture``,
``.../refund``, ``.../cancel`` with ``{"modificationAmount": {"currency", "value"}}`` in
minor units and a required ``Idempotency-Key``; ``POST
/epayment/v1/test/payments/{reference}/approve`` (the test environment's force-approve) —
with RFC 7807 problems for refusals, and signed webhook callbacks
(``epayments.payment.*.v1`` payloads, HMAC-SHA256 as documented). A payment created with
``userFlow`` WEB_REDIRECT gets a ``redirectUrl`` to the sandbox's own landing page
(``/landing/{reference}``), where "Approve" or "Reject" stands in for the app and sends
the customer back to the ``returnUrl``.

For tests and the demo it can be told to misbehave on the next calls: decline, answer
5xx or 429, or time out *after* doing the work (the answer is lost, the money moved —
the case idempotency keys exist for). Repeating a request with the same key returns the
first answer and moves nothing twice.

Run it alone: ``python -m demo.sandboxes.vipps --port 8551 --callback-url URL``.
"""

import argparse
import contextlib
import html
import json
import re
import secrets
import threading
import time
import uuid
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import requests

CLIENT_ID = "demo-client-id"
CLIENT_SECRET = "demo-client-secret"
SUBSCRIPTION_KEY = "demo-subscription-key"
MSN = "123456"
WEBHOOK_SECRET = "demo-webhook-secret"
TOKEN_SECONDS = 3600
REFERENCE = re.compile(r"^[a-zA-Z0-9-]{8,50}$")
PATH = re.compile(r"^/epayment/v1/payments/([^/]+)(?:/(capture|refund|cancel))?$")
APPROVE = re.compile(r"^/epayment/v1/test/payments/([^/]+)/approve$")
# The page a customer is sent to (``redirectUrl``): in the real service the Vipps or
# MobilePay landing page; here a page with "Approve" and "Reject" for the demo.
LANDING = re.compile(r"^/landing/([a-zA-Z0-9-]{8,50})(?:/(approve|reject))?$")


def problem(status, title, detail, code=None) -> dict:
    body = {
        "type": f"https://httpstatuses.io/{status}",
        "title": title,
        "detail": detail,
        "status": status,
        "traceId": uuid.uuid4().hex,
    }
    if code:
        body["extraDetails"] = [{"name": "ErrorCode", "reason": str(code)}]
    return body


def amount(value, currency) -> dict:
    return {"currency": currency, "value": int(value)}


class VippsSandbox:
    """State and behaviour; ``Handler`` below only speaks HTTP."""

    def __init__(self, *, callback_url: str = "", token_seconds: int = TOKEN_SECONDS):
        self.lock = threading.Lock()
        self.payments: dict[str, dict] = {}
        self.answers: dict[str, tuple[int, dict]] = {}  # Idempotency-Key -> first answer
        self.tokens: dict[str, float] = {}
        self.faults: list[dict] = []
        self.requests: list[dict] = []
        self.callback_url = callback_url
        self.token_seconds = token_seconds
        self.url = ""  # where the sandbox answers, for its landing page links
        self.sent_callbacks: list[dict] = []
        # Seconds every create-payment request takes, as a slow provider's would.
        self.create_latency = 0.0

    # --- set-up helpers for tests and the demo ---

    def create_payment(self, reference, value, currency="NOK", *, approved=True) -> dict:
        with self.lock:
            payment = {
                "reference": reference,
                "pspReference": str(uuid.uuid4()),
                "amount": amount(value, currency),
                "state": "AUTHORIZED" if approved else "CREATED",
                "authorized": value if approved else 0,
                "captured": 0,
                "refunded": 0,
                "cancelled": 0,
            }
            self.payments[reference] = payment
            return payment

    def fail_next(self, operation: str, kind: str, **options) -> None:
        """The next ``operation`` (capture, refund, cancel, get, token) misbehaves:
        ``decline`` (400 problem), ``server_error`` (500, nothing done), ``throttle`` (429),
        ``timeout`` (the work is done, the answer comes too late)."""
        with self.lock:
            self.faults.append({"operation": operation, "kind": kind, **options})

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    def _fault(self, operation):
        with self.lock:
            for index, fault in enumerate(self.faults):
                if fault["operation"] == operation:
                    return self.faults.pop(index)
        return None

    # --- the API ---

    def token(self, headers) -> tuple[int, dict]:
        fault = self._fault("token")
        if fault and fault["kind"] == "server_error":
            return 500, problem(500, "Internal Server Error", "Try again.")
        if (
            headers.get("client_id") != CLIENT_ID
            or headers.get("client_secret") != CLIENT_SECRET
            or headers.get("Ocp-Apim-Subscription-Key") != SUBSCRIPTION_KEY
        ):
            return 401, {"error": "invalid_client"}
        token = secrets.token_urlsafe(24)
        now = time.time()
        with self.lock:
            self.tokens[token] = now + self.token_seconds
        return 200, {
            "token_type": "Bearer",
            "expires_in": str(self.token_seconds),
            "ext_expires_in": str(self.token_seconds),
            "expires_on": str(int(now + self.token_seconds)),
            "not_before": str(int(now)),
            "resource": "00000002-0000-0000-c000-000000000000",
            "access_token": token,
        }

    def authorised(self, headers) -> bool:
        auth = headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ")
        with self.lock:
            expires = self.tokens.get(token)
        return (
            expires is not None
            and expires > time.time()
            and headers.get("Ocp-Apim-Subscription-Key") == SUBSCRIPTION_KEY
            and headers.get("Merchant-Serial-Number") == MSN
        )

    def view(self, payment) -> dict:
        currency = payment["amount"]["currency"]
        return {
            "aggregate": {
                "authorizedAmount": amount(payment["authorized"], currency),
                "cancelledAmount": amount(payment["cancelled"], currency),
                "capturedAmount": amount(payment["captured"], currency),
                "refundedAmount": amount(payment["refunded"], currency),
            },
            "amount": payment["amount"],
            "state": payment["state"],
            "paymentMethod": {"type": "WALLET"},
            "profile": {},
            "pspReference": payment["pspReference"],
            "reference": payment["reference"],
        }

    def get(self, reference) -> tuple[int, dict]:
        fault = self._fault("get")
        if fault and fault["kind"] == "server_error":
            return 503, problem(503, "Service Unavailable", "Try again later.")
        payment = self.payments.get(reference)
        if payment is None:
            return 404, problem(404, "Not Found", f"No payment {reference}.")
        return 200, self.view(payment)

    def create(self, body, key) -> tuple[int, dict]:
        if not key or len(key) > 50:
            return 400, problem(400, "Bad Request", "The Idempotency-Key header is required.")
        if self.create_latency:
            time.sleep(self.create_latency)
        with self.lock:
            if key in self.answers:
                return self.answers[key]
        fault = self._fault("create")
        if fault and fault["kind"] == "server_error":
            return 500, problem(500, "Internal Server Error", "Something went wrong.")
        if fault and fault["kind"] == "throttle":
            return 429, problem(429, "Too Many Requests", "Slow down.")
        answer = self._create(body)
        with self.lock:
            self.answers[key] = answer
        return answer

    def _create(self, body) -> tuple[int, dict]:
        reference = body.get("reference", "")
        if not REFERENCE.match(reference):
            return 400, problem(400, "Bad Request", "reference must match ^[a-zA-Z0-9-]{8,50}$")
        if reference in self.payments:
            return 409, problem(409, "Conflict", "The reference is already used.")
        value = body.get("amount", {}).get("value")
        currency = body.get("amount", {}).get("currency", "NOK")
        if not isinstance(value, int) or value < 100:
            return 400, problem(400, "Bad Request", "amount.value must be at least 100.")
        if body.get("userFlow") == "WEB_REDIRECT" and not str(body.get("returnUrl", "")).startswith(
            ("https://", "http://")
        ):
            return 400, problem(400, "Bad Request", "returnUrl is required for WEB_REDIRECT.")
        payment = self.create_payment(reference, value, currency, approved=False)
        payment["returnUrl"] = body.get("returnUrl", "")
        payment["description"] = str(body.get("paymentDescription", ""))[:100]
        return 201, {"reference": reference, "redirectUrl": f"{self.url}/landing/{reference}"}

    def reject(self, reference) -> tuple[int, dict]:
        """The customer said no in the app: the payment is ABORTED (and a callback says so)."""
        with self.lock:
            payment = self.payments.get(reference)
            if payment is None or payment["state"] != "CREATED":
                return 404, problem(404, "Not Found", f"No open payment {reference}.")
            payment["state"] = "ABORTED"
        self.callback(payment, "ABORTED", payment["amount"]["value"], None)
        return 200, {}

    def approve(self, reference) -> tuple[int, dict]:
        with self.lock:
            payment = self.payments.get(reference)
            if payment is None:
                return 404, problem(404, "Not Found", f"No payment {reference}.")
            payment["state"] = "AUTHORIZED"
            payment["authorized"] = payment["amount"]["value"]
        self.callback(payment, "AUTHORIZED", payment["amount"]["value"], None)
        return 200, {}

    def modify(self, reference, operation, body, key) -> tuple[int, dict]:
        if not key or len(key) > 50:
            return 400, problem(400, "Bad Request", "The Idempotency-Key header is required.")
        with self.lock:
            if key in self.answers:
                return self.answers[key]
        fault = self._fault(operation)
        if fault and fault["kind"] == "server_error":
            return 500, problem(500, "Internal Server Error", "Something went wrong.")
        if fault and fault["kind"] == "throttle":
            return 429, problem(429, "Too Many Requests", "Slow down.")
        if fault and fault["kind"] == "decline":
            answer = (400, problem(400, fault.get("title", "Declined"), "Refused.", 6080))
            with self.lock:
                self.answers[key] = answer
            return answer
        answer = self._apply(reference, operation, body)
        with self.lock:
            self.answers[key] = answer
        if answer[0] == 200:
            name = {"capture": "CAPTURED", "refund": "REFUNDED", "cancel": "CANCELLED"}[operation]
            self.callback(self.payments[reference], name, answer[1]["amount"]["value"], key)
        if fault and fault["kind"] == "timeout":
            time.sleep(fault.get("seconds", 2))
        return answer

    def _apply(self, reference, operation, body) -> tuple[int, dict]:
        with self.lock:
            payment = self.payments.get(reference)
            if payment is None:
                return 404, problem(404, "Not Found", f"No payment {reference}.")
            currency = payment["amount"]["currency"]
            wanted = (body or {}).get("modificationAmount") or {}
            value = wanted.get("value")
            valid = isinstance(value, int) and value > 0 and wanted.get("currency") == currency
            if operation != "cancel" and not valid:
                return 400, problem(400, "Bad Request", "modificationAmount is not valid.")
            if payment["state"] != "AUTHORIZED":
                return 400, problem(
                    400,
                    "Cannot modify payment",
                    f"The payment is {payment['state']}.",
                    6080,
                )
            open_amount = payment["authorized"] - payment["captured"] - payment["cancelled"]
            if operation == "capture":
                if value > open_amount:
                    return 400, problem(
                        400, "Capture amount too high", "More than is reserved.", 6010
                    )
                payment["captured"] += value
            elif operation == "refund":
                if value > payment["captured"] - payment["refunded"]:
                    return 400, problem(
                        400, "Refund amount too high", "More than is captured.", 6040
                    )
                payment["refunded"] += value
            else:
                value = open_amount
                if value <= 0:
                    return 400, problem(400, "Cannot cancel", "Nothing left to cancel.", 6090)
                payment["cancelled"] += value
            view = self.view(payment)
        return 200, {**view, "amount": amount(value, currency)}

    # --- callbacks ---

    def callback(self, payment, name, value, key) -> None:
        event = {
            "msn": MSN,
            "reference": payment["reference"],
            "pspReference": payment["pspReference"],
            "name": name,
            "amount": amount(value, payment["amount"]["currency"]),
            "timestamp": datetime.now(UTC).isoformat(),
            "idempotencyKey": key,
            "success": True,
        }
        self.sent_callbacks.append(event)
        if self.callback_url:
            threading.Thread(target=self._post_callback, args=(event,), daemon=True).start()

    def _post_callback(self, event) -> None:
        from orders.payments.gateways.vipps import content_hash, sign_callback

        body = json.dumps(event).encode()
        parts = urlsplit(self.callback_url)
        date = format_datetime(datetime.now(UTC), usegmt=True)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {
            "Content-Type": "application/json",
            "x-ms-date": date,
            "x-ms-content-sha256": content_hash(body),
            "Authorization": sign_callback(
                secret=WEBHOOK_SECRET, path_and_query=path, date=date, host=parts.netloc, body=body
            ),
        }
        # Lost callbacks are fine: Vipps retries, and the OMS asks about pending ones.
        with contextlib.suppress(requests.RequestException):
            requests.post(self.callback_url, data=body, headers=headers, timeout=10)


def make_handler(sandbox: VippsSandbox):
    class Handler(BaseHTTPRequestHandler):
        def _send(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            kind = "application/problem+json" if status >= 400 else "application/json"
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                return json.loads(raw) if raw else {}
            except ValueError:
                return None

        def _record(self, body):
            sandbox.requests.append(
                {"method": self.command, "path": self.path, "headers": dict(self.headers),
                 "body": body}
            )  # fmt: skip

        def _landing(self, reference, action):
            """The customer's approval page (no API token: the customer's browser)."""
            payment = sandbox.payments.get(reference)
            if payment is None:
                return self._send(404, problem(404, "Not Found", reference))
            if action:
                status, _ = (sandbox.approve if action == "approve" else sandbox.reject)(reference)
                back = payment.get("returnUrl") or "/"
                self.send_response(303 if status == 200 else 409)
                self.send_header("Location", back)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            value = payment["amount"]
            figure = f"{value['value'] / 100:.2f} {value['currency']}"
            page = (
                "<!doctype html><meta charset=utf-8><meta name=viewport "
                "content='width=device-width'><title>Vipps MobilePay (sandbox)</title>"
                f"<h1>Vipps MobilePay sandbox</h1><p>{html.escape(payment.get('description', ''))}"
                f"</p><p><strong>{html.escape(figure)}</strong> ({html.escape(payment['state'])})"
                f"</p><form method=post action='/landing/{reference}/approve'>"
                "<button>Approve</button></form>"
                f"<form method=post action='/landing/{reference}/reject'>"
                "<button>Reject</button></form>"
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)
            return None

        def do_POST(self):  # noqa: N802 (http.server's naming)
            landing = LANDING.match(self.path)
            if landing and landing[2]:
                self._record(None)
                return self._landing(landing[1], landing[2])
            body = self._body()
            self._record(body)
            if self.path == "/accesstoken/get":
                return self._send(*sandbox.token(self.headers))
            if body is None:
                return self._send(400, problem(400, "Bad Request", "The body is not JSON."))
            if not sandbox.authorised(self.headers):
                return self._send(401, problem(401, "Unauthorized", "Invalid or expired token."))
            if self.path == "/epayment/v1/payments":
                return self._send(*sandbox.create(body, self.headers.get("Idempotency-Key")))
            match = APPROVE.match(self.path)
            if match:
                return self._send(*sandbox.approve(match[1]))
            match = PATH.match(self.path)
            if match and match[2]:
                return self._send(
                    *sandbox.modify(match[1], match[2], body, self.headers.get("Idempotency-Key"))
                )
            return self._send(404, problem(404, "Not Found", self.path))

        def do_GET(self):  # noqa: N802
            self._record(None)
            landing = LANDING.match(self.path)
            if landing and not landing[2]:
                return self._landing(landing[1], None)
            if not sandbox.authorised(self.headers):
                return self._send(401, problem(401, "Unauthorized", "Invalid or expired token."))
            match = PATH.match(self.path)
            if match and not match[2]:
                return self._send(*sandbox.get(match[1]))
            return self._send(404, problem(404, "Not Found", self.path))

        def log_message(self, *args):
            pass

    return Handler


class VippsServer:
    """Runs the sandbox on 127.0.0.1 (port 0: any free port) in a thread."""

    def __init__(self, *, port: int = 0, callback_url: str = "", token_seconds=TOKEN_SECONDS):
        self.sandbox = VippsSandbox(callback_url=callback_url, token_seconds=token_seconds)
        self.server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(self.sandbox))
        self.sandbox.url = self.url
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def settings(self, **overrides) -> dict:
        """``OMS_VIPPS`` for an OMS that talks to this sandbox."""
        return {
            "base_url": self.url,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "subscription_key": SUBSCRIPTION_KEY,
            "msn": MSN,
            "webhook_secret": WEBHOOK_SECRET,
            "timeout": 1.0,
            **overrides,
        }

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8551)
    parser.add_argument("--callback-url", default="")
    args = parser.parse_args()
    server = VippsServer(port=args.port, callback_url=args.callback_url)
    print(f"Vipps MobilePay sandbox on {server.url} (callbacks to {args.callback_url or '-'})")
    server.server.serve_forever()


if __name__ == "__main__":
    main()
