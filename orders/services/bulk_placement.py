"""Placing many orders in one transaction (a marketplace page, an import).

Each order is checked and priced by ``placement.build_order`` — the same validation,
pricing, tax, base-currency figures and address checks as ``place_order`` — and gets
the same outcome: hold rules, routing and allocation under the stock locks, the event
trail (created, submitted, allocated/backordered or held, routed, paid) and one
``order.created`` webhook. What differs is only how it is written: customers are found
or created for the whole batch at once; the stock of every SKU of the batch is locked
once, in primary-key order, and each order is routed against that locked snapshot (which
every allocation then reduces, so the batch can't promise a unit twice); orders, lines,
allocations, ledger rows, events and outbox rows are each one INSERT for the batch.

An order that is refused (unknown SKU, bad address, duplicate external id) is reported
in its place in the result and the others are placed. If the batch meets a conflict only
the database sees (another worker imported one of its orders a moment ago), the batch
falls back to placing its orders one by one, each in a savepoint.
"""

import secrets
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone

from inventory import cached as inventory_cached
from inventory import routing, stock
from inventory import selectors as inventory_selectors
from inventory import services as inventory_services
from inventory.models import SKU
from oms_site import webhooks
from oms_site.actors import Actor
from oms_site.batch_cache import batch_cache, remember
from oms_site.bulk_rows import insert_objects, insert_rows, new_ids_of
from oms_site.errors import Conflict, DomainError
from oms_site.money import validate_currency

from ..models import Allocation, Order, OrderEvent, OrderLine, OrderStatus
from . import customers, in_hand, reporting
from .allocation import attach_allocations, decision_details
from .amendments import record_channel_payment
from .events import order_payload
from .placement import build_order, hold_reasons, order_lines_from, place_order

S = OrderStatus
# A batch of at least this many orders writes their first trail events before it locks
# the stock (a marketplace page: hundreds of rows, which other pages on the same SKUs then
# need not wait for). A smaller batch (grouped API requests: two orders on average in the
# bench) writes its whole trail in one statement after routing; the statement saved
# (2 % of an API order's client instructions) is worth more than the few rows written
# under the lock.
EARLY_EVENTS_FROM = 8


def place_orders(
    specs: list[dict],
    *,
    actor: Actor,
    paid_by: str = "",
    read_known_first: bool = True,
    one_by_one_on_conflict: bool = True,
    attach_written: bool = True,
) -> list:
    """``specs``: keyword arguments of ``place_order`` per order (not drafts, no stock
    hold, no chosen warehouse). Returns, in the same order, the placed ``Order`` or the
    ``DomainError`` that refused it. With ``paid_by``, each order is recorded as paid,
    collected by that party (marketplaces collect the buyer's money).

    ``read_known_first``: look up the batch's external ids before writing (a marketplace
    page often holds orders imported before). Without it, the unique constraint finds a
    duplicate and the batch is placed one by one; for batches where one is rare (API
    requests), that saves a read per batch.

    ``one_by_one_on_conflict``: on a conflict only the database sees, place the batch's
    orders one by one, each in a savepoint. Without it the ``IntegrityError`` is raised
    (and the caller's transaction must roll back): the batch then needs no savepoint.

    ``attach_written``: hand each line its allocations as written (each order has its
    lines in hand anyway), so that a reader (the API's answer) needs no query. A caller
    that reads none (a marketplace page) saves the work."""
    assert transaction.get_connection().in_atomic_block, "place_orders needs a transaction"
    with batch_cache():
        options = {
            "actor": actor,
            "paid_by": paid_by,
            "read_known_first": read_known_first,
            "attach_written": attach_written,
        }
        if not one_by_one_on_conflict:
            return _place_batch(specs, **options)
        try:
            with transaction.atomic():
                return _place_batch(specs, **options)
        except IntegrityError:
            return _place_one_by_one(specs, actor=actor, paid_by=paid_by)


def _place_one_by_one(specs, *, actor, paid_by):
    results = []
    for spec in specs:
        try:
            with transaction.atomic():
                order = place_order(**spec, actor=actor)
                if paid_by:
                    order = record_channel_payment(order, actor=actor, collected_by=paid_by)
        except DomainError as exc:
            results.append(exc)
        else:
            results.append(order)
    return results


_SKU_PRODUCT = SKU._meta.get_field("product")
_SKU_SUPPLIER = SKU._meta.get_field("supplier")


def _complete(sku) -> bool:
    """Whether placing can read ``sku``'s product and supplier without a query."""
    return _SKU_PRODUCT.is_cached(sku) and (sku.supplier_id is None or _SKU_SUPPLIER.is_cached(sku))


class _Customers:
    """The buyers of the batch, found or created as placement does
    (``customers.customer_for_order``), once per e-mail and channel, all at once.

    ``build_order`` calls it per order: it notes the buyer (``last_key``) and answers None;
    ``resolve`` then finds or creates the buyers of the orders that were kept (a refused
    order creates no customer), in a few statements for the whole batch."""

    def __init__(self):
        self.wanted = {}
        self.last_key = None

    def __call__(self, raw, email, channel):
        raw = raw or {}
        address = (raw.get("email") or email or "").strip().lower()
        self.last_key = None
        if address:
            self.last_key = (address, channel.pk if channel is not None else None)
            self.wanted.setdefault(
                self.last_key,
                ((raw.get("name") or "").strip(), (raw.get("phone") or "").strip(), channel),
            )
        return None

    def resolve(self, orders_and_keys) -> None:
        keys = {key for _, key in orders_and_keys if key is not None}
        found = customers.customers_for_orders({key: self.wanted[key] for key in keys})
        for order, key in orders_and_keys:
            order.customer = found[key] if key is not None else None


def _event(order, kind, actor, *, message="", from_status="", to_status="", details=None):
    """An event of the trail, as the row to write (no model instance: the batch writes
    five or six an order, and reads none back)."""
    return (
        order,
        {
            "kind": kind,
            "from_status": from_status,
            "to_status": to_status,
            "message": message[:500],
            "details": details or {},
            "actor_kind": actor.kind,
            "actor_label": actor.label[:150],
            "actor_user_id": actor.user_id,
        },
    )


_ORDER_FIELDS = [field.attname for field in Order._meta.concrete_fields]
_LINE_FIELDS = [field.attname for field in OrderLine._meta.concrete_fields]
_ALLOCATION_FIELDS = ["line_id", "warehouse_id", "supplier_id", "quantity"]


def _place_batch(specs, *, actor, paid_by, read_known_first, attach_written):
    results: list = [None] * len(specs)
    find_customer = _Customers()
    buyer_of = {}  # index -> the buyer's key
    # Every SKU of the batch in one query; build_order's checks then find them here. A
    # SKU given with its product and supplier loaded (a marketplace page's, read once
    # for the page) is taken as it is.
    codes = set()
    for spec in specs:
        for line in spec.get("lines") or []:
            sku = line.get("sku") if isinstance(line, dict) else None
            if isinstance(sku, SKU):
                if _complete(sku):
                    remember(("sku", sku.code), sku)
                else:
                    codes.add(sku.code)
            elif isinstance(sku, str):
                codes.add(sku)
    for sku in inventory_selectors.skus_with_product_and_supplier(codes):
        remember(("sku", sku.code), sku)
    built = []  # (index, order, priced)
    seen_ids = {}
    for index, spec in enumerate(specs):
        try:
            channel = spec["channel"]
            if not channel.active:
                from oms_site.errors import ValidationFailed

                raise ValidationFailed(
                    "This sales channel is inactive.", fields={"channel": ["Inactive."]}
                )
            currency = validate_currency(spec.get("currency") or channel.currency)
            external_id = spec.get("external_id")
            external_id = (str(external_id).strip() or None) if external_id is not None else None
            order, priced = build_order(
                **{
                    k: v
                    for k, v in spec.items()
                    if k not in ("channel", "currency", "external_id", "actor")
                },
                channel=channel,
                currency=currency,
                external_id=external_id,
                find_customer=find_customer,
            )
        except DomainError as exc:
            results[index] = exc
            continue
        buyer_of[index] = find_customer.last_key
        key = (channel.pk, external_id)
        if external_id is not None and key in seen_ids:
            results[index] = Conflict(
                f"Order {external_id} appears twice in one batch.",
                fields={"external_id": ["Twice in this batch."]},
                code="duplicate_external_id",
            )
            continue
        seen_ids[key] = index
        built.append((index, order, priced))
    # Orders imported before (one query for the batch).
    pairs = [(o.channel_id, o.external_id) for _, o, _ in built if o.external_id]
    if pairs and read_known_first:
        # By external id alone (the unique index), the channel checked here: with the
        # channel in the query, a new channel's first import (not yet in the planner's
        # statistics) was read through the (channel, id) index, all its orders per batch.
        channels = {c for c, _ in pairs}
        existing = {
            (c, e): n
            for c, e, n in Order.objects.filter(
                external_id__isnull=False, external_id__any=[e for _, e in pairs]
            )
            .order_by()
            .values_list("channel_id", "external_id", "number")
            if c in channels
        }
        kept = []
        for index, order, priced in built:
            number = existing.get((order.channel_id, order.external_id))
            if number:
                results[index] = Conflict(
                    f"Order {order.external_id} of {order.channel.code} already exists "
                    f"as {number}.",
                    fields={"external_id": [f"Already imported as {number}."]},
                    code="duplicate_external_id",
                )
            else:
                kept.append((index, order, priced))
        built = kept
    if not built:
        return results
    find_customer.resolve([(order, buyer_of[index]) for index, order, _ in built])

    now = timezone.now()
    buyers_seen = set()
    events = []  # made before the orders have ids: (order, event)
    lines_of = {}
    for index, order, priced in built:
        order.tracking_token = secrets.token_urlsafe(32)
        lines_of[index] = order_lines_from(priced)
        events.append(
            _event(
                order,
                OrderEvent.Kind.CREATED,
                actor,
                to_status=S.DRAFT,
                message=f"Created from {order.channel.name}"
                + (f" ({order.external_id})" if order.external_id else ""),
                details={
                    "lines": len(lines_of[index]),
                    "grand_total": str(order.grand_total),
                    "currency": order.currency,
                    "order_discount": str(priced.order_discount),
                    "prices_include_tax": priced.prices_include_tax,
                },
            )
        )
        order.submit()
        events.append(
            _event(
                order,
                OrderEvent.Kind.STATUS_CHANGED,
                actor,
                from_status=S.DRAFT,
                to_status=S.PENDING,
            )
        )
        # A buyer's second order in the batch is not a first order, though the first
        # is not written yet.
        reasons = hold_reasons(order, customers_with_orders=buyers_seen)
        if order.customer is not None:
            buyers_seen.add(order.customer.pk)
        if reasons:
            reason = " ".join(reasons)
            order.hold(reason[:300])
            events.append(
                _event(
                    order,
                    OrderEvent.Kind.STATUS_CHANGED,
                    actor,
                    from_status=S.PENDING,
                    to_status=S.ON_HOLD,
                    message="Held by pre-fulfillment checks: " + reason,
                )
            )
    orders, all_lines = _number(built, lines_of, now)
    for index, order, _ in built:
        # The order has its id now: its transitions' conditions read the lines in hand.
        in_hand.attach(order, "lines", lines_of[index])

    # What routing does not change is written before the stock is locked: two batches on
    # the same SKUs (two marketplace workers) wait for each other only while one routes
    # and records its allocations. These rows are new and unique to this batch, so
    # writing them first can't make anyone wait. Their trail events get the lower ids,
    # so each order's trail still reads in order. A small batch keeps its first events
    # for the trail's one write after routing (EARLY_EVENTS_FROM), in the same order.
    collected = []
    if paid_by:
        from ..payments.services import record_collected_by_marketplace

        for order in orders:
            order.payment_captured()
        collected = record_collected_by_marketplace(orders, actor=actor)
    if len(orders) >= EARLY_EVENTS_FROM:
        _insert_events(events)
        events = []

    routed = _route_and_allocate(built, lines_of, actor, events)

    # Under the stock locks: the orders (their status and routing decision), lines,
    # allocations, the rest of their trails, each table in one COPY (PostgreSQL).
    insert_objects(orders, _ORDER_FIELDS)
    insert_objects(all_lines, _LINE_FIELDS)
    insert_objects(
        [allocation for rows in routed.allocations_of.values() for allocation in rows],
        _ALLOCATION_FIELDS,
    )
    if routed.stock_items:
        stock.allocate_many(routed.stock_items, reference="", actor=actor)
    for order, explanation in routed.explanations:
        events.append(
            _event(
                order,
                OrderEvent.Kind.ROUTED,
                actor,
                message=explanation,
                details=order.routing_decision,
            )
        )
    if paid_by:
        for order in orders:
            events.append(
                _event(
                    order,
                    OrderEvent.Kind.PAYMENT,
                    actor,
                    from_status="unpaid",
                    to_status=order.payment_status,
                    message=f"Paid: collected by {paid_by}",
                    details={"amount": str(order.grand_total), "currency": order.currency},
                )
            )
    _insert_events(events)
    # After the stock locks, like place_order: the home page counts the batch at once.
    reporting.record_placed_many(orders)
    # Webhooks in place_order's order: the order is created, then paid.
    published = [("order.created", order_payload(order)) for order in orders]
    if collected:
        from ..payments.services import collected_events

        published += collected_events(collected)
    webhooks.publish_batch(published)
    for index, order, _ in built:
        order.placed_lines = lines_of[index]  # callers need the lines' ids, in order
        if attach_written:
            # Readers (the API's answer) get the allocations just written, unread.
            attach_allocations(lines_of[index], routed.allocations_of.get(index, []))
        results[index] = order
    return results


def _number(built, lines_of, now) -> tuple[list, list]:
    """Draw the orders' and lines' ids first, so that every row (the number, the stored
    routing decision naming its lines) is complete when it is written. Returns the
    batch's orders and all their lines."""
    orders = [order for _, order, _ in built]
    all_lines = [line for index, _, _ in built for line in lines_of[index]]
    order_ids, line_ids = new_ids_of((Order, len(orders)), (OrderLine, len(all_lines)))
    for order, pk in zip(orders, order_ids, strict=True):
        order.pk = pk
        order.number = f"SO-{pk:07d}"  # like place_order; more digits past 9,999,999
        order.created_at = order.updated_at = now
    for line, pk in zip(all_lines, line_ids, strict=True):
        line.pk = pk
    for index, order, _ in built:
        for line in lines_of[index]:
            line.order = order
    return orders, all_lines


def _insert_events(events) -> None:
    # The orders had no ids when their events were made. The trail is the batch's largest
    # write (five or six rows an order): COPY, not INSERT.
    insert_rows(OrderEvent, [{"order_id": order.pk, **row} for order, row in events])


@dataclass
class _Routed:
    allocations_of: dict = field(default_factory=dict)  # index -> [Allocation]
    stock_items: list = field(default_factory=list)  # (level, units, reference)
    explanations: list = field(default_factory=list)  # (order, explanation)


def _route_and_allocate(built, lines_of, actor, events) -> _Routed:
    """Route the batch's pending orders under its stock locks (taken once, in pk order)
    against one snapshot, which every allocation then reduces (the batch can't promise a
    unit twice). Sets each order's status and stored decision; appends the status events."""
    routed = _Routed()
    to_route = [(i, o) for i, o, _ in built if o.status == S.PENDING]
    if not to_route:
        return routed
    sku_ids = sorted({ln.sku_id for i, _ in to_route for ln in lines_of[i]})
    levels = stock.lock_levels_for_routing(sku_ids)
    by_pair = {(lv.sku_id, lv.warehouse_id): lv for lv in levels}
    options = inventory_cached.routing_options()
    skus = {ln.sku_id: ln.sku for i, _ in to_route for ln in lines_of[i]}
    snapshot = inventory_services.snapshot_from_levels(
        levels, respect_safety_stock=options.respect_safety_stock, skus=skus.values()
    )
    for index, order in to_route:
        lines = lines_of[index]
        decision = routing.route(
            [routing.RouteLine(key, ln.sku_id, ln.quantity) for key, ln in enumerate(lines)],
            routing.Destination(
                order.ship_to_country, order.ship_to_latitude, order.ship_to_longitude
            ),
            snapshot,
            options.config,
        )
        allocations = routed.allocations_of.setdefault(index, [])
        for assignment in decision.assignments:
            line = lines[assignment.line_key]
            line.quantity_allocated += assignment.quantity
            allocations.append(
                Allocation(
                    line=line,
                    warehouse_id=assignment.warehouse_id,
                    supplier_id=assignment.supplier_id,
                    quantity=assignment.quantity,
                )
            )
            if assignment.warehouse_id is not None:
                pair = (assignment.warehouse_id, assignment.sku_id)
                snapshot.available[pair] = snapshot.available.get(pair, 0) - assignment.quantity
                routed.stock_items.append(
                    (
                        by_pair[(assignment.sku_id, assignment.warehouse_id)],
                        assignment.quantity,
                        f"order:{order.number}",
                    )
                )
        if all(ln.quantity_allocated == ln.quantity for ln in lines):
            order.mark_allocated()
        else:
            order.mark_backordered()
        events.append(
            _event(
                order,
                OrderEvent.Kind.STATUS_CHANGED,
                actor,
                from_status=S.PENDING,
                to_status=order.status,
            )
        )
        details = decision_details(decision, snapshot)
        # The decision names lines by their position; the stored one by their id.
        for entry in details["assignments"]:
            entry["line"] = lines[entry["line"]].pk
        details["backordered"] = {
            str(lines[int(k)].pk): v for k, v in details["backordered"].items()
        }
        order.routing_decision = details
        routed.explanations.append((order, decision.explanation))
    return routed
