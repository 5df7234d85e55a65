"""Editing and cancelling with money in the demo: one paid order edited after placement
(a line removed, the address corrected; the difference refunded) and one paid order
cancelled before shipping and refunded, both with their timelines. They are orders of the
history that no pick list holds, paid by card first so the money has somewhere to go.

Idempotent: each part is skipped once an edit (or a cancellation refund) exists.
"""

from fulfillment.models import PickListStatus, ShipmentStatus
from oms_site.actors import Actor
from oms_site.errors import DomainError
from orders.models import Order, OrderEvent, OrderStatus, PaymentStatus
from orders.payments import services as payments
from orders.payments.models import PaymentMethod, Refund
from orders.services import cancel_order, edit_order

ACTOR = Actor.system("demo")


def _candidates(min_lines=1):
    """Routed orders of our own channels with no payment recorded yet, that nobody is
    picking or packing (an untouched pick list gives them up when they change)."""
    orders = (
        Order.objects.filter(
            status__in=[OrderStatus.ALLOCATED, OrderStatus.BACKORDERED],
            payment_status__in=[PaymentStatus.UNPAID, PaymentStatus.AUTHORIZED],
            picking_started_at__isnull=True,
            channel__collected_by_marketplace=False,
            fulfilled_by_channel=False,
            payments__isnull=True,
        )
        .exclude(shipments__status=ShipmentStatus.PACKED)
        .exclude(pick_list_entries__pick_list__status=PickListStatus.PICKING)
        .distinct()
        .order_by("-placed_at")
    )
    for order in orders[:50]:
        if order.lines.count() >= min_lines:
            yield order


def _pay_by_card(order) -> None:
    payments.add_payment(order=order, gateway="manual", method=PaymentMethod.CARD, actor=ACTOR)
    payments.capture_payment(order=order, actor=ACTOR)


def _edited() -> str | None:
    if OrderEvent.objects.filter(kind=OrderEvent.Kind.EDITED).exists():
        return None
    for order in _candidates(min_lines=2):
        try:
            _pay_by_card(order)
            order = Order.objects.get(pk=order.pk)
            last = order.lines.order_by("-pk").first()
            address = dict(order.shipping_address) | {"line2": "2. Etage, Hinterhaus"}
            edit_order(
                order,
                lines=[{"line": last.pk, "quantity": 0}],
                shipping_address=address,
                reason="Customer called: drop the last item, add the floor",
                actor=Actor.system("demo (support desk)"),
            )
        except DomainError:
            continue
        return order.number
    return None


def _cancelled_and_refunded() -> str | None:
    if Refund.objects.filter(source="cancellation").exists():
        return None
    for order in _candidates():
        try:
            _pay_by_card(order)
            cancel_order(
                Order.objects.get(pk=order.pk),
                reason="Customer found it cheaper elsewhere",
                actor=Actor.system("demo (support desk)"),
            )
        except DomainError:
            continue
        return order.number
    return None


def load(context) -> str | None:
    edited = _edited()
    cancelled = _cancelled_and_refunded()
    parts = []
    if edited:
        parts.append(f"order {edited} edited after placement (difference refunded)")
    if cancelled:
        parts.append(f"order {cancelled} cancelled and refunded")
    return "; ".join(parts) or None
