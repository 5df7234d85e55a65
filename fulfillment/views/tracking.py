"""The public tracking page behind an order's secret link.

It shows what the customer already knows and nothing more: the order number, its items,
the delivery town and country, and each shipment's carrier, tracking link and timeline.
No e-mail, phone, street address, prices or staff names. A wrong token shows a page that
says only that the link is not valid (same answer for every wrong token).
"""

from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from orders.models import Order, OrderStatus

from ..models import ShipmentEvent, ShipmentStatus

# Apps above fulfillment add parts of their own to the page (returns: "return items"):
# each is ``section(request, order) -> str`` (HTML, already escaped), registered from
# their AppConfig.ready(), so this page never imports them.
_SECTIONS = []


def register_tracking_section(section) -> None:
    if section not in _SECTIONS:
        _SECTIONS.append(section)


# What the customer sees of the order's states.
CUSTOMER_STEPS = [
    ("placed", _("Order placed")),
    ("shipped", _("Shipped")),
    ("delivered", _("Delivered")),
]


def _step(order) -> str:
    if order.status in (
        OrderStatus.DELIVERED,
        OrderStatus.PARTIALLY_RETURNED,
        OrderStatus.RETURNED,
    ):
        return "delivered"
    if order.status in (OrderStatus.SHIPPED, OrderStatus.PARTIALLY_SHIPPED):
        return "shipped"
    return "placed"


@never_cache
@require_GET
def tracking_page(request, token):
    order = (
        Order.objects.select_related("channel")
        .filter(tracking_token=token)
        .exclude(status=OrderStatus.DRAFT)
        .first()
        if token and len(token) <= 64
        else None
    )
    if order is None:
        return render(request, "fulfillment/tracking_invalid.html", status=404)
    shipments = list(
        order.shipments.exclude(status=ShipmentStatus.CANCELLED)
        .prefetch_related("lines__order_line")
        .order_by("pk")
    )
    for shipment in shipments:
        shipment.timeline = [
            event
            for event in shipment.events.all().order_by("-occurred_at", "-id")
            if event.kind in (ShipmentEvent.Kind.TRACKING, ShipmentEvent.Kind.STATUS_CHANGED)
            and (event.kind == ShipmentEvent.Kind.TRACKING or event.to_status)
        ]
    address = order.shipping_address or {}
    step = _step(order)
    reached = [key for key, _label in CUSTOMER_STEPS]
    reached = reached[: reached.index(step) + 1]
    return render(
        request,
        "fulfillment/tracking.html",
        {
            "order": order,
            "cancelled": order.status == OrderStatus.CANCELLED,
            "steps": [
                {"key": key, "label": label, "done": key in reached}
                for key, label in CUSTOMER_STEPS
            ],
            "destination": ", ".join(
                p for p in (address.get("city", ""), address.get("country", "")) if p
            ),
            "lines": order.lines.all().order_by("pk"),
            "shipments": shipments,
            "sections": [section(request, order) for section in _SECTIONS],
        },
    )
