"""The built-in "own courier / manual" carrier: no outside system.

Booking makes our own label (PDF and ZPL) with the tracking number typed at the ship
screen, or one we make up from the shipment number; tracking updates come from a person
(the ship screen's "delivered" button) or from the courier's app through our signed
tracking webhook in the generic format below.

Generic webhook format: ``{"updates": [{"tracking_number", "status" (in_transit |
delivered | exception | returned_to_sender | info), "description", "occurred_at"
(ISO 8601), "location", "event_id"}]}``.
"""

from decimal import Decimal

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .base import Booking, BookingRequest, CarrierAdapter, Rate, TrackingStatus, TrackingUpdate

STATUSES = {
    TrackingStatus.INFO,
    TrackingStatus.IN_TRANSIT,
    TrackingStatus.DELIVERED,
    TrackingStatus.EXCEPTION,
    TrackingStatus.RETURNED_TO_SENDER,
}


class ManualAdapter(CarrierAdapter):
    supports_tracking = False

    def rates(self, request: BookingRequest) -> list[Rate]:
        credentials = self.account.credentials or {}
        amount = Decimal(str(credentials.get("flat_rate", "0")))
        currency = credentials.get("currency", "EUR")
        return [Rate(request.service_code or "standard", "Standard", amount, currency)]

    def book(self, request: BookingRequest, tracking_number: str = "") -> Booking:
        from ..documents import label_pdf, label_zpl

        number = tracking_number or request.reference.replace("-", "")
        return Booking(
            tracking_number=number,
            tracking_url=self.account.tracking_url(number),
            package_numbers=[f"{number}-{n}" for n in range(1, len(request.parcels) + 1)],
            label_pdf=label_pdf(request, number, carrier_name=self.account.name),
            label_zpl=label_zpl(request, number, carrier_name=self.account.name),
            booking_reference=number,
        )

    def parse_webhook(self, payload: dict) -> list[TrackingUpdate]:
        updates = []
        items = payload.get("updates") if isinstance(payload, dict) else None
        for item in items or []:
            if not isinstance(item, dict):
                continue
            status = str(item.get("status", ""))
            occurred_at = parse_datetime(str(item.get("occurred_at", "")))
            number = str(item.get("tracking_number", ""))
            if status not in STATUSES or occurred_at is None or not number:
                continue
            if occurred_at.tzinfo is None:
                occurred_at = timezone.make_aware(occurred_at)
            updates.append(
                TrackingUpdate(
                    tracking_number=number,
                    status=status,
                    carrier_status=status.upper(),
                    description=str(item.get("description") or status)[:500],
                    occurred_at=occurred_at,
                    location=str(item.get("location") or "")[:200],
                    event_id=str(item.get("event_id") or "")[:100],
                )
            )
        return updates
