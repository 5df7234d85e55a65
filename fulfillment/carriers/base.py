"""The carrier adapter interface: rates, booking (with label), tracking.

An adapter speaks one carrier's documented wire format over HTTP and turns it into these
plain objects; services never see the carrier's JSON. Transient faults (429, 5xx,
timeouts) raise :class:`CarrierUnavailable` (safe to retry); refusals of the request
itself (bad address, unknown product) raise :class:`CarrierRefused`.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from oms_site.errors import DomainError


class CarrierError(DomainError):
    code = "carrier_error"
    status = 502


class CarrierUnavailable(CarrierError):
    """The carrier did not answer usefully (429, 5xx, timeout): try again later."""

    code = "carrier_unavailable"
    status = 503

    def __init__(self, message, *, retry_after: float | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class CarrierRefused(CarrierError):
    """The carrier refused the request itself (e.g. an address it can't deliver to)."""

    code = "carrier_refused"
    status = 422


@dataclass(frozen=True)
class Address:
    name: str
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str = ""
    company: str = ""
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class Parcel:
    weight_grams: int
    length_mm: int = 0
    width_mm: int = 0
    height_mm: int = 0
    reference: str = ""
    description: str = ""


@dataclass(frozen=True)
class BookingRequest:
    reference: str  # our shipment number: the carrier keeps it as correlation id
    service_code: str
    sender: Address
    recipient: Address
    parcels: list[Parcel]
    shipping_date: datetime
    order_reference: str = ""


@dataclass
class Booking:
    tracking_number: str
    tracking_url: str = ""
    package_numbers: list[str] = field(default_factory=list)
    label_pdf: bytes | None = None
    label_zpl: str = ""
    booking_reference: str = ""
    raw: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Rate:
    service_code: str
    service_name: str
    amount: Decimal
    currency: str
    days: int | None = None


class TrackingStatus:
    """Our reading of a carrier event; the shipment's machine follows it."""

    INFO = "info"  # pre-notified, label created: no state change
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    EXCEPTION = "exception"
    RETURNED_TO_SENDER = "returned_to_sender"


@dataclass(frozen=True)
class TrackingUpdate:
    tracking_number: str
    status: str  # a TrackingStatus value
    carrier_status: str  # the carrier's own code, kept as is
    description: str
    occurred_at: datetime
    location: str = ""
    event_id: str = ""  # stable key: the same event twice is recorded once


class CarrierAdapter:
    """What every carrier adapter offers. ``account`` is a ``CarrierAccount``."""

    supports_tracking = False

    def __init__(self, account):
        self.account = account

    def rates(self, request: BookingRequest) -> list[Rate]:
        raise NotImplementedError

    def book(self, request: BookingRequest) -> Booking:
        raise NotImplementedError

    def track(self, tracking_number: str) -> list[TrackingUpdate]:
        raise NotImplementedError

    def parse_webhook(self, payload: dict) -> list[TrackingUpdate]:
        """Tracking updates pushed to us in the carrier's format."""
        raise NotImplementedError
