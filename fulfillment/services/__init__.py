"""Fulfillment use cases, one function per thing a person (or a carrier) does.

- picking: ``create_pick_lists`` (waves by rules), ``scan_pick``, ``short_pick``,
  ``assign_pick_list``, ``cancel_pick_list``
- packing: ``scan_pack``, ``add_package``, ``update_package``, ``finish_packing``,
  ``reopen_packing``
- booking: ``book_shipment`` (carrier label)
- shipping: ``ship_shipment``, ``create_external_shipment``, ``mark_shipment_delivered``
- tracking: ``apply_tracking_updates``, ``receive_webhook``, ``poll_shipment``
"""

from .booking import book_shipment
from .packing import add_package, finish_packing, reopen_packing, scan_pack, update_package
from .picking import (
    WaveRules,
    assign_pick_list,
    cancel_pick_list,
    create_pick_lists,
    scan_pick,
    short_pick,
)
from .shipping import create_external_shipment, mark_shipment_delivered, ship_shipment
from .tracking import apply_tracking_updates, poll_shipment, receive_webhook

__all__ = [
    "WaveRules",
    "add_package",
    "apply_tracking_updates",
    "assign_pick_list",
    "book_shipment",
    "cancel_pick_list",
    "create_external_shipment",
    "create_pick_lists",
    "finish_packing",
    "mark_shipment_delivered",
    "poll_shipment",
    "receive_webhook",
    "reopen_packing",
    "scan_pack",
    "scan_pick",
    "ship_shipment",
    "short_pick",
    "update_package",
]
