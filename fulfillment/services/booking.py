"""Booking a carrier label for a packed shipment.

The carrier is called outside any database transaction (an outside call must never hold
row locks), between two short transactions: the first checks the shipment may be booked,
the second stores the label. A shipment already booked is not booked again, so a retry
after a timeout or a double click costs nothing.
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from oms_site.actors import Actor
from oms_site.errors import Conflict, ValidationFailed

from ..carriers import Address, BookingRequest, Parcel, adapter_for
from ..carriers.base import CarrierError, Rate
from ..models import CarrierAccount, CarrierService, Package, Shipment, ShipmentEvent
from ..models import ShipmentStatus as SS
from .events import lock_shipment, record_shipment_event


def sender_address(warehouse) -> Address:
    return Address(
        name=warehouse.name,
        line1=warehouse.address_line1,
        city=warehouse.city,
        postal_code=warehouse.postal_code,
        country=str(warehouse.country),
    )


def recipient_address(order) -> Address:
    address = order.shipping_address or {}
    return Address(
        name=address.get("name", ""),
        company=address.get("company", ""),
        line1=address.get("line1", ""),
        line2=address.get("line2", ""),
        city=address.get("city", ""),
        postal_code=address.get("postal_code", ""),
        country=address.get("country", ""),
        phone=address.get("phone", ""),
        email=order.email or (order.customer.email if order.customer_id else ""),
    )


def booking_request(shipment, *, service_code: str) -> BookingRequest:
    packages = list(shipment.packages.all())
    return BookingRequest(
        reference=shipment.number,
        order_reference=shipment.order.number,
        service_code=service_code,
        sender=sender_address(shipment.warehouse),
        recipient=recipient_address(shipment.order),
        parcels=[
            Parcel(
                weight_grams=p.weight_grams,
                length_mm=p.length_mm,
                width_mm=p.width_mm,
                height_mm=p.height_mm,
                reference=f"{shipment.number}-{p.sequence}",
            )
            for p in packages
        ],
        shipping_date=timezone.now(),
    )


def book_shipment(
    shipment,
    *,
    carrier: CarrierAccount,
    actor: Actor,
    service: CarrierService | None = None,
    tracking_number: str = "",
) -> Shipment:
    if service is not None and service.carrier_id != carrier.pk:
        raise ValidationFailed(
            f"{service.name} is not a service of {carrier.name}.",
            fields={"service": ["Not this carrier's."]},
        )
    if not carrier.active:
        raise ValidationFailed(f"{carrier.name} is inactive.", fields={"carrier": ["Inactive."]})
    with transaction.atomic():
        shipment = lock_shipment(shipment)
        if shipment.booked_at:
            if shipment.carrier_id == carrier.pk:
                return shipment  # already booked: a retry or a double click
            raise Conflict(
                f"Shipment {shipment.number} is already booked with {shipment.carrier_name}.",
                fields={"carrier": ["Already booked."]},
            )
        if shipment.status != SS.PACKED:
            raise Conflict(
                f"Shipment {shipment.number} is {shipment.get_status_display().lower()}; "
                "pack it before booking a label.",
                fields={"status": ["Must be packed."]},
            )
        request = booking_request(shipment, service_code=service.code if service else "")
    adapter = adapter_for(carrier)
    if carrier.kind == CarrierAccount.Kind.MANUAL:
        booking = adapter.book(request, tracking_number=tracking_number.strip())
    else:
        booking = adapter.book(request)
    with transaction.atomic():
        shipment = lock_shipment(shipment)
        if shipment.booked_at:
            return shipment
        shipment.carrier = carrier
        shipment.service = service
        shipment.carrier_name = carrier.name[:60]
        shipment.service_name = (service.name if service else "")[:100]
        shipment.tracking_number = booking.tracking_number[:100]
        shipment.tracking_url = booking.tracking_url[:500]
        shipment.booking_reference = booking.booking_reference[:100]
        shipment.label_pdf = booking.label_pdf
        shipment.label_zpl = booking.label_zpl
        shipment.booked_at = timezone.now()
        shipment.save()
        packages = list(shipment.packages.all())
        for package, number in zip(packages, booking.package_numbers, strict=False):
            package.tracking_number = number[:100]
        Package.objects.bulk_update(packages, ["tracking_number"])
        record_shipment_event(
            shipment,
            kind=ShipmentEvent.Kind.LABEL,
            actor=actor,
            message=f"Label booked with {carrier.name}: {booking.tracking_number}",
            details={"service": service.code if service else "", "packages": len(packages)},
        )
    return shipment


@dataclass(frozen=True)
class Quote:
    service: CarrierService
    rate: Rate | None
    problem: str = ""


def quote_rates(shipment) -> list[Quote]:
    """What each active carrier service would cost for this shipment's packages, and in how
    many working days it arrives, asked from the carriers now (outside any transaction). A
    carrier that does not answer is shown as such: booking it may still work."""
    if shipment.warehouse is None:
        return []
    services = CarrierService.objects.filter(active=True, carrier__active=True).select_related(
        "carrier"
    )
    quotes = []
    for service in services.order_by("carrier__name", "name"):
        try:
            rates = adapter_for(service.carrier).rates(
                booking_request(shipment, service_code=service.code)
            )
        except CarrierError as exc:
            quotes.append(Quote(service, None, exc.message))
            continue
        rate = next((r for r in rates if r.service_code == service.code), None)
        quotes.append(Quote(service, rate or (rates[0] if rates else None)))
    return quotes
