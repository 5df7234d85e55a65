"""How many units of an order may still be returned, and until when.

A line's returnable units are its shipped units, less the units already back
(``OrderLine.quantity_returned``, counted when a parcel is received), less the units of
returns still on their way (requested, approved, label sent). Callers hold the order's
row lock while they read and write this, so two returns of the same order made at the
same moment can't both take the last unit.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Sum
from django.utils import timezone

from orders.models import OrderEvent, OrderStatus

from ..models import OPEN_STATUSES, ReturnLine

# Orders whose units may be returned: they reached the customer.
RETURNABLE_STATUSES = (OrderStatus.DELIVERED, OrderStatus.PARTIALLY_RETURNED)


@dataclass
class ReturnableLine:
    line: object
    on_the_way: int

    @property
    def quantity(self) -> int:
        return max(self.line.quantity_shipped - self.line.quantity_returned - self.on_the_way, 0)


def returnable_lines(order) -> list[ReturnableLine]:
    on_the_way = {
        row["order_line_id"]: row["units"]
        for row in ReturnLine.objects.filter(
            order_line__order=order, request__status__in=OPEN_STATUSES
        )
        .values("order_line_id")
        .annotate(units=Sum("quantity"))
    }
    return [
        ReturnableLine(line, on_the_way.get(line.pk, 0))
        for line in order.lines.select_related("sku").order_by("pk")
    ]


def delivered_at(order) -> datetime | None:
    """When the order reached the customer (its first move to delivered)."""
    event = (
        OrderEvent.objects.filter(order=order, to_status=OrderStatus.DELIVERED)
        .order_by("pk")
        .only("created_at")
        .first()
    )
    return event.created_at if event else None


def return_deadline(order) -> datetime | None:
    """The last moment the customer may ask for a return themselves."""
    start = delivered_at(order)
    if start is None:
        return None
    return start + timedelta(days=order.channel.return_window_days)


def within_window(order, *, now=None) -> bool:
    deadline = return_deadline(order)
    return deadline is not None and (now or timezone.now()) <= deadline
