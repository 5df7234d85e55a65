"""Returns in the demo.

- The history's returned orders get their closed RMAs: each returned line, linked to the
  restock movement the history wrote (so ``oms_audit`` finds a return line for every
  restock of our orders).
- Seven fresh orders (paid, invoiced, shipped from Berlin and delivered) go through the
  after-sales path with the services: a customer's request waiting for approval, an
  approved parcel with its return label waiting to be scanned in Berlin (the ``warehouse``
  user receives it on a phone), a received parcel waiting for inspection, a closed return
  refunded with its credit note, a rejected request, an exchange with its replacement
  order, and an exchange for more than was sent back, whose replacement has the rest to pay
  (the customer's e-mail links to its payment page; with ``make run`` the Vipps MobilePay
  sandbox takes the payment). The customer tracking link of a delivered order that may
  still be returned is written to ``var/demo-return-link.txt``.

Idempotent: history already linked is skipped, and the fresh part runs once.
"""

from collections import defaultdict

from django.conf import settings
from django.urls import reverse

from fulfillment.models import CarrierAccount
from inventory.models import MovementReason, StockLevel, StockMovement, Warehouse
from oms_site.actors import Actor
from orders import services as order_services
from orders.invoicing.services import invoice_of, issue_invoice
from orders.models import Order, OrderStatus, SalesChannel
from returns import services
from returns.models import (
    InspectionOutcome,
    ReturnEvent,
    ReturnLine,
    ReturnRequest,
    ReturnSource,
    ReturnStatus,
)

DEMO_NOTE = "Demo return"
# Orders the fresh part places: seven delivered ones and the exchanges' replacements.
FRESH_ORDERS = 9
LINK_FILE = "demo-return-link.txt"
ADDRESS = {
    "name": "Lena Vogel",
    "line1": "Oranienstraße 25",
    "city": "Berlin",
    "postal_code": "10999",
    "country": "DE",
}
HISTORY = Actor.system("returns-desk")
DEMO = Actor.system("demo")


def _link_history() -> int:
    """Closed RMAs for the history's returned orders, linked to their restock rows."""
    orders = list(
        Order.objects.filter(
            status__in=[OrderStatus.RETURNED, OrderStatus.PARTIALLY_RETURNED],
            return_requests__isnull=True,
        ).prefetch_related("lines")
    )
    if not orders:
        return 0
    movements = defaultdict(list)
    for movement in StockMovement.objects.filter(
        reason=MovementReason.RETURN_RESTOCK,
        reference__in=[f"order:{o.number}" for o in orders],
        return_line__isnull=True,
    ).order_by("pk"):
        movements[(movement.reference, movement.sku_id)].append(movement)
    fallback = Warehouse.objects.filter(accepts_returns=True).order_by("rank", "pk").first()
    requests, planned = [], []
    for order in orders:
        lines = [line for line in order.lines.all() if line.quantity_returned]
        found = {
            line.pk: next(
                (
                    m
                    for m in movements[(f"order:{order.number}", line.sku_id)]
                    if m.on_hand_change == line.quantity_returned
                ),
                None,
            )
            for line in lines
        }
        # One RMA per warehouse the units went back to (a split order came back twice).
        by_warehouse = defaultdict(list)
        for line in lines:
            movement = found[line.pk]
            by_warehouse[movement.warehouse_id if movement else fallback.pk].append(line)
        for warehouse_id, group in by_warehouse.items():
            requests.append(
                ReturnRequest(
                    order=order,
                    status=ReturnStatus.CLOSED,
                    source=ReturnSource.STAFF,
                    warehouse_id=warehouse_id,
                    note="From the order history",
                    created_by=HISTORY.label,
                )
            )
            planned.append((group, found))
    ReturnRequest.objects.bulk_create(requests)
    for request in requests:
        request.number = f"RMA-{request.pk:06d}"
    ReturnRequest.objects.bulk_update(requests, ["number"])
    return_lines = []
    for request, (lines, found) in zip(requests, planned, strict=True):
        for line in lines:
            movement = found[line.pk]
            if movement is not None:
                movements[(movement.reference, movement.sku_id)].remove(movement)
            return_lines.append(
                ReturnLine(
                    request=request,
                    order_line=line,
                    quantity=line.quantity_returned,
                    quantity_received=line.quantity_returned,
                    reason="does_not_fit",
                    outcome=InspectionOutcome.RESTOCK if movement else InspectionOutcome.DISPOSE,
                    restock_movement=movement,
                )
            )
    ReturnLine.objects.bulk_create(return_lines)
    ReturnEvent.objects.bulk_create(
        ReturnEvent(
            request=request,
            to_status=ReturnStatus.CLOSED,
            from_status=ReturnStatus.REQUESTED,
            message="Return received, inspected and refunded (order history)",
            actor_label=HISTORY.label,
        )
        for request in requests
    )
    return len(requests)


def _delivered_order(channel, berlin, skus):
    order = order_services.place_order(
        channel=channel,
        lines=[{"sku": sku.code, "quantity": 2} for sku in skus],
        currency=skus[0].currency,  # the catalogue's prices (the web shop may sell in NOK)
        shipping_address=ADDRESS,
        customer={"email": "lena.vogel@example.com", "name": "Lena Vogel"},
        payment={"gateway": "manual", "method": "cash"},
        warehouse=berlin,
        actor=DEMO,
    )
    order_services.ship_order(order, actor=DEMO, carrier="Own courier")
    order_services.deliver_order(order, actor=DEMO)
    if invoice_of(order) is None:
        issue_invoice(order, actor=DEMO)
    order.refresh_from_db()
    return order


def _lines(order, units=1):
    return [
        {"line": line.pk, "quantity": units, "reason": reason}
        for line, reason in zip(
            order.lines.order_by("pk"), ["does_not_fit", "changed_mind"], strict=False
        )
    ]


def _fresh_returns(context) -> int:
    berlin = Warehouse.objects.filter(code="ber").first()
    channel = SalesChannel.objects.filter(kind=SalesChannel.Kind.WEB, active=True).first()
    carrier = CarrierAccount.objects.filter(code="own").first()
    if berlin is None or channel is None:
        return 0
    levels = (
        StockLevel.objects.filter(warehouse=berlin, sku__active=True, on_hand__gte=30)
        .select_related("sku")
        .order_by("sku__code")
    )
    skus = [level.sku for level in levels[:12] if level.available >= 20][:2]
    if len(skus) < 2:
        return 0
    orders = [_delivered_order(channel, berlin, skus) for _ in range(7)]

    def make(order, source=ReturnSource.STAFF, units=1):
        return services.create_return(
            order=order, lines=_lines(order, units), source=source, note=DEMO_NOTE, actor=DEMO
        )

    make(orders[0], source=ReturnSource.CUSTOMER)
    waiting = services.approve_return(make(orders[1]), actor=DEMO)
    if carrier is not None:
        services.send_return_label(waiting, carrier=carrier, actor=DEMO)
    services.receive_return(services.approve_return(make(orders[2]), actor=DEMO), actor=DEMO)
    closed = services.receive_return(
        services.approve_return(make(orders[3], units=2), actor=DEMO), actor=DEMO
    )
    lines = list(closed.lines.all())
    services.inspect_return(
        closed,
        actor=DEMO,
        lines={
            lines[0].pk: (InspectionOutcome.RESTOCK, ""),
            lines[1].pk: (InspectionOutcome.DAMAGED, "Seam torn"),
        },
    )
    services.close_return(closed, actor=DEMO)
    services.reject_return(make(orders[4]), actor=DEMO, reason="Worn and washed")
    exchanged = services.approve_return(make(orders[5]), actor=DEMO)
    # Exchanged for the same items (another size would be another SKU): no difference.
    services.create_exchange(
        exchanged, actor=DEMO, lines=[{"sku": sku.code, "quantity": 1} for sku in skus]
    )
    # One item back for two of each: dearer, so the customer is e-mailed the link to pay
    # the rest on the replacement's page.
    dearer = services.approve_return(make(orders[6]), actor=DEMO)
    services.create_exchange(
        dearer, actor=DEMO, lines=[{"sku": sku.code, "quantity": 2} for sku in skus]
    )
    link = settings.OMS_PUBLIC_URL.rstrip("/") + reverse(
        "tracking:page", kwargs={"token": orders[0].tracking_token}
    )
    folder = settings.VAR_DIR
    folder.mkdir(parents=True, exist_ok=True)
    (folder / LINK_FILE).write_text(link + "\n")
    return 7


def load(context) -> str | None:
    linked = _link_history()
    fresh = 0
    if not ReturnRequest.objects.filter(note=DEMO_NOTE).exists():
        fresh = _fresh_returns(context)
    if not linked and not fresh:
        return None
    return (
        f"{linked} returns of the order history linked to their restocks, "
        f"{fresh} returns through the after-sales path (two exchanged, one with more to pay)"
    )
