"""Carrier adapters: ``adapter_for(account)`` picks the one for a ``CarrierAccount``."""

from .base import (
    Address,
    Booking,
    BookingRequest,
    CarrierAdapter,
    CarrierError,
    CarrierRefused,
    CarrierUnavailable,
    Parcel,
    Rate,
    TrackingStatus,
    TrackingUpdate,
)


def adapter_for(account) -> CarrierAdapter:
    from .bring import BringAdapter
    from .manual import ManualAdapter

    adapters = {"manual": ManualAdapter, "bring": BringAdapter}
    return adapters[account.kind](account)


__all__ = [
    "Address",
    "Booking",
    "BookingRequest",
    "CarrierAdapter",
    "CarrierError",
    "CarrierRefused",
    "CarrierUnavailable",
    "Parcel",
    "Rate",
    "TrackingStatus",
    "TrackingUpdate",
    "adapter_for",
]
