"""Fulfillment in the demo: carriers (own courier, Bring through the local sandbox),
boxes, a shipment for every unit the history shipped, parcels in transit and delivered
with their carrier updates, and pick lists ready to work in every warehouse (Berlin's
for the demo ``warehouse`` user). Idempotent: a second run adds nothing."""

import random
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.urls import reverse

from fulfillment.models import (
    CarrierAccount,
    CarrierService,
    PackageType,
    PickList,
    Shipment,
    ShipmentEvent,
    ShipmentLine,
    ShipmentStatus,
)
from fulfillment.services import WaveRules, create_pick_lists
from inventory.models import MovementReason, StockMovement, Warehouse
from oms_site.actors import Actor
from orders.models import Order, OrderEvent, OrderLine, OrderStatus

from ..world import historical_timestamps

TRACKING_FILE = "demo-tracking-link.txt"
BRING_WEBHOOK_SECRET = "demo-bring-webhook-secret"
SS = ShipmentStatus
SHIPPED_ORDER_STATUSES = [
    OrderStatus.PARTIALLY_SHIPPED,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.PARTIALLY_RETURNED,
    OrderStatus.RETURNED,
]


def ensure_carriers() -> dict[str, CarrierAccount]:
    own, _ = CarrierAccount.objects.get_or_create(
        code="own",
        defaults={
            "name": "Own courier",
            "kind": CarrierAccount.Kind.MANUAL,
            "credentials": {"flat_rate": "6.90", "currency": "EUR"},
        },
    )
    CarrierService.objects.get_or_create(
        carrier=own,
        code="standard",
        defaults={"name": "Same-day city courier", "shipping_methods": ["Courier"]},
    )
    bring, _ = CarrierAccount.objects.get_or_create(
        code="bring",
        defaults={
            "name": "Bring",
            "kind": CarrierAccount.Kind.BRING,
            "credentials": {
                "api_uid": "demo@example.com",
                "api_key": "demo-api-key",
                "customer_number": "5",
            },
            "webhook_secret": BRING_WEBHOOK_SECRET,
            "test_mode": True,
            "tracking_url_template": "",
        },
    )
    for code, name, methods in [
        ("5800", "Pakke til hentested", ["DHL Paket", "PostNL Pakket", "Colissimo"]),
        ("5600", "Pakke levert hjem", ["Österreichische Post Paket", "Correos Paq Estándar"]),
        ("3584", "Pakke i postkassen", ["Poste Italiane Crono", "An Post Express"]),
    ]:
        CarrierService.objects.get_or_create(
            carrier=bring, code=code, defaults={"name": name, "shipping_methods": methods}
        )
    return {"own": own, "bring": bring}


def ensure_package_types() -> int:
    before = PackageType.objects.count()
    for code, name, dims, tare, limit in [
        ("mailer", "Mailer bag", (350, 250, 30), 40, 2000),
        ("box-s", "Box S", (300, 200, 100), 150, 5000),
        ("box-m", "Box M", (400, 300, 200), 300, 15000),
        ("box-l", "Box L", (600, 400, 400), 600, 30000),
    ]:
        PackageType.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "length_mm": dims[0],
                "width_mm": dims[1],
                "height_mm": dims[2],
                "tare_weight_grams": tare,
                "max_weight_grams": limit,
            },
        )
    return PackageType.objects.count() - before


def backfill_history(context, carriers) -> int:
    """One shipment per shipped historical order, from its ledger and its shipped event,
    so every shipped unit has a shipment (the history writer ships in bulk)."""
    orders = list(
        Order.objects.filter(status__in=SHIPPED_ORDER_STATUSES, shipments__isnull=True)
        .only("pk", "number", "status", "updated_at")
        .order_by("pk")
    )
    if not orders:
        return 0
    rng = random.Random(f"{context.seed}-fulfillment")
    references = {f"order:{o.number}": o.pk for o in orders}
    warehouse_of = {}
    for reference, warehouse_id in StockMovement.objects.filter(
        reason=MovementReason.SHIPMENT, reference__in=list(references)
    ).values_list("reference", "warehouse_id"):
        warehouse_of.setdefault(references[reference], warehouse_id)
    shipped_event = {}
    for order_id, created_at, details in (
        OrderEvent.objects.filter(
            order_id__in=[o.pk for o in orders],
            to_status__in=[OrderStatus.SHIPPED, OrderStatus.PARTIALLY_SHIPPED],
        )
        .order_by("pk")
        .values_list("order_id", "created_at", "details")
    ):
        shipped_event.setdefault(order_id, (created_at, details or {}))
    delivered_at = dict(
        OrderEvent.objects.filter(
            order_id__in=[o.pk for o in orders], to_status=OrderStatus.DELIVERED
        ).values_list("order_id", "created_at")
    )
    lines = defaultdict(list)
    for line_id, order_id, shipped in OrderLine.objects.filter(
        order_id__in=[o.pk for o in orders], quantity_shipped__gt=0
    ).values_list("pk", "order_id", "quantity_shipped"):
        lines[order_id].append((line_id, shipped))

    bring = carriers["bring"]
    shipments, plans = [], []
    for order in orders:
        if not lines.get(order.pk):
            continue
        at, details = shipped_event.get(order.pk, (order.updated_at, {}))
        carrier_name = details.get("carrier", "")
        tracking = details.get("tracking_number", "")
        status = SS.SHIPPED
        if order.pk in delivered_at:
            status = SS.DELIVERED
        elif order.status == OrderStatus.SHIPPED and rng.random() < 0.8:
            status = SS.IN_TRANSIT
        # Parcels still underway in the EU travel with Bring, so the sandbox moves them.
        use_bring = status != SS.DELIVERED and warehouse_of.get(order.pk) is not None
        if use_bring:
            carrier_name, tracking = bring.name, f"70438101{900000000 + order.pk:09d}"
        shipments.append(
            Shipment(
                order_id=order.pk,
                warehouse_id=warehouse_of.get(order.pk),
                status=status,
                external=warehouse_of.get(order.pk) is None,
                carrier=bring if use_bring else None,
                carrier_name=carrier_name[:60],
                service_name="Pakke til hentested" if use_bring else "",
                tracking_number=tracking,
                shipped_at=at,
                delivered_at=delivered_at.get(order.pk),
                booked_at=at,
                created_at=at,
                updated_at=delivered_at.get(order.pk, at),
            )
        )
        plans.append((order.pk, at, status, use_bring))
    with historical_timestamps(Shipment):
        shipments = Shipment.objects.bulk_create(shipments, batch_size=1000)
    shipment_lines, events = [], []
    actor = "warehouse"
    for shipment, (order_id, at, status, _bring) in zip(shipments, plans, strict=True):
        for line_id, quantity in lines[order_id]:
            shipment_lines.append(
                ShipmentLine(
                    shipment=shipment,
                    order_line_id=line_id,
                    quantity=quantity,
                    quantity_packed=quantity,
                )
            )

        def event(when, kind, message, frm="", to="", carrier_status="", location="", s=shipment):
            events.append(
                ShipmentEvent(
                    shipment=s,
                    kind=kind,
                    from_status=frm,
                    to_status=to,
                    message=message,
                    carrier_status=carrier_status,
                    location=location,
                    occurred_at=when,
                    actor_label=actor,
                    external_id=f"demo:{s.pk}:{carrier_status}" if carrier_status else "",
                )
            )

        event(at, ShipmentEvent.Kind.CREATED, "Packed at the warehouse", to=SS.PACKED)
        event(at, ShipmentEvent.Kind.STATUS_CHANGED, "Handed to the carrier", SS.PACKED, SS.SHIPPED)
        if status in (SS.IN_TRANSIT, SS.DELIVERED):
            moving = at + timedelta(hours=rng.uniform(3, 14))
            event(
                moving,
                ShipmentEvent.Kind.TRACKING,
                "The shipment is underway.",
                carrier_status="IN_TRANSIT",
                location="Hub",
            )
            event(
                moving, ShipmentEvent.Kind.STATUS_CHANGED, "IN_TRANSIT", SS.SHIPPED, SS.IN_TRANSIT
            )
        if status == SS.DELIVERED:
            done = shipment.delivered_at
            event(
                done,
                ShipmentEvent.Kind.TRACKING,
                "The shipment has been delivered.",
                carrier_status="DELIVERED",
            )
            event(done, ShipmentEvent.Kind.STATUS_CHANGED, "DELIVERED", SS.IN_TRANSIT, SS.DELIVERED)
    ShipmentLine.objects.bulk_create(shipment_lines, batch_size=2000)
    ShipmentEvent.objects.bulk_create(events, batch_size=2000)
    return len(shipments)


def ensure_pick_lists() -> int:
    """Pick lists ready to work: a few small waves per warehouse."""
    if PickList.objects.exists():
        return 0
    actor = Actor.system("demo")
    made = 0
    for warehouse in Warehouse.objects.filter(active=True).order_by("rank"):
        lists = create_pick_lists(
            warehouse=warehouse,
            actor=actor,
            rules=WaveRules(max_orders=6, max_lists=3 if warehouse.code == "ber" else 2),
        )
        made += len(lists)
    return made


def tracking_link() -> str:
    shipment = (
        Shipment.objects.filter(status=SS.IN_TRANSIT, carrier__code="bring")
        .select_related("order")
        .order_by("-pk")
        .first()
    ) or Shipment.objects.select_related("order").order_by("-pk").first()
    if shipment is None:
        return ""
    path = reverse("tracking:page", args=[shipment.order.tracking_token])
    return settings.OMS_PUBLIC_URL.rstrip("/") + path


def load(context) -> str | None:
    carriers = ensure_carriers()
    boxes = ensure_package_types()
    shipments = backfill_history(context, carriers)
    lists = ensure_pick_lists()
    link = tracking_link()
    if link:
        path = settings.VAR_DIR / TRACKING_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(link + "\n")
    if not (boxes or shipments or lists):
        return None
    return (
        f"{shipments} shipments for the shipped history, {lists} pick lists ready, "
        f"{boxes} box types; a customer tracking page: {link} (also in var/{TRACKING_FILE})"
    )
