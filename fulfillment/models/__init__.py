"""Fulfillment data: carriers and package types, pick lists, shipments and their trail.

Status fields are django-fsm ``FSMField(protected=True)``; the ``@transition`` methods say
*whether* a change may happen, the services in ``fulfillment.services`` do the work.
"""

from .carriers import CarrierAccount, CarrierService, PackageType
from .picking import PickList, PickListLine, PickListOrder, PickListStatus
from .shipments import (
    OPEN_SHIPMENT_STATUSES,
    Package,
    PackageLine,
    Shipment,
    ShipmentEvent,
    ShipmentLine,
    ShipmentStatus,
)

__all__ = [
    "OPEN_SHIPMENT_STATUSES",
    "CarrierAccount",
    "CarrierService",
    "Package",
    "PackageLine",
    "PackageType",
    "PickList",
    "PickListLine",
    "PickListOrder",
    "PickListStatus",
    "Shipment",
    "ShipmentEvent",
    "ShipmentLine",
    "ShipmentStatus",
]
