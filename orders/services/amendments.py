"""Changes to an order after it was placed, as a sales channel reports them: some units
cancelled, the shipping address edited, the payment collected by the channel, the order
shipped by the channel itself (e.g. Amazon FBA).

Each is one transaction: the order row is locked first, then its stock (the same order
as every other path), the change and its event are written together.
"""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from inventory import geocoding, stock
from oms_site.actors import Actor
from oms_site.errors import TransitionNotAllowed, ValidationFailed

from ..models import Allocation, Order, OrderEvent, OrderLine, OrderStatus
from .allocation import reroute_order
from .events import lock_order, record_event, run_transition
from .placement import clean_address

S = OrderStatus
ADDRESS_EDITABLE = (S.DRAFT, S.PENDING, S.ON_HOLD, S.BACKORDERED, S.ALLOCATED)


def _release_line_units(order, line, units: int, *, actor) -> int:
    """Give back up to ``units`` allocated units of one line, newest allocation first."""
    released = 0
    for allocation in Allocation.objects.filter(line=line).order_by("-pk"):
        if released >= units:
            break
        take = min(allocation.quantity, units - released)
        if allocation.warehouse_id is not None:
            stock.deallocate(
                sku_id=line.sku_id,
                warehouse_id=allocation.warehouse_id,
                quantity=take,
                reference=f"order:{order.number}",
                actor=actor,
            )
        if take == allocation.quantity:
            allocation.delete()
        else:
            Allocation.objects.filter(pk=allocation.pk).update(quantity=F("quantity") - take)
        released += take
    return released


@transaction.atomic
def cancel_units(order, *, quantities: dict, actor: Actor, reason: str = "") -> Order:
    """Cancel some units of some lines (``{line_id: units}``). Unallocated units go first,
    then allocated ones are released to stock. All units cancelled = the order is."""
    order = lock_order(order)
    lines = {line.pk: line for line in order.lines.select_related("sku")}
    for line_id, units in quantities.items():
        line = lines.get(int(line_id))
        if line is None:
            raise ValidationFailed(
                f"Line {line_id} is not on order {order.number}.", fields={"lines": ["Unknown."]}
            )
        cancellable = line.quantity - line.quantity_shipped - line.quantity_cancelled
        if not isinstance(units, int) or units <= 0 or units > cancellable:
            raise ValidationFailed(
                f"{line.sku_code}: {cancellable} unit(s) can be cancelled, not {units}.",
                fields={"lines": [f"At most {cancellable}."]},
            )
    if order.status not in (*ADDRESS_EDITABLE, S.PARTIALLY_SHIPPED):
        raise TransitionNotAllowed(
            f"Units of order {order.number} can't be cancelled: it is {order.status}.",
            fields={"status": [f"Not allowed from {order.status}."]},
        )
    stock.lock_levels_for_skus(line.sku_id for line in lines.values())
    released_total = 0
    for line_id, units in quantities.items():
        line = lines[int(line_id)]
        unallocated = line.quantity_open
        release = max(units - unallocated, 0)
        if release:
            released = _release_line_units(order, line, release, actor=actor)
            line.quantity_allocated -= released
            released_total += released
        line.quantity_cancelled += units
    OrderLine.objects.bulk_update(
        [lines[int(i)] for i in quantities], ["quantity_allocated", "quantity_cancelled"]
    )
    summary = ", ".join(f"{lines[int(i)].sku_code} x{u}" for i, u in quantities.items())
    message = f"Units cancelled: {summary}" + (f" ({reason})" if reason else "")
    if released_total:
        message += f"; {released_total} allocated unit(s) returned to stock"
    details = {"cancelled": {str(i): u for i, u in quantities.items()}, "reason": reason}
    everything_cancelled = all(ln.quantity_cancelled >= ln.quantity for ln in lines.values())
    nothing_to_ship = all(
        ln.quantity_shipped + ln.quantity_cancelled >= ln.quantity for ln in lines.values()
    )
    if everything_cancelled and order.status in (*ADDRESS_EDITABLE,):
        return run_transition(
            order,
            "cancel",
            actor=actor,
            kwargs={"reason": reason},
            message=message,
            details=details,
        )
    if order.status == S.PARTIALLY_SHIPPED and nothing_to_ship:
        return run_transition(order, "mark_shipped", actor=actor, message=message, details=details)
    if order.status == S.BACKORDERED and all(ln.quantity_open == 0 for ln in lines.values()):
        return run_transition(
            order, "mark_allocated", actor=actor, message=message, details=details
        )
    record_event(order, kind=OrderEvent.Kind.NOTE, actor=actor, message=message, details=details)
    return order


@transaction.atomic
def update_shipping_address(order, *, address: dict, actor: Actor, source: str = "") -> Order:
    """Replace the shipping address of an order that has not shipped. If the country
    changed on a routed order, it is routed again (the warehouse may not ship there)."""
    order = lock_order(order)
    if order.status not in ADDRESS_EDITABLE:
        raise TransitionNotAllowed(
            f"The address of order {order.number} can't change: it is {order.status}.",
            fields={"status": [f"Not allowed from {order.status}."]},
        )
    cleaned = clean_address(address, "shipping_address")
    if cleaned == order.shipping_address:
        return order
    previous = order.shipping_address
    country_changed = cleaned["country"] != order.ship_to_country
    location = geocoding.locate(cleaned["country"], cleaned["city"])
    order.shipping_address = cleaned
    order.ship_to_country = cleaned["country"]
    order.ship_to_latitude = location.latitude if location else None
    order.ship_to_longitude = location.longitude if location else None
    Order.objects.filter(pk=order.pk).update(
        shipping_address=cleaned,
        ship_to_country=order.ship_to_country,
        ship_to_latitude=order.ship_to_latitude,
        ship_to_longitude=order.ship_to_longitude,
        updated_at=timezone.now(),
    )
    record_event(
        order,
        kind=OrderEvent.Kind.NOTE,
        actor=actor,
        message="Shipping address changed" + (f" by {source}" if source else ""),
        details={"from": previous, "to": cleaned},
    )
    if country_changed and order.status in (S.ALLOCATED, S.BACKORDERED):
        return reroute_order(order, actor=actor)
    return order


@transaction.atomic
def record_channel_payment(order, *, actor: Actor, collected_by: str) -> Order:
    """The sales channel collected the buyer's money (marketplaces pay the merchant out)."""
    from ..payments.models import PaymentMethod
    from ..payments.services import add_payment

    order = lock_order(order)
    if order.payment_status == order.P.PAID:
        return order
    if order.grand_total > 0 and not order.payments.exists():
        # The payment the ledger follows: authorized and captured by the marketplace.
        add_payment(
            order=order, gateway="marketplace", method=PaymentMethod.MARKETPLACE, actor=actor
        )
        return lock_order(order)
    previous = order.payment_status
    order.payment_captured()
    order.save(update_fields=["payment_status", "updated_at"])
    record_event(
        order,
        kind=OrderEvent.Kind.PAYMENT,
        actor=actor,
        from_status=previous,
        to_status=order.payment_status,
        message=f"Paid: collected by {collected_by}",
        details={"amount": str(order.grand_total), "currency": order.currency},
    )
    return order


@transaction.atomic
def record_fulfilled_elsewhere(order, *, actor: Actor, by: str) -> Order:
    """Every open unit was shipped outside this system (the channel's own fulfilment, or
    before the order was imported): no stock of ours moves."""
    order = lock_order(order)
    if order.lines.filter(quantity_allocated__gt=0).exists():
        raise TransitionNotAllowed(
            f"Order {order.number} has allocated stock; ship it here or re-route it first.",
            fields={"status": ["Allocated here."]},
        )
    order.lines.update(quantity_shipped=F("quantity") - F("quantity_cancelled"))
    return run_transition(
        order, "mark_fulfilled_elsewhere", actor=actor, message=f"Shipped by {by}"
    )


@transaction.atomic
def submit_unrouted(order, *, actor: Actor, placed_at=None, message: str = "") -> Order:
    """Draft -> pending without routing: for orders a channel says must not be allocated
    yet (awaiting payment, fulfilled by the channel, already shipped or cancelled)."""
    order = lock_order(order)
    order.placed_at = placed_at or timezone.now()
    return run_transition(order, "submit", actor=actor, message=message)
