"""Bring (Posten Norge): Booking API, Tracking API v2 and Shipping Guide API v2.

Formats as Bring documents them for its developer site:

- Booking API — ``POST {base}/booking/api/create``, JSON with ``schemaVersion: 1``: one
  consignment per request (``shippingDateTime``, ``product.id`` + ``customerNumber``,
  ``correlationId``, ``parties.sender/recipient``, ``packages`` with ``weightInKg`` and
  ``dimensions`` in cm). The answer's ``consignments[].confirmation`` carries the
  ``consignmentNumber``, ``links.labels`` (a PDF to fetch with the same credentials),
  ``links.tracking`` and the ``packages[].packageNumber``; a refusal comes as
  ``consignments[].errors[]`` with ``code`` and ``messages[]``. Test bookings use the
  ``X-Bring-Test-Indicator`` header.
- Tracking API v2 — ``GET {base}/tracking/api/v2/tracking.json?q=<number>``:
  ``consignmentSet[].packageSet[].eventSet[]`` with ``status`` (DELIVERED, IN_TRANSIT,
  READY_FOR_PICKUP, DEVIATION, RETURN, ...), ``description``, ``dateIso``, ``city``,
  ``countryCode``. The same document is what our tracking webhook accepts from Bring.
- Shipping Guide API v2 — ``POST {base}/shippingguide/api/v2/products`` for prices.
Authentication: ``X-Mybring-API-Uid`` + ``X-Mybring-API-Key`` (+ ``X-Bring-Client-URL``).
Bring throttles booking at 18 requests/s with 429; those are retried after a pause.
"""

import hashlib
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .base import (
    Booking,
    BookingRequest,
    CarrierAdapter,
    CarrierRefused,
    Rate,
    TrackingStatus,
    TrackingUpdate,
)
from .http import request

BOOKING_API_SCHEMA_VERSION = 1
TRACKING_API_VERSION = "v2"
SHIPPING_GUIDE_API_VERSION = "v2"
DEFAULT_BASE_URL = "https://api.bring.com"
DEFAULT_TRACKING_URL = "https://tracking.bring.com/tracking/{tracking_number}"
CLIENT_URL = "https://github.com/oms/oms"

# Bring's event statuses (Tracking API v2) read as our shipment states.
STATUS_MAP = {
    "PRE_NOTIFIED": TrackingStatus.INFO,
    "NOTIFICATION_SENT": TrackingStatus.IN_TRANSIT,
    "HANDED_IN": TrackingStatus.IN_TRANSIT,
    "COLLECTED": TrackingStatus.IN_TRANSIT,
    "IN_TRANSIT": TrackingStatus.IN_TRANSIT,
    "TRANSPORT_TO_RECIPIENT": TrackingStatus.IN_TRANSIT,
    "READY_FOR_PICKUP": TrackingStatus.IN_TRANSIT,
    "CUSTOMS": TrackingStatus.IN_TRANSIT,
    "ATTEMPTED_DELIVERY": TrackingStatus.EXCEPTION,
    "DEVIATION": TrackingStatus.EXCEPTION,
    "DELIVERED": TrackingStatus.DELIVERED,
    "RETURN": TrackingStatus.RETURNED_TO_SENDER,
    "DELIVERED_SENDER": TrackingStatus.RETURNED_TO_SENDER,
}


def _party(address, reference=""):
    return {
        "name": address.company or address.name,
        "addressLine": address.line1,
        "addressLine2": address.line2 or None,
        "postalCode": address.postal_code,
        "city": address.city,
        "countryCode": address.country,
        "reference": reference or None,
        "contact": {
            "name": address.name,
            "email": address.email or None,
            "phoneNumber": address.phone or None,
        },
    }


def _cm(mm: int) -> int | None:
    return max(round(mm / 10), 1) if mm else None


class BringAdapter(CarrierAdapter):
    supports_tracking = True
    name = "Bring"

    @property
    def base_url(self) -> str:
        # An account's own address wins; OMS_BRING_BASE_URL points every account at a
        # sandbox (``make run`` starts one so the demo works offline).
        base = self.account.api_base_url or settings.OMS_BRING_BASE_URL or DEFAULT_BASE_URL
        return base.rstrip("/")

    def _headers(self) -> dict:
        credentials = self.account.credentials or {}
        return {
            "X-Mybring-API-Uid": credentials.get("api_uid", ""),
            "X-Mybring-API-Key": credentials.get("api_key", ""),
            "X-Bring-Client-URL": credentials.get("client_url", CLIENT_URL),
            "Accept": "application/json",
        }

    @property
    def customer_number(self) -> str:
        return str((self.account.credentials or {}).get("customer_number", ""))

    # --- booking ---

    def booking_body(self, booking: BookingRequest) -> dict:
        return {
            "schemaVersion": BOOKING_API_SCHEMA_VERSION,
            "consignments": [
                {
                    "shippingDateTime": booking.shipping_date.strftime("%Y-%m-%dT%H:%M:%S"),
                    "product": {"id": booking.service_code, "customerNumber": self.customer_number},
                    "correlationId": booking.reference,
                    "parties": {
                        "sender": _party(booking.sender, booking.reference),
                        "recipient": _party(booking.recipient, booking.order_reference),
                        "pickupPoint": None,
                    },
                    "packages": [
                        {
                            "correlationId": parcel.reference or f"{booking.reference}-{n}",
                            "weightInKg": round(max(parcel.weight_grams, 1) / 1000, 3),
                            "goodsDescription": parcel.description or None,
                            "dimensions": {
                                "heightInCm": _cm(parcel.height_mm),
                                "widthInCm": _cm(parcel.width_mm),
                                "lengthInCm": _cm(parcel.length_mm),
                            },
                        }
                        for n, parcel in enumerate(booking.parcels, start=1)
                    ],
                }
            ],
        }

    def book(self, booking: BookingRequest) -> Booking:
        headers = self._headers() | {
            "Content-Type": "application/json",
            "X-Bring-Test-Indicator": "true" if self.account.test_mode else "false",
        }
        # A booking is not safe to repeat after a server error (it may have been made):
        # only 429s and connection failures are retried.
        response = request(
            "POST",
            f"{self.base_url}/booking/api/create",
            carrier=self.name,
            retry_server_errors=False,
            answers=(400,),  # Bring explains a refused booking in its JSON
            json=self.booking_body(booking),
            headers=headers,
        )
        try:
            data = response.json()
        except ValueError:
            raise CarrierRefused(f"Bring answered {response.status_code} without JSON.")
        consignment = (data.get("consignments") or [{}])[0]
        errors = consignment.get("errors") or []
        if errors or not consignment.get("confirmation"):
            messages = [
                f"{error.get('code', '?')}: "
                + "; ".join(m.get("message", "") for m in error.get("messages") or [])
                for error in errors
            ] or ["No confirmation in Bring's answer."]
            raise CarrierRefused(
                "Bring refused the booking: " + " | ".join(messages)[:400],
                fields={"carrier": messages},
            )
        confirmation = consignment["confirmation"]
        links = confirmation.get("links") or {}
        label_pdf = None
        if links.get("labels"):
            label = request(
                "GET",
                links["labels"],
                carrier=self.name,
                retry_server_errors=True,
                headers=self._headers() | {"Accept": "application/pdf"},
            )
            label_pdf = label.content
        number = confirmation.get("consignmentNumber", "")
        return Booking(
            tracking_number=number,
            tracking_url=links.get("tracking")
            or self.account.tracking_url(number)
            or DEFAULT_TRACKING_URL.format(tracking_number=number),
            package_numbers=[p.get("packageNumber", "") for p in confirmation.get("packages", [])],
            label_pdf=label_pdf,
            booking_reference=str(confirmation.get("confirmationNumber") or number),
            raw=data,
        )

    # --- rates ---

    def rates(self, booking: BookingRequest) -> list[Rate]:
        body = {
            "consignments": [
                {
                    "id": booking.reference,
                    "fromCountryCode": booking.sender.country,
                    "fromPostalCode": booking.sender.postal_code,
                    "toCountryCode": booking.recipient.country,
                    "toPostalCode": booking.recipient.postal_code,
                    "shippingDate": {
                        "year": str(booking.shipping_date.year),
                        "month": f"{booking.shipping_date.month:02d}",
                        "day": f"{booking.shipping_date.day:02d}",
                    },
                    "packages": [
                        {"id": str(n), "grossWeight": max(p.weight_grams, 1)}
                        for n, p in enumerate(booking.parcels, start=1)
                    ],
                    "products": [
                        {"id": booking.service_code, "customerNumber": self.customer_number}
                    ],
                }
            ],
            "withPrice": True,
            "withExpectedDelivery": True,
        }
        response = request(
            "POST",
            f"{self.base_url}/shippingguide/api/{SHIPPING_GUIDE_API_VERSION}/products",
            carrier=self.name,
            retry_server_errors=True,
            json=body,
            headers=self._headers() | {"Content-Type": "application/json"},
        )
        rates = []
        for consignment in response.json().get("consignments", []):
            for product in consignment.get("products", []):
                price = (product.get("price") or {}).get("listPrice") or {}
                amount = (price.get("priceWithoutAdditionalServices") or {}).get("amountWithVAT")
                if amount is None:
                    continue
                delivery = product.get("expectedDelivery") or {}
                days = delivery.get("workingDays")
                rates.append(
                    Rate(
                        service_code=product.get("id", ""),
                        service_name=(product.get("guiInformation") or {}).get(
                            "displayName", product.get("id", "")
                        ),
                        amount=Decimal(str(amount)),
                        currency=price.get("currencyCode", "NOK"),
                        days=int(days) if str(days or "").isdigit() else None,
                    )
                )
        return rates

    # --- tracking ---

    def track(self, tracking_number: str) -> list[TrackingUpdate]:
        response = request(
            "GET",
            f"{self.base_url}/tracking/api/{TRACKING_API_VERSION}/tracking.json",
            carrier=self.name,
            retry_server_errors=True,
            params={"q": tracking_number},
            headers=self._headers(),
        )
        return self.parse_webhook(response.json(), default_number=tracking_number)

    def parse_webhook(self, payload: dict, default_number: str = "") -> list[TrackingUpdate]:
        if not isinstance(payload, dict):
            return []
        updates = []
        for consignment in payload.get("consignmentSet") or []:
            if not isinstance(consignment, dict) or consignment.get("error"):
                continue
            number = consignment.get("consignmentId") or default_number
            for package in consignment.get("packageSet") or []:
                for event in (package or {}).get("eventSet") or []:
                    update = self._update(number, event)
                    if update is not None:
                        updates.append(update)
        # Bring lists events newest first; we apply them in the order they happened.
        updates.sort(key=lambda u: u.occurred_at)
        return updates

    def _update(self, number, event) -> TrackingUpdate | None:
        if not isinstance(event, dict):
            return None
        carrier_status = str(event.get("status") or "").upper()
        occurred_at = parse_datetime(str(event.get("dateIso") or ""))
        if not carrier_status or occurred_at is None:
            return None
        if occurred_at.tzinfo is None:
            occurred_at = timezone.make_aware(occurred_at)
        place = ", ".join(
            p for p in (event.get("city"), event.get("countryCode")) if isinstance(p, str) and p
        )
        raw = f"{number}|{carrier_status}|{occurred_at.isoformat()}|{event.get('description', '')}"
        key = hashlib.sha256(raw.encode()).hexdigest()[:40]
        return TrackingUpdate(
            tracking_number=number,
            status=STATUS_MAP.get(carrier_status, TrackingStatus.INFO),
            carrier_status=carrier_status,
            description=str(event.get("description") or carrier_status)[:500],
            occurred_at=occurred_at,
            location=place,
            event_id=f"bring:{key}",
        )
