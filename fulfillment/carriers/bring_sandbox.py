"""A local Bring sandbox: a small HTTP server that speaks the Booking API
(``POST /booking/api/create``, label PDFs), the Tracking API v2
(``GET /tracking/api/v2/tracking.json?q=``) and the Shipping Guide API v2 prices, in
Bring's documented formats, with scripted faults (429 with Retry-After, 5xx).

The tests use it in-process; ``make run`` starts it (``python -m
fulfillment.carriers.bring_sandbox --port N``) so the demo's Bring labels and tracking
work offline. Parcels move by the clock: pre-notified when booked, in transit after
``transit_after`` seconds, delivered after ``deliver_after``. Control endpoints for tests
and demos: ``POST /_sandbox/faults`` ``{"path": "/booking", "statuses": [429, 503]}`` and
``POST /_sandbox/events`` ``{"tracking_number", "status", "description", "city"}``.
"""

import argparse
import contextlib
import io
import itertools
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

DESCRIPTIONS = {
    "PRE_NOTIFIED": "The shipment has been pre-notified but not yet received by Bring.",
    "IN_TRANSIT": "The shipment is underway.",
    "TRANSPORT_TO_RECIPIENT": "The shipment has been loaded for delivery.",
    "DELIVERED": "The shipment has been delivered.",
    "ATTEMPTED_DELIVERY": "Delivery was attempted; nobody was at home.",
    "RETURN": "The shipment is on its way back to the sender.",
}


class BringSandbox:
    def __init__(self, host="127.0.0.1", port=0, *, transit_after=60.0, deliver_after=300.0):
        self.transit_after = transit_after
        self.deliver_after = deliver_after
        self.requests = []
        self.bookings = {}  # consignment number -> booking
        self.extra_events = {}  # consignment number -> [event]
        self.faults = []  # [(path prefix, status, retry_after)]
        self.lock = threading.Lock()
        self._numbers = itertools.count(int(time.time()) % 1_000_000 * 10)
        sandbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                sandbox._handle(self, "GET")

            def do_POST(self):  # noqa: N802
                sandbox._handle(self, "POST")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- scripting ---

    def fail_next(self, path_prefix: str, *statuses: int, retry_after: float | None = 0):
        with self.lock:
            self.faults.extend((path_prefix, status, retry_after) for status in statuses)

    def add_event(self, number, status, description="", city="Oslo", when=None):
        event = self._event(status, when or datetime.now(UTC), city, description)
        with self.lock:
            self.extra_events.setdefault(number, []).append(event)

    # --- the HTTP side ---

    def _handle(self, handler, method):
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        with self.lock:
            self.requests.append(
                {
                    "method": method,
                    "path": parts.path,
                    "headers": dict(handler.headers),
                    "body": body,
                }
            )
            fault = next((f for f in self.faults if parts.path.startswith(f[0])), None)
            if fault:
                self.faults.remove(fault)
        if fault:
            extra = (
                {"Retry-After": str(fault[2])} if fault[1] == 429 and fault[2] is not None else {}
            )
            return self._json(handler, fault[1], {"error": f"sandbox fault {fault[1]}"}, extra)
        if parts.path.startswith("/_sandbox/"):
            return self._control(handler, parts.path, body)
        if method == "POST" and parts.path == "/booking/api/create":
            if not self._authenticated(handler):
                return self._json(handler, 401, {"error": "Missing X-Mybring-API-Uid/Key"})
            return self._book(handler, body)
        if method == "GET" and parts.path.startswith("/booking/labels/"):
            return self._label(handler, parts.path.rsplit("/", 1)[-1].removesuffix(".pdf"))
        if method == "GET" and parts.path == "/tracking/api/v2/tracking.json":
            query = parse_qs(parts.query).get("q", [""])[0]
            return self._json(handler, 200, self.tracking_document(query))
        if method == "GET" and parts.path.startswith("/tracking/"):
            number = parts.path.rsplit("/", 1)[-1]
            html = f"<!doctype html><title>Bring sandbox</title><h1>Tracking {number}</h1>"
            return self._send(handler, 200, html.encode(), "text/html; charset=utf-8")
        if method == "POST" and parts.path == "/shippingguide/api/v2/products":
            return self._prices(handler, body)
        return self._json(handler, 404, {"error": "unknown endpoint"})

    @staticmethod
    def _authenticated(handler) -> bool:
        return bool(handler.headers.get("X-Mybring-API-Uid")) and bool(
            handler.headers.get("X-Mybring-API-Key")
        )

    def _send(self, handler, status, payload: bytes, content_type, extra=None):
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(payload)))
        for key, value in (extra or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(payload)

    def _json(self, handler, status, data, extra=None):
        self._send(handler, status, json.dumps(data).encode(), "application/json", extra)

    def _control(self, handler, path, body):
        data = json.loads(body or b"{}")
        if path == "/_sandbox/faults":
            self.fail_next(data.get("path", "/"), *data.get("statuses", []), retry_after=0)
        elif path == "/_sandbox/events":
            self.add_event(
                data["tracking_number"],
                data["status"],
                data.get("description", ""),
                data.get("city", "Oslo"),
            )
        return self._json(handler, 200, {"ok": True})

    # --- booking ---

    def _book(self, handler, body):
        try:
            request = json.loads(body)
            consignment = request["consignments"][0]
            assert request.get("schemaVersion") == 1
        except (ValueError, KeyError, IndexError, TypeError, AssertionError):
            return self._json(
                handler,
                400,
                {"consignments": [{"errors": [_error("BOOK-INPUT-001", "Invalid request")]}]},
            )
        recipient = (consignment.get("parties") or {}).get("recipient") or {}
        errors = []
        if not recipient.get("postalCode"):
            errors.append(_error("BOOK-INPUT-024", "Recipient postal code is missing"))
        if not (consignment.get("product") or {}).get("id"):
            errors.append(_error("BOOK-INPUT-010", "Product id is missing"))
        if not consignment.get("packages"):
            errors.append(_error("BOOK-INPUT-030", "At least one package is required"))
        correlation = consignment.get("correlationId")
        if errors:
            return self._json(
                handler, 400, {"consignments": [{"correlationId": correlation, "errors": errors}]}
            )
        serial = next(self._numbers)
        number = f"70438101{serial:09d}"
        packages = [
            {
                "correlationId": p.get("correlationId"),
                "packageNumber": f"3704381019{serial:06d}{n:02d}",
            }
            for n, p in enumerate(consignment["packages"], start=1)
        ]
        now = datetime.now(UTC)
        with self.lock:
            self.bookings[number] = {
                "booked_at": now,
                "recipient": recipient,
                "sender": consignment["parties"].get("sender") or {},
                "product": consignment["product"]["id"],
                "packages": packages,
                "test": handler.headers.get("X-Bring-Test-Indicator") == "true",
            }
        base = f"http://{handler.headers.get('Host')}"
        return self._json(
            handler,
            200,
            {
                "consignments": [
                    {
                        "correlationId": correlation,
                        "confirmation": {
                            "consignmentNumber": number,
                            "productSpecificData": None,
                            "links": {
                                "labels": f"{base}/booking/labels/{number}.pdf",
                                "waybill": None,
                                "tracking": f"{base}/tracking/{number}",
                            },
                            "dateAndTimes": {
                                "earliestPickup": None,
                                "expectedDelivery": (now + timedelta(days=2)).isoformat(),
                            },
                            "packages": packages,
                        },
                        "errors": None,
                    }
                ]
            },
        )

    def _label(self, handler, number):
        booking = self.bookings.get(number)
        if booking is None:
            return self._json(handler, 404, {"error": "no such label"})
        from reportlab.graphics.barcode import code128
        from reportlab.lib.pagesizes import A6
        from reportlab.lib.units import mm
        from reportlab.pdfgen import canvas

        buffer = io.BytesIO()
        pdf = canvas.Canvas(buffer, pagesize=A6)
        width, height = A6
        for n, package in enumerate(booking["packages"], start=1):
            pdf.setFont("Helvetica-Bold", 16)
            pdf.drawString(6 * mm, height - 12 * mm, f"Bring {booking['product']}")
            pdf.setFont("Helvetica", 9)
            pdf.drawString(
                6 * mm, height - 18 * mm, f"Sandbox label {n}/{len(booking['packages'])}"
            )
            recipient = booking["recipient"]
            y = height - 30 * mm
            pdf.setFont("Helvetica-Bold", 12)
            for text in (
                recipient.get("name"),
                recipient.get("addressLine"),
                f"{recipient.get('postalCode', '')} {recipient.get('city', '')}",
                recipient.get("countryCode"),
            ):
                if text:
                    pdf.drawString(10 * mm, y, str(text)[:40])
                    y -= 6 * mm
            pdf.setFont("Helvetica", 9)
            pdf.drawString(6 * mm, 40 * mm, f"Consignment {number}")
            code128.Code128(package["packageNumber"], barHeight=18 * mm, barWidth=0.33 * mm).drawOn(
                pdf, 6 * mm, 12 * mm
            )
            pdf.showPage()
        pdf.save()
        return self._send(handler, 200, buffer.getvalue(), "application/pdf")

    # --- tracking ---

    @staticmethod
    def _event(status, when, city, description=""):
        return {
            "description": description or DESCRIPTIONS.get(status, status),
            "status": status,
            "city": city,
            "postalCode": "0001" if city == "Oslo" else "",
            "countryCode": "NO",
            "country": "Norway",
            "dateIso": when.isoformat(timespec="seconds"),
            "displayDate": when.strftime("%d.%m.%Y"),
            "displayTime": when.strftime("%H:%M"),
            "consignmentEvent": False,
        }

    def tracking_document(self, number):
        with self.lock:
            if number not in self.bookings and number.isdigit() and number.startswith("70438"):
                # A consignment booked before this sandbox started (the demo's parcels
                # underway): it is picked up now and moves on by the clock from here.
                self.bookings[number] = {
                    "booked_at": datetime.now(UTC),
                    "recipient": {"city": "Oslo"},
                    "packages": [{"packageNumber": f"3{number}01"}],
                }
        booking = self.bookings.get(number)
        extra = self.extra_events.get(number, [])
        if booking is None and not extra:
            return {
                "apiVersion": "2",
                "consignmentSet": [{"error": {"code": 404, "message": "No shipment found"}}],
            }
        events = []
        if booking is not None:
            booked = booking["booked_at"]
            age = (datetime.now(UTC) - booked).total_seconds()
            events.append(self._event("PRE_NOTIFIED", booked, "Oslo"))
            if age >= self.transit_after:
                events.append(
                    self._event(
                        "IN_TRANSIT", booked + timedelta(seconds=self.transit_after), "Oslo"
                    )
                )
            if age >= self.deliver_after:
                city = (booking["recipient"] or {}).get("city", "Oslo")
                events.append(
                    self._event("DELIVERED", booked + timedelta(seconds=self.deliver_after), city)
                )
        events += extra
        events.sort(key=lambda e: e["dateIso"], reverse=True)  # Bring lists newest first
        packages = (booking or {}).get("packages") or [{"packageNumber": number + "01"}]
        return {
            "apiVersion": "2",
            "consignmentSet": [
                {
                    "consignmentId": number,
                    "packageSet": [
                        {"packageNumber": p["packageNumber"], "eventSet": events}
                        for p in packages[:1]
                    ],
                }
            ],
        }

    # --- prices ---

    def _prices(self, handler, body):
        request = json.loads(body or b"{}")
        consignments = []
        for consignment in request.get("consignments", []):
            grams = sum(int(p.get("grossWeight", 0)) for p in consignment.get("packages", []))
            amount = round(79 + grams / 1000 * 12, 2)
            consignments.append(
                {
                    "id": consignment.get("id"),
                    "products": [
                        {
                            "id": product.get("id"),
                            "guiInformation": {"displayName": f"Bring {product.get('id')}"},
                            "price": {
                                "listPrice": {
                                    "currencyCode": "NOK",
                                    "priceWithoutAdditionalServices": {
                                        "amountWithVAT": str(amount),
                                        "amountWithoutVAT": str(round(amount / 1.25, 2)),
                                    },
                                }
                            },
                            "expectedDelivery": {"workingDays": "2"},
                        }
                        for product in consignment.get("products", [])
                    ],
                }
            )
        return self._json(handler, 200, {"consignments": consignments})


def _error(code, message):
    return {
        "uniqueId": code.lower(),
        "code": code,
        "messages": [{"lang": "en", "message": message}],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description="Local Bring API sandbox for the demo.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8190)
    parser.add_argument("--transit-after", type=float, default=60.0)
    parser.add_argument("--deliver-after", type=float, default=300.0)
    args = parser.parse_args(argv)
    sandbox = BringSandbox(
        args.host, args.port, transit_after=args.transit_after, deliver_after=args.deliver_after
    )
    print(f"Bring sandbox on {sandbox.url}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        sandbox.server.serve_forever()
    sandbox.server.server_close()


if __name__ == "__main__":
    main()
