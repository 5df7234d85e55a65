"""Order use cases, one function per thing a user does. Views, serializers and tasks call
these; they hold the business rules.

- placement: ``place_order``, ``create_draft_order``, ``submit_draft``
- lifecycle: ``hold_order``, ``release_order``, ``cancel_order``, ``add_note``
- shipping: ``ship_units``, ``ship_order``, ``deliver_order``, ``deallocate_units``
- allocation: ``allocate_order``, ``reroute_order``, ``allocate_backorders``
- editing: ``edit_order`` (lines, quantities, address before picking, with the payment
  difference), ``mark_picking_started`` / ``mark_picking_stopped`` (told by the warehouse)
"""

from .allocation import allocate_backorders, allocate_order, reroute_order
from .editing import edit_order
from .lifecycle import add_note, cancel_order, hold_order, release_order
from .placement import place_order, submit_draft
from .shipping import deallocate_units, deliver_order, ship_order, ship_units

__all__ = [
    "add_note",
    "allocate_backorders",
    "allocate_order",
    "cancel_order",
    "deallocate_units",
    "deliver_order",
    "edit_order",
    "hold_order",
    "place_order",
    "release_order",
    "reroute_order",
    "ship_order",
    "ship_units",
    "submit_draft",
]
