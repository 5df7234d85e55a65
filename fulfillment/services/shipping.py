"""Shipping a shipment, recording shipments made outside the warehouse flow, and
delivering them.

Lock order, as everywhere: the order row first (``orders.services.events.lock_order``),
then the shipment, then stock levels in primary-key order (inside
``orders.services.ship_units``). Shipping writes the ledger (on-hand and allocated both
drop) and moves the order to partially shipped / shipped through its own transitions, in
the same transaction as the shipment's own transition and event.
"""

import logging
from collections import defaultdict

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from inventory.models import Warehouse
from oms_site import webhooks
from oms_site.actors import Actor
from oms_site.errors import Conflict, ValidationFailed
from orders import services as order_services
from orders.models import Allocation, Order, OrderStatus
from orders.services.events import lock_order

from ..access import check_access
from ..models import (
    OPEN_SHIPMENT_STATUSES,
    CarrierAccount,
    Shipment,
    ShipmentEvent,
    ShipmentLine,
    ShipmentStatus,
)
from ..models.shipments import UNDERWAY_STATUSES
from .events import (
    lock_shipment,
    record_shipment_event,
    run_shipment_transition,
    shipment_payload,
    shipment_subject,
)

logger = logging.getLogger(__name__)
SS = ShipmentStatus


def _notify(shipment_id: int, what: str) -> None:
    """E-mail the customer after commit (shipped / delivered)."""
    from ..tasks import send_shipment_email

    def enqueue():
        try:
            send_shipment_email.delay(shipment_id, what)
        except Exception:  # broker down: the e-mail is lost, the shipment is not
            logger.exception("could not enqueue %s e-mail for shipment %s", what, shipment_id)

    transaction.on_commit(enqueue)


def find_carrier(name: str) -> CarrierAccount | None:
    name = (name or "").strip()
    if not name:
        return None
    return CarrierAccount.objects.filter(Q(code__iexact=name) | Q(name__iexact=name)).first()


@transaction.atomic
def ship_shipment(shipment, *, actor: Actor) -> Shipment:
    """Hand a packed, labelled shipment to the carrier: its units leave the stock."""
    shipment = Shipment.objects.only("pk", "order_id").get(pk=shipment.pk)
    order = lock_order(shipment.order_id)
    shipment = lock_shipment(shipment)
    if shipment.status != SS.PACKED:
        raise Conflict(
            f"Shipment {shipment.number} is {shipment.get_status_display().lower()}; "
            "only packed shipments are shipped.",
            fields={"status": [f"Not allowed from {shipment.status}."]},
        )
    if shipment.carrier_id is None or not shipment.booked_at:
        raise ValidationFailed(
            f"Shipment {shipment.number} has no label yet: choose a carrier and book it.",
            fields={"carrier": ["Book a label first."]},
        )
    units = [
        (line.order_line_id, shipment.warehouse_id, line.quantity)
        for line in shipment.lines.all()
        if line.quantity
    ]
    order_services.ship_units(
        order,
        actor=actor,
        units=units,
        carrier=shipment.carrier_name,
        tracking_number=shipment.tracking_number,
        shipment_reference=shipment.number,
    )
    shipment.shipped_at = timezone.now()
    run_shipment_transition(
        shipment,
        "ship",
        actor=actor,
        message=f"Shipped with {shipment.carrier_name} {shipment.tracking_number}".strip(),
    )
    _notify(shipment.pk, "shipped")
    return shipment


def _units_to_ship(order, *, warehouse, lines) -> list[tuple[int, int | None, int | None, int]]:
    """(line_id, warehouse_id, supplier_id, quantity) from the order's allocations."""
    allocations = Allocation.objects.filter(line__order=order)
    if warehouse is not None:
        allocations = allocations.filter(warehouse=warehouse)
    allocated = defaultdict(int)
    sources = {}
    for allocation in allocations:
        key = allocation.line_id
        allocated[key] += allocation.quantity
        sources[key] = (allocation.warehouse_id, allocation.supplier_id)
    if lines is None:
        units = [(line_id, *sources[line_id], qty) for line_id, qty in allocated.items()]
    else:
        units = []
        for line_id, quantity in lines:
            if allocated.get(line_id, 0) < quantity:
                raise Conflict(
                    f"Only {allocated.get(line_id, 0)} unit(s) of line {line_id} are allocated"
                    + (f" at {warehouse.code}" if warehouse else "")
                    + f"; {quantity} can't ship.",
                    fields={"lines": [f"Line {line_id}: at most {allocated.get(line_id, 0)}."]},
                    code="not_allocated",
                )
            units.append((line_id, *sources[line_id], quantity))
    if not units:
        raise Conflict(
            f"Order {order.number} has nothing allocated"
            + (f" at {warehouse.code}" if warehouse else "")
            + " to ship.",
            fields={"order": ["Nothing allocated."]},
            code="not_allocated",
        )
    if len({(u[1], u[2]) for u in units}) > 1:
        raise ValidationFailed(
            f"Order {order.number} is allocated at several places; name the warehouse.",
            fields={"warehouse": ["Required: the units come from several places."]},
        )
    return units


@transaction.atomic
def create_external_shipment(
    *,
    order,
    actor: Actor,
    carrier_name: str = "",
    tracking_number: str = "",
    tracking_url: str = "",
    warehouse=None,
    lines=None,
) -> Shipment:
    """Record a shipment fulfilled outside the warehouse flow (a marketplace, a
    drop-shipping supplier, a parcel taken to the post office) and ship its units.

    ``lines``: ``[(order_line_id, quantity)]`` or None for everything allocated (at
    ``warehouse`` if given)."""
    order = lock_order(order)
    if order.status not in (OrderStatus.ALLOCATED, OrderStatus.PARTIALLY_SHIPPED):
        raise Conflict(
            f"Order {order.number} is {order.get_status_display().lower()}; only allocated or "
            "partially shipped orders can ship.",
            fields={"order": [f"Not allowed from {order.status}."]},
            code="transition_not_allowed",
        )
    units = _units_to_ship(order, warehouse=warehouse, lines=lines)
    warehouse_id, supplier_id = units[0][1], units[0][2]
    check_access(actor.user, Warehouse.objects.filter(pk=warehouse_id).first(), what="It")
    _cancel_open_shipments(
        order,
        warehouse_ids=[warehouse_id] if warehouse_id else [],
        actor=actor,
        why="shipped outside the warehouse flow",
    )
    shipment = _new_external_shipment(
        order,
        warehouse_id=warehouse_id,
        supplier_id=supplier_id,
        carrier_name=carrier_name,
        tracking_number=tracking_number,
        tracking_url=tracking_url,
        units=[(u[0], u[3]) for u in units],
        actor=actor,
    )
    order_services.ship_units(
        order,
        actor=actor,
        units=[(u[0], u[1], u[3]) for u in units],
        carrier=shipment.carrier_name,
        tracking_number=tracking_number,
        shipment_reference=shipment.number,
    )
    _ship_external(shipment, actor=actor)
    return shipment


def _new_external_shipment(
    order, *, warehouse_id, supplier_id, carrier_name, tracking_number, tracking_url, units, actor
) -> Shipment:
    carrier = find_carrier(carrier_name)
    shipment = Shipment.objects.create(
        order=order,
        warehouse_id=warehouse_id,
        supplier_id=supplier_id,
        external=True,
        carrier=carrier,
        carrier_name=(carrier.name if carrier else carrier_name)[:60],
        tracking_number=tracking_number[:100],
        tracking_url=(tracking_url or (carrier.tracking_url(tracking_number) if carrier else ""))[
            :500
        ],
    )
    per_line = defaultdict(int)  # a line may have shipped from two allocations
    for line_id, quantity in units:
        per_line[line_id] += quantity
    ShipmentLine.objects.bulk_create(
        [ShipmentLine(shipment=shipment, order_line_id=k, quantity=q) for k, q in per_line.items()]
    )
    record_shipment_event(
        shipment,
        kind=ShipmentEvent.Kind.CREATED,
        actor=actor,
        message="Fulfilled outside the warehouse flow",
    )
    webhooks.publish(
        "shipment.created", shipment_payload(shipment), subject=shipment_subject(shipment)
    )
    return shipment


def _ship_external(shipment, *, actor) -> None:
    shipment.shipped_at = timezone.now()
    run_shipment_transition(
        shipment,
        "ship",
        actor=actor,
        message=f"Shipped with {shipment.carrier_name} {shipment.tracking_number}".strip(),
    )
    _notify(shipment.pk, "shipped")


def record_order_shipped_outside(*, order, units, carrier, tracking_number, actor) -> list:
    """The order's own ship action shipped units (``orders.signals.order_shipped`` with no
    shipment): record one shipment per warehouse or supplier, so every shipped unit has
    one. Runs in the order's transaction, which holds its lock."""
    by_source = defaultdict(list)
    for unit in units:
        by_source[(unit.warehouse_id, unit.supplier_id)].append((unit.line_id, unit.quantity))
    _cancel_open_shipments(
        order,
        warehouse_ids=[w for w, _s in by_source if w],
        actor=actor,
        why="the order was marked shipped outside the warehouse flow",
    )
    shipments = []
    for (warehouse_id, supplier_id), lines in sorted(by_source.items(), key=str):
        shipment = _new_external_shipment(
            order,
            warehouse_id=warehouse_id,
            supplier_id=supplier_id,
            carrier_name=carrier,
            tracking_number=tracking_number,
            tracking_url="",
            units=lines,
            actor=actor,
        )
        _ship_external(shipment, actor=actor)
        shipments.append(shipment)
    return shipments


def _cancel_open_shipments(order, *, warehouse_ids, actor, why: str) -> int:
    """Open (not yet shipped) shipments of these warehouses are void: cancel them."""
    if not warehouse_ids:
        return 0
    cancelled = 0
    for shipment in Shipment.objects.select_for_update(of=("self",)).filter(
        order=order, warehouse_id__in=warehouse_ids, status__in=OPEN_SHIPMENT_STATUSES
    ):
        shipment.order = order
        run_shipment_transition(shipment, "cancel", actor=actor, message=f"Cancelled: {why}"[:500])
        cancelled += 1
    return cancelled


def cancel_open_shipments_for_released(*, order, released, reason, actor) -> int:
    """Allocations of an order were given back (cancel, re-route): its open shipments at
    those warehouses carry units that are no longer promised, so they are cancelled (the
    pick screen then tells the picker to put the units back)."""
    if reason == "short_pick":
        return 0  # the picking service adjusts its own shipment
    why = {
        "cancelled": "the order was cancelled",
        "rerouted": "the order was re-routed",
        "edited": "the order was edited",
    }
    return _cancel_open_shipments(
        order,
        warehouse_ids=sorted({w for _line, w, _q in released if w}),
        actor=actor,
        why=why.get(reason, reason),
    )


@transaction.atomic
def mark_shipment_delivered(
    shipment, *, actor: Actor, occurred_at=None, message="Delivered", deliver_order=True
) -> Shipment:
    """The shipment arrived; when every shipment of a fully shipped order has, the order
    becomes delivered through its own transition."""
    shipment = Shipment.objects.only("pk", "order_id").get(pk=shipment.pk)
    order = lock_order(shipment.order_id)
    shipment = lock_shipment(shipment)
    shipment.delivered_at = occurred_at or timezone.now()
    run_shipment_transition(
        shipment, "mark_delivered", actor=actor, message=message, occurred_at=occurred_at
    )
    _notify(shipment.pk, "delivered")
    if deliver_order:
        deliver_order_if_complete(order, actor=actor)
    return shipment


def deliver_order_if_complete(order: Order, *, actor: Actor) -> bool:
    """The order is delivered once it is fully shipped and none of its shipments is still
    underway (or waiting in the warehouse)."""
    if order.status != OrderStatus.SHIPPED:
        return False
    waiting = order.shipments.filter(status__in=[*OPEN_SHIPMENT_STATUSES, *UNDERWAY_STATUSES])
    if waiting.exists() or not order.shipments.filter(status=SS.DELIVERED).exists():
        return False
    order_services.deliver_order(order, actor=actor, source="shipment")
    return True


def mark_underway_delivered_by_hand(*, order, actor) -> int:
    """Someone used the order's "delivered" action: its shipments underway arrived too."""
    count = 0
    for shipment in Shipment.objects.select_for_update(of=("self",)).filter(
        order=order, status__in=UNDERWAY_STATUSES
    ):
        shipment.order = order
        shipment.delivered_at = timezone.now()
        run_shipment_transition(
            shipment, "mark_delivered", actor=actor, message="Marked delivered on the order"
        )
        count += 1
    return count
