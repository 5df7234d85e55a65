"""Importing marketplace orders: upsert by (channel, external id), never twice.

``ingest_page`` takes the records of one page (already completed by the connector, HTTP
done) and writes them in **one transaction**: the existing orders of the page are locked
first (pk order), then, when any of them changes, the stock of every SKU on the page (pk
order) — the lock order of every other path, so pages processed by two workers at once
never deadlock; new orders alone leave the stock to the bulk placement, which locks it
after pricing and checks. Each change is written inside a savepoint: a record that can't
be read or placed is kept as a ``SyncFailure`` (payload and error, replayable) and the
rest of the page goes on.

New orders that are paid and shipped by the merchant go through the bulk placement
(``orders.services.bulk_placement``: every check and guarantee of ``place_order``,
batched). Others — awaiting payment, held, fulfilled by the marketplace, already shipped
or cancelled before we saw them — get the state the marketplace reports, through the
orders app's own services and transitions. A re-read order whose marketplace version
(last-updated time) is the one we have is left alone; a changed one is brought in step:
paid (released from the payment hold), cancelled (whole or some units), address edited,
shipped by the marketplace.
"""

import contextlib
import logging
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils.dateparse import parse_datetime

from inventory import stock
from inventory.models import SKU
from inventory.selectors import skus_with_product_and_supplier
from oms_site.actors import Actor
from oms_site.bulk_rows import insert_rows
from oms_site.errors import DomainError
from orders import services as order_services
from orders.models import Order, OrderStatus
from orders.services import amendments, bulk_placement

from ..connectors import MalformedRecord, RemoteOrder, Target
from ..models import MarketplaceListing, MarketplaceOrder, SyncFailure

logger = logging.getLogger(__name__)
S = OrderStatus
PAYMENT_HOLD_PREFIX = "Awaiting payment on "
PLACEHOLDER = "(not released by the marketplace yet)"


def sync_actor(connection) -> Actor:
    return Actor.system(f"marketplace-sync:{connection.channel.code}")


@dataclass
class PageResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    max_updated_at: object = None
    failures: list = field(default_factory=list)
    orders: list = field(default_factory=list)

    def seen(self, remote: RemoteOrder):
        if self.max_updated_at is None or remote.updated_at > self.max_updated_at:
            self.max_updated_at = remote.updated_at


class SkuResolver:
    """Seller SKU -> our SKU: the channel's listing first, else our SKU code."""

    def __init__(self, connection, seller_skus):
        seller_skus = set(seller_skus)
        listed = dict(
            MarketplaceListing.objects.filter(
                connection=connection, seller_sku__in=seller_skus
            ).values_list("seller_sku", "sku__code")
        )
        # A seller SKU no listing names is taken as our SKU code.
        code_of = {seller: seller for seller in seller_skus} | listed
        # Our SKUs with their product and supplier, as placing the orders reads them (it
        # takes them as they are and does not read them again).
        skus = {sku.code: sku for sku in skus_with_product_and_supplier(set(code_of.values()))}
        self.by_seller = {seller: skus[code] for seller, code in code_of.items() if code in skus}

    def __call__(self, seller_sku) -> SKU | None:
        return self.by_seller.get(seller_sku)


def _lines_spec(remote: RemoteOrder, resolve) -> list[dict]:
    spec = []
    for line in remote.lines:
        sku = resolve(line.seller_sku)
        if sku is None:
            raise MalformedRecord(
                f"Seller SKU {line.seller_sku!r} is neither listed on this channel "
                "nor a SKU of ours.",
                external_id=remote.external_id,
            )
        spec.append(
            {
                "sku": sku,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "discount": line.discount,
                "tax": line.tax,
            }
        )
    if not spec:
        raise MalformedRecord("The order has no line to import.", external_id=remote.external_id)
    return spec


def placement_spec(connection, remote: RemoteOrder, resolve, *, draft: bool) -> dict:
    """Keyword arguments of ``place_order`` for a marketplace order."""
    address = remote.shipping_address
    if address is None:
        country = (connection.options or {}).get("country", "")
        address = {
            "name": PLACEHOLDER,
            "line1": PLACEHOLDER,
            "city": PLACEHOLDER,
            "country": country,
        }
    email = remote.email or ""
    return {
        "channel": connection.channel,
        "external_id": remote.external_id,
        "currency": remote.currency,
        "lines": _lines_spec(remote, resolve),
        "shipping_address": address,
        "customer": {"email": email, "name": remote.buyer_name[:200], "phone": remote.phone[:40]}
        if email
        else None,
        "email": email,
        "shipping_total": remote.shipping_total,
        "shipping_tax": remote.shipping_tax,
        # Connectors send net prices with the marketplace's own tax amounts.
        "prices_include_tax": False,
        "shipping_method": remote.shipping_method,
        "tags": ["fulfilled-by-marketplace"] if remote.fulfilled_by_marketplace else [],
        "placed_at": remote.purchased_at,
        "draft": draft,
    }


def _link(connection, order, remote: RemoteOrder) -> dict:
    """The order's ``MarketplaceOrder`` row (field attnames: a page writes a hundred, and
    reads none back)."""
    lines = getattr(order, "placed_lines", None) or list(order.lines.order_by("pk"))
    refs = {str(line.pk): rl.external_id for line, rl in zip(lines, remote.lines, strict=False)}
    return {
        "order_id": order.pk,
        "connection_id": connection.pk,
        "external_id": remote.external_id,
        "marketplace_status": remote.status,
        "fulfilment": MarketplaceOrder.Fulfilment.MARKETPLACE
        if remote.fulfilled_by_marketplace
        else MarketplaceOrder.Fulfilment.MERCHANT,
        "remote_updated_at": remote.updated_at,
        "content_hash": remote.content_hash(),
        "line_refs": refs,
        "marketplace_totals": _totals(remote),
        "payload": remote.raw,
    }


def _totals(remote: RemoteOrder) -> dict:
    return {
        "grand_total": None if remote.grand_total is None else str(remote.grand_total),
        "shipping_tax": str(remote.shipping_tax),
        "currency": remote.currency,
        "line_quantities": {ln.external_id: ln.quantity for ln in remote.lines},
    }


def _place_special(connection, remote, resolve, actor) -> Order:
    """A new order that must not be routed as it is: awaiting payment, held, fulfilled by
    the marketplace, or already shipped / cancelled when we first see it."""
    label = remote.marketplace_label or connection.channel.name
    order = order_services.place_order(
        **placement_spec(connection, remote, resolve, draft=True), actor=actor
    )
    order = amendments.submit_unrouted(order, actor=actor, placed_at=remote.purchased_at)
    if remote.fulfilled_by_marketplace:
        Order.objects.filter(pk=order.pk).update(fulfilled_by_channel=True)
        order.fulfilled_by_channel = True
    target = remote.target
    if target == Target.CANCELLED:
        return order_services.cancel_order(order, actor=actor, reason=f"cancelled on {label}")
    if target == Target.SHIPPED:
        amendments.record_channel_payment(order, actor=actor, collected_by=label)
        by = label if remote.fulfilled_by_marketplace else f"the merchant before import ({label})"
        return amendments.record_fulfilled_elsewhere(order, actor=actor, by=by)
    if remote.fulfilled_by_marketplace:
        if target not in (Target.AWAITING_PAYMENT,):
            amendments.record_channel_payment(order, actor=actor, collected_by=label)
        return order  # stays pending until the marketplace ships it; never allocated here
    if target == Target.AWAITING_PAYMENT:
        return order_services.hold_order(
            order, reason=f"{PAYMENT_HOLD_PREFIX}{label}.", actor=actor
        )
    reason = {
        Target.HOLD: f"{label} reports status {remote.status}: check before shipping.",
        Target.PARTIALLY_SHIPPED: f"Partly shipped on {label} before import: check what is left.",
        Target.RECORD_ONLY: f"{label} reports status {remote.status}.",
        Target.SHIPPED: f"{label} reports it shipped.",
    }[target]
    return order_services.hold_order(order, reason=reason, actor=actor)


def _apply_changes(connection, link, remote, resolve, actor) -> bool:
    """Bring an existing order in step with the marketplace; True if anything changed."""
    order = link.order
    label = remote.marketplace_label or connection.channel.name
    changed = False
    # Address: the marketplace edited it (or released it once paid), while not shipped.
    if remote.shipping_address and order.status in amendments.ADDRESS_EDITABLE:
        before = order.shipping_address
        order = amendments.update_shipping_address(
            order, address=remote.shipping_address, actor=actor, source=label
        )
        changed |= order.shipping_address != before
    # Some units cancelled on the marketplace (whole-order cancellation below).
    if remote.target != Target.CANCELLED:
        refs = {v: int(k) for k, v in link.line_refs.items()}
        lines = {line.pk: line for line in order.lines.all()}
        to_cancel = {}
        for rl in remote.lines:
            line = lines.get(refs.get(rl.external_id))
            if line is not None and rl.quantity_cancelled > line.quantity_cancelled:
                to_cancel[line.pk] = rl.quantity_cancelled - line.quantity_cancelled
        if to_cancel and order.status in (*amendments.ADDRESS_EDITABLE, S.PARTIALLY_SHIPPED):
            order = amendments.cancel_units(
                order, quantities=to_cancel, actor=actor, reason=f"cancelled on {label}"
            )
            changed = True
    target = remote.target
    if target == Target.CANCELLED and order.status != S.CANCELLED:
        if order.status in (S.DRAFT, S.PENDING, S.ON_HOLD, S.BACKORDERED, S.ALLOCATED):
            order = order_services.cancel_order(order, actor=actor, reason=f"cancelled on {label}")
        else:
            order_services.add_note(
                order,
                text=f"{label} reports this order cancelled, but it is {order.status} here.",
                actor=actor,
            )
        changed = True
    elif target in (Target.TO_SHIP, Target.PARTIALLY_SHIPPED, Target.SHIPPED):
        if order.payment_status != order.P.PAID:
            order = amendments.record_channel_payment(order, actor=actor, collected_by=label)
            changed = True
        if order.status == S.ON_HOLD and order.hold_reason.startswith(PAYMENT_HOLD_PREFIX):
            order = order_services.release_order(order, actor=actor, note=f"paid on {label}")
            changed = True
        if (
            target == Target.SHIPPED
            and order.fulfilled_by_channel
            and order.status in (S.PENDING, S.ON_HOLD)
        ):
            order = amendments.record_fulfilled_elsewhere(order, actor=actor, by=label)
            changed = True
        if (
            target == Target.SHIPPED
            and not order.fulfilled_by_channel
            and order.status
            in (
                S.PENDING,
                S.BACKORDERED,
                S.ALLOCATED,
            )
        ):
            # Shipped on the marketplace but not here: stop it before it is picked twice.
            order = order_services.hold_order(
                order, reason=f"{label} reports it shipped; it was not shipped here.", actor=actor
            )
            changed = True
    return changed


def classify(connector, record, *, links, result: PageResult):
    """What a record needs, without writing: None (nothing: the version we have),
    ("bulk", remote) for a new paid order, ("write", remote, link) for the others."""
    known = links.get(connector.record_id(record))
    stamp = parse_datetime(connector.record_updated_at(record) or "")
    if known is not None and stamp is not None and known.remote_updated_at == stamp:
        result.unchanged += 1  # the version we have (its lines were not fetched again)
        if result.max_updated_at is None or stamp > result.max_updated_at:
            result.max_updated_at = stamp
        return None
    remote = connector.map_order(record)
    result.seen(remote)
    link = links.get(remote.external_id)
    if link is not None:
        if link.remote_updated_at and remote.updated_at < link.remote_updated_at:
            result.unchanged += 1  # an older version (read out of order): keep ours
            return None
        if remote.content_hash() == link.content_hash:
            if remote.updated_at != link.remote_updated_at:
                MarketplaceOrder.objects.filter(pk=link.pk).update(
                    remote_updated_at=remote.updated_at
                )
            result.unchanged += 1
            return None
        return "write", remote, link
    if remote.target == Target.CANCELLED and not remote.lines:
        result.unchanged += 1  # cancelled before we ever saw it, nothing left to record
        return None
    if remote.target == Target.TO_SHIP and not remote.fulfilled_by_marketplace:
        return "bulk", remote
    return "write", remote, None


def write_one(connection, remote, link, *, resolve, actor, result: PageResult):
    """Bring a known order in step, or place a new one that must not be routed as is."""
    if link is not None:
        changed = _apply_changes(connection, link, remote, resolve, actor)
        MarketplaceOrder.objects.filter(pk=link.pk).update(
            marketplace_status=remote.status,
            remote_updated_at=remote.updated_at,
            content_hash=remote.content_hash(),
            marketplace_totals=_totals(remote),
            payload=remote.raw,
        )
        if changed:
            result.updated += 1
        else:
            result.unchanged += 1
        return
    order = _place_special(connection, remote, resolve, actor)
    MarketplaceOrder.objects.bulk_create([MarketplaceOrder(**_link(connection, order, remote))])
    result.created += 1
    result.orders.append(order.pk)


def record_failure(connection, run, record, connector, error: str):
    external_id = ""
    with contextlib.suppress(Exception):  # a record too broken to name
        external_id = connector.record_id(record)
    return SyncFailure(
        connection=connection,
        run=run,
        external_id=external_id[:100],
        payload=record if isinstance(record, dict) else {"record": repr(record)},
        error=error[:4000],
    )


def _updated_ids(records, connector):
    return [connector.record_id(r) for r in records if isinstance(r, dict)]


def lock_page_orders(connection, records, connector) -> dict:
    """Lock the page's orders we already have (pk order): the first of the global lock
    order, orders then stock. Returns their links by external id."""
    ids = [i for i in _updated_ids(records, connector) if i]
    links = {
        link.external_id: link
        for link in MarketplaceOrder.objects.filter(connection=connection, external_id__any=ids)
    }
    if links:
        locked = (
            Order.objects.select_for_update(of=("self",))
            .filter(pk__in=[link.order_id for link in links.values()])
            .order_by("pk")
        )
        orders = {o.pk: o for o in locked.select_related("channel")}
        for link in links.values():
            link.order = orders[link.order_id]
    return links


def seller_skus_of(records, connector) -> set:
    skus = set()
    for record in records:
        if isinstance(record, dict):
            with contextlib.suppress(Exception):  # a broken record fails on its own later
                skus.update(connector.seller_skus(record))
    skus.discard("")
    return skus


def ingest_page(connection, connector, run, records) -> PageResult:
    """Import one page of completed records in one transaction (the caller's)."""
    result = PageResult()
    actor = sync_actor(connection)
    resolve = SkuResolver(connection, seller_skus_of(records, connector))
    links = lock_page_orders(connection, records, connector)
    failures = []
    bulk, writes = [], []
    for record in records:
        try:
            outcome = classify(connector, record, links=links, result=result)
        except (MalformedRecord, DomainError) as exc:
            failures.append(_failure(connection, run, record, connector, exc))
            continue
        if outcome is not None and outcome[0] == "bulk":
            bulk.append((record, outcome[1]))
        elif outcome is not None:
            writes.append((record, outcome[1], outcome[2]))
    if writes:
        # A change may move the stock of any SKU of the page, in no particular order:
        # lock them all first, in pk order. A page of new orders only leaves this to the
        # bulk placement, which locks its SKUs just before routing, after the pricing
        # and the checks, so that two workers' pages wait for each other less.
        stock.lock_levels_for_skus(sku.pk for sku in resolve.by_seller.values() if sku)
    for record, remote, link in writes:
        try:
            with transaction.atomic():  # a refused change fails this record alone
                write_one(connection, remote, link, resolve=resolve, actor=actor, result=result)
        except (MalformedRecord, DomainError, IntegrityError) as exc:
            failures.append(_failure(connection, run, record, connector, exc))
    if bulk:
        # The same new order twice on a page (changed while paged): keep its newest version.
        newest = {}
        for record, remote in bulk:
            kept = newest.get(remote.external_id)
            if kept is None or remote.updated_at >= kept[1].updated_at:
                newest[remote.external_id] = (record, remote)
        result.unchanged += len(bulk) - len(newest)
        bulk = list(newest.values())
        _place_bulk(connection, run, bulk, resolve, actor, result, failures, connector)
    if failures:
        SyncFailure.objects.bulk_create(failures)
    result.failed += len(failures)
    result.failures = failures
    return result


def _failure(connection, run, record, connector, exc) -> SyncFailure:
    message = getattr(exc, "reason", None) or getattr(exc, "message", None) or str(exc)
    if isinstance(exc, DomainError) and exc.fields:
        message += " " + "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.fields.items())
    return record_failure(connection, run, record, connector, message)


def _place_bulk(connection, run, bulk, resolve, actor, result, failures, connector):
    specs, remotes, records = [], [], []
    for record, remote in bulk:
        try:
            specs.append(placement_spec(connection, remote, resolve, draft=False))
            remotes.append(remote)
            records.append(record)
        except MalformedRecord as exc:
            failures.append(_failure(connection, run, record, connector, exc))
    if not specs:
        return
    label = f"marketplace {connection.channel.name}"
    outcomes = bulk_placement.place_orders(specs, actor=actor, paid_by=label, attach_written=False)
    new_links = []
    for record, remote, outcome in zip(records, remotes, outcomes, strict=True):
        if isinstance(outcome, DomainError) and outcome.code == "duplicate_external_id":
            # Another worker's page imported it a moment ago; the overlap re-reads it.
            result.unchanged += 1
            continue
        if isinstance(outcome, Exception):
            failures.append(_failure(connection, run, record, connector, outcome))
            continue
        new_links.append(_link(connection, outcome, remote))
        result.orders.append(outcome.pk)
    # The links carry each order's raw record (JSON): COPY (PostgreSQL), not INSERT.
    insert_rows(MarketplaceOrder, new_links)
    result.created += len(new_links)


__all__ = ["PageResult", "ingest_page", "parse_datetime"]
