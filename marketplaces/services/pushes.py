"""What goes back to the marketplaces: shipment confirmations and sellable stock.

Shipments: an order shipped here (``orders.signals.order_shipped``) writes one
``ShipmentPush`` per shipment in the same transaction; a task sends it after commit. It
is sent once: the row is locked while sending, a confirmed push is never sent again, and
a retry after a timeout first asks the marketplace whether the first attempt landed.

Stock: a ledger movement that changes what can be sold writes a ``StockPushRequest`` for
the SKU in the same transaction (at most one waiting row per SKU: that is the debounce).
When it is due, the SKU's sellable quantity (on hand - allocated - safety stock, over the
channel's warehouses) is pushed, as one batch per marketplace, to every channel that
lists it, and only where it differs from what was pushed last. A failed SKU is asked for
again with a backoff; every batch is logged (``StockPushBatch``).
"""

import logging
import random
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from inventory.models import StockLevel, Warehouse

from ..connectors import MarketplaceError, PermanentError, TemporaryError, connector_for
from ..models import (
    MarketplaceConnection,
    MarketplaceListing,
    MarketplaceOrder,
    ShipmentPush,
    StockPushBatch,
    StockPushRequest,
)

logger = logging.getLogger(__name__)
MAX_SHIPMENT_ATTEMPTS = 10
# SKUs per statement when a bulk change (a stock import) asks for thousands of pushes.
PUSH_REQUEST_CHUNK = 500


def _backoff(attempts: int) -> timedelta:
    seconds = min(30 * 2 ** max(attempts - 1, 0), 6 * 3600)
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))


# --- shipments -------------------------------------------------------------------------


def record_shipment(*, order, units, carrier, tracking_number, shipment_reference, actor):
    """Called in the shipping transaction: note what must be confirmed, or nothing."""
    link = MarketplaceOrder.objects.select_related("connection").filter(order_id=order.pk).first()
    if link is None or order.fulfilled_by_channel:
        return None
    if actor.label == f"marketplace-sync:{order.channel.code}":
        return None  # the marketplace told us; don't tell it back
    lines = []
    for unit in units:
        external = link.line_refs.get(str(unit.line_id))
        if external:
            lines.append(
                {
                    "line_id": unit.line_id,
                    "external_line_id": external,
                    "sku": unit.sku_code,
                    "quantity": unit.quantity,
                }
            )
    if not lines:
        return None
    reference = shipment_reference or f"{order.number}-{timezone.now():%Y%m%d%H%M%S%f}"
    try:
        with transaction.atomic():
            push = ShipmentPush.objects.create(
                connection=link.connection,
                order=order,
                reference=reference[:100],
                carrier=carrier[:100],
                tracking_number=tracking_number[:100],
                lines=lines,
                next_attempt_at=timezone.now(),
            )
    except IntegrityError:
        return None  # this shipment is already queued
    push_id = push.pk

    def enqueue():
        from ..tasks import push_shipment

        try:
            push_shipment.delay(push_id)
        except Exception:  # broker down: beat's retry_due_pushes sends it
            logger.exception("could not enqueue shipment push %s", push_id)

    transaction.on_commit(enqueue)
    return push


def send_shipment(push_id: int) -> ShipmentPush | None:
    """One attempt, idempotent: a sent push or one not yet due is left alone."""
    with transaction.atomic():
        push = (
            ShipmentPush.objects.select_for_update(of=("self",))
            .select_related("connection__channel")
            .filter(pk=push_id)
            .first()
        )
        if push is None or push.status in (ShipmentPush.Status.SENT, ShipmentPush.Status.FAILED):
            return push
        if push.next_attempt_at and push.next_attempt_at > timezone.now():
            return push
        link = MarketplaceOrder.objects.get(order_id=push.order_id)
        connector = connector_for(push.connection)
        attempts = push.attempts + 1
        try:
            # After a timeout the first try may have landed: ask before sending again.
            if (
                push.attempts
                and push.last_error.startswith("TemporaryError")
                and (connector.shipment_landed(link=link, push=push))
            ):
                push.confirmed({"landed_earlier": True})
            else:
                push.confirmed(connector.confirm_shipment(link=link, push=push))
        except TemporaryError as exc:
            error = f"TemporaryError: {exc.message}"
            if attempts >= MAX_SHIPMENT_ATTEMPTS:
                push.give_up(error)
            else:
                push.retry_later(error, timezone.now() + _backoff(attempts))
        except (PermanentError, MarketplaceError) as exc:
            push.give_up(f"{type(exc).__name__}: {exc.message}")
        push.attempts = attempts
        push.save()
    return push


def requeue_shipment(push: ShipmentPush) -> ShipmentPush:
    with transaction.atomic():
        push = ShipmentPush.objects.select_for_update(of=("self",)).get(pk=push.pk)
        push.requeue()
        push.save()
        push_id = push.pk

        def enqueue():
            from ..tasks import push_shipment

            push_shipment.delay(push_id)

        transaction.on_commit(enqueue)
    return push


def due_shipment_ids(limit=500) -> list[int]:
    return list(
        ShipmentPush.objects.filter(
            status__in=[ShipmentPush.Status.PENDING, ShipmentPush.Status.RETRYING],
            next_attempt_at__lte=timezone.now(),
        ).values_list("pk", flat=True)[:limit]
    )


# --- stock -----------------------------------------------------------------------------


def request_stock_push(sku_ids) -> None:
    """In the stock change's transaction: make sure each SKU that an active listing
    offers waits for a push (a SKU listed nowhere has no one to tell).

    The statement picks the listed SKUs itself: every order placed and every ledger
    movement comes through here, and most of a merchant's catalogue is on no
    marketplace; such a SKU costs this one lookup and writes nothing."""
    wanted = sorted({int(sku_id) for sku_id in sku_ids})
    db = transaction.get_connection()
    due = db.ops.adapt_datetimefield_value(
        timezone.now() + timedelta(seconds=settings.OMS_STOCK_PUSH_DEBOUNCE_SECONDS)
    )
    quote = db.ops.quote_name
    for start in range(0, len(wanted), PUSH_REQUEST_CHUNK):
        chunk = wanted[start : start + PUSH_REQUEST_CHUNK]
        with db.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {quote(StockPushRequest._meta.db_table)} (sku_id, due_at) "
                f"SELECT DISTINCT sku_id, %s FROM {quote(MarketplaceListing._meta.db_table)} "
                f"WHERE active = %s AND sku_id IN ({', '.join(['%s'] * len(chunk))}) "
                "ON CONFLICT (sku_id) DO NOTHING",
                [due, True, *chunk],
            )


def claim_due_requests(limit=2000) -> list[int]:
    """Take the SKUs whose wait is over (each request row is taken by one worker)."""
    with transaction.atomic():
        rows = list(
            StockPushRequest.objects.select_for_update(skip_locked=True)
            .filter(due_at__lte=timezone.now())
            .order_by("due_at")
            .values_list("pk", "sku_id")[:limit]
        )
        StockPushRequest.objects.filter(pk__in=[pk for pk, _ in rows]).delete()
    return [sku_id for _, sku_id in rows]


def sellable(connection, sku_ids) -> dict[int, int]:
    """SKU -> units the channel may sell: on hand - allocated - safety, never below 0."""
    warehouses = list(connection.stock_warehouses.values_list("pk", flat=True))
    if not warehouses:
        warehouses = list(Warehouse.objects.filter(active=True).values_list("pk", flat=True))
    levels = (
        StockLevel.objects.filter(sku_id__in=sku_ids, warehouse_id__in=warehouses)
        .values("sku_id")
        .annotate(units=Sum(F("on_hand") - F("allocated") - F("safety_stock")))
    )
    totals = {sku_id: 0 for sku_id in sku_ids}
    for row in levels:
        totals[row["sku_id"]] = max(int(row["units"] or 0), 0)
    return totals


def push_stock_for(connection, sku_ids, *, force=False) -> StockPushBatch | None:
    """Push the sellable quantity of these SKUs to one channel, where it changed."""
    listings = list(
        MarketplaceListing.objects.filter(connection=connection, sku_id__in=sku_ids, active=True)
    )
    if not listings:
        return None
    quantities = sellable(connection, [listing.sku_id for listing in listings])
    items = [
        (listing, quantities[listing.sku_id])
        for listing in listings
        if force or listing.pushed_quantity != quantities[listing.sku_id] or listing.push_error
    ]
    if not items:
        return None
    batch = StockPushBatch(connection=connection, skus=len(items))
    connector = connector_for(connection)
    try:
        results = connector.push_stock(items)
    except MarketplaceError as exc:
        batch.error = f"{type(exc).__name__}: {exc.message}"
        results = {}
        retry = [listing.sku_id for listing, _ in items]
    else:
        retry = []
    now = timezone.now()
    batch.results = {}
    for listing, quantity in items:
        outcome = results.get(listing.pk)
        ok = bool(outcome and outcome.ok)
        message = (outcome.message if outcome else batch.error)[:500]
        batch.results[listing.seller_sku] = {"quantity": quantity, "ok": ok, "message": message}
        if ok:
            batch.succeeded += 1
            MarketplaceListing.objects.filter(pk=listing.pk).update(
                pushed_quantity=quantity, pushed_at=now, push_error="", push_attempts=0
            )
        else:
            batch.failed += 1
            MarketplaceListing.objects.filter(pk=listing.pk).update(
                push_error=message or "refused", push_attempts=F("push_attempts") + 1
            )
            if outcome is not None and listing.sku_id not in retry:
                retry.append(listing.sku_id)
    batch.save()
    if retry:
        attempts = max(listing.push_attempts for listing, _ in items) + 1
        due = now + _backoff(attempts)
        StockPushRequest.objects.bulk_create(
            [StockPushRequest(sku_id=sku_id, due_at=due) for sku_id in sorted(set(retry))],
            ignore_conflicts=True,
        )
    return batch


def push_due_stock() -> int:
    """Claim every due SKU and push it to each marketplace channel that lists it."""
    sku_ids = claim_due_requests()
    if not sku_ids:
        return 0
    connection_ids = (
        MarketplaceListing.objects.filter(sku_id__in=sku_ids, active=True)
        .filter(connection__stock_push_enabled=True, connection__channel__active=True)
        .values_list("connection_id", flat=True)
        .distinct()
    )
    for connection in MarketplaceConnection.objects.filter(
        pk__in=list(connection_ids)
    ).select_related("channel"):
        try:
            push_stock_for(connection, sku_ids)
        except Exception:
            # One channel failing must not keep the others' stock stale; ask again later.
            logger.exception("stock push to %s failed", connection.channel.code)
            StockPushRequest.objects.bulk_create(
                [StockPushRequest(sku_id=s, due_at=timezone.now() + _backoff(1)) for s in sku_ids],
                ignore_conflicts=True,
            )
    return len(sku_ids)
