"""The return label: booked through the carrier adapter, from the customer to the return
warehouse.

The carrier is called outside any database transaction, between two short ones (as
``fulfillment.services.booking`` books outgoing labels): the first checks the return may
get a label, the second stores it and moves the return to ``label_sent``. A return that
has its label is not booked again, so a retry or a double click costs nothing.
"""

from django.db import transaction
from django.utils import timezone

from fulfillment.carriers import BookingRequest, Parcel, adapter_for
from fulfillment.models import CarrierAccount, CarrierService
from fulfillment.services.booking import recipient_address, sender_address
from oms_site.actors import Actor
from oms_site.errors import Conflict, ValidationFailed

from ..models import ReturnRequest, ReturnStatus
from .events import lock_return, transition

# A returned parcel's weight when the SKUs carry none.
DEFAULT_WEIGHT_GRAMS = 1000


def _booking_request(request: ReturnRequest, service_code: str) -> BookingRequest:
    lines = list(request.lines.select_related("order_line__sku"))
    weight = sum((line.order_line.sku.weight_grams or 0) * line.quantity for line in lines)
    return BookingRequest(
        reference=request.number,
        order_reference=request.order.number,
        service_code=service_code,
        # Back to front: the customer sends, the return warehouse receives.
        sender=recipient_address(request.order),
        recipient=sender_address(request.warehouse),
        parcels=[
            Parcel(
                weight_grams=weight or DEFAULT_WEIGHT_GRAMS,
                reference=request.number,
                description="Return",
            )
        ],
        shipping_date=timezone.now(),
    )


def send_return_label(
    request: ReturnRequest,
    *,
    carrier: CarrierAccount,
    actor: Actor,
    service: CarrierService | None = None,
) -> ReturnRequest:
    if service is not None and service.carrier_id != carrier.pk:
        raise ValidationFailed(
            f"{service.name} is not a service of {carrier.name}.",
            fields={"service": ["Not this carrier's."]},
        )
    if not carrier.active:
        raise ValidationFailed(f"{carrier.name} is inactive.", fields={"carrier": ["Inactive."]})
    with transaction.atomic():
        request = lock_return(request)
        if request.label_booked_at:
            return request
        if request.status != ReturnStatus.APPROVED:
            raise Conflict(
                f"Return {request.number} is {request.get_status_display().lower()}; "
                "approve it before booking a label.",
                fields={"status": ["Must be approved."]},
                code="transition_not_allowed",
            )
        booking_request = _booking_request(request, service.code if service else "")
    booking = adapter_for(carrier).book(booking_request)
    with transaction.atomic():
        request = lock_return(request)
        if request.label_booked_at:
            return request
        request.carrier = carrier
        request.carrier_name = carrier.name[:60]
        request.service_code = (service.code if service else "")[:40]
        request.tracking_number = booking.tracking_number[:100]
        request.tracking_url = booking.tracking_url[:500]
        request.label_pdf = booking.label_pdf
        request.label_zpl = booking.label_zpl
        request.label_booked_at = timezone.now()
        return transition(
            request,
            "label_sent",
            actor=actor,
            message=f"Return label booked with {carrier.name}: {booking.tracking_number}",
            details={"tracking_number": booking.tracking_number},
        )
