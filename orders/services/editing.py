"""Editing an order after it was placed: quantities, lines added or removed, the shipping
address — until a picker starts on it.

One transaction, in the lock order every other path follows: the order row, then every
stock level of the SKUs it had and gets (``stock.lock_levels_for_skus``, pk order). A
routed order gives its allocations back and is routed again on that locked snapshot, so
an edit racing another order's allocation can neither oversell nor lose units. Every
change is an ``edited`` event with its before and after; the lines and totals are priced
again through ``pricing.price_order``; the payment difference is settled in the same
transaction (a refund of what was captured beyond the new total, or a capture of what the
authorization still covers), the gateway being asked after commit.

When "picking started" is a fact fulfillment owns, but orders may not import it: the
warehouse work calls ``mark_picking_started`` (and ``mark_picking_stopped`` when a list
is given up) and orders keeps the moment on ``Order.picking_started_at``.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from inventory import geocoding, stock
from oms_site import webhooks
from oms_site.actors import Actor
from oms_site.errors import ValidationFailed
from oms_site.money import quantize, to_decimal

from ..access import check_order_access
from ..models import Allocation, Order, OrderEvent, OrderLine, OrderStatus
from ..signals import allocations_released
from . import pricing, reporting
from .allocation import allocate_order, release_allocations
from .events import lock_order, order_payload, record_event, run_transition
from .placement import (
    MAX_AMOUNT,
    base_currency_figures,
    clean_address,
    hold_reasons,
    skus_by_code,
)

S = OrderStatus
ZERO = Decimal(0)
EDITABLE = (S.DRAFT, S.PENDING, S.ON_HOLD, S.BACKORDERED, S.ALLOCATED)
ROUTED = (S.ALLOCATED, S.BACKORDERED)
MAX_QUANTITY = 100_000


class NotEditable(ValidationFailed):
    """The order can't be edited now (picking started, shipped, cancelled, ...)."""

    code = "order_not_editable"


def not_editable_reason(order) -> str | None:
    """Why the order can't be edited now, or None when it can."""
    if order.status not in EDITABLE:
        return f"Order {order.number} is {S(order.status).label.lower()}."
    if order.picking_started_at is not None:
        return f"Picking of order {order.number} has started."
    if order.fulfilled_by_channel or order.channel.collected_by_marketplace:
        return f"Order {order.number} belongs to {order.channel.name}: edit it there."
    return None


def is_editable(order) -> bool:
    return not_editable_reason(order) is None


@dataclass
class _Change:
    """One line's change: ``line`` (existing) or ``sku`` (new), to ``quantity``."""

    index: int
    quantity: int
    line: OrderLine | None = None
    sku: object = None
    unit_price: Decimal | None = None


@dataclass
class _Plan:
    changes: list[_Change] = field(default_factory=list)
    address: dict | None = None


def _money(value, *, path, currency) -> Decimal:
    amount = to_decimal(value, field=path)
    if amount < 0:
        raise ValidationFailed(f"{path} must not be negative.", fields={path: ["Must be >= 0."]})
    if amount != quantize(amount, currency):
        raise ValidationFailed(
            f"{path} has more decimals than {currency} allows.",
            fields={path: [f"Too many decimals for {currency}."]},
        )
    if amount >= MAX_AMOUNT:
        raise ValidationFailed(f"{path} is too large.", fields={path: ["Too large."]})
    return amount


def _plan(order, lines_by_id, raw_lines, shipping_address) -> _Plan:
    """Check the requested changes; every problem is named by its dotted path."""
    plan, errors, seen = _Plan(), {}, set()
    if not isinstance(raw_lines, list | tuple):
        raise ValidationFailed("lines must be a list.", fields={"lines": ["Must be a list."]})
    codes = [raw.get("sku") for raw in raw_lines if isinstance(raw, dict) and raw.get("sku")]
    skus = skus_by_code([code for code in codes if isinstance(code, str)])
    for index, raw in enumerate(raw_lines):
        path = f"lines.{index}"
        if not isinstance(raw, dict):
            errors[path] = ["Must be an object."]
            continue
        line_id, code = raw.get("line"), raw.get("sku")
        if (line_id is None) == (code in (None, "")):
            errors[path] = ["Give either line (to change a line) or sku (to add one)."]
            continue
        quantity = raw.get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
            errors[f"{path}.quantity"] = ["A whole number, 0 or more."]
            continue
        if quantity > MAX_QUANTITY:
            errors[f"{path}.quantity"] = [f"At most {MAX_QUANTITY}."]
            continue
        unit_price = None
        if raw.get("unit_price") is not None:
            try:
                unit_price = _money(
                    raw["unit_price"], path=f"{path}.unit_price", currency=order.currency
                )
            except ValidationFailed as exc:
                errors.update(exc.fields)
                continue
        if line_id is not None:
            line = lines_by_id.get(line_id) if isinstance(line_id, int) else None
            if line is None or is_removed(line):
                errors[f"{path}.line"] = [f"Line {line_id} is not on order {order.number}."]
                continue
            if line_id in seen:
                errors[f"{path}.line"] = ["This line is changed twice."]
                continue
            seen.add(line_id)
            floor = line.quantity_cancelled + line.quantity_shipped
            if 0 < quantity <= floor:
                errors[f"{path}.quantity"] = [
                    f"More than the {floor} unit(s) already cancelled or shipped, or 0."
                ]
                continue
            plan.changes.append(_Change(index, quantity, line=line, unit_price=unit_price))
            continue
        sku = skus.get(code) if isinstance(code, str) else None
        if sku is None:
            errors[f"{path}.sku"] = [f"Unknown SKU '{code}'."]
            continue
        if not sku.active:
            errors[f"{path}.sku"] = [f"SKU '{sku.code}' is not active."]
            continue
        if quantity == 0:
            errors[f"{path}.quantity"] = ["A new line needs 1 or more."]
            continue
        if unit_price is None and sku.currency != order.currency:
            errors[f"{path}.unit_price"] = [f"Required: the catalogue price is in {sku.currency}."]
            continue
        plan.changes.append(
            _Change(
                index,
                quantity,
                sku=sku,
                unit_price=unit_price
                if unit_price is not None
                else quantize(sku.price, order.currency),
            )
        )
    if shipping_address is not None:
        try:
            plan.address = clean_address(shipping_address, "shipping_address")
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationFailed("The edit is not valid; nothing was changed.", fields=errors)
    return plan


def is_removed(line) -> bool:
    """A line removed by an edit (or every unit cancelled): it no longer counts."""
    return line.quantity_cancelled >= line.quantity


def _effective(plan, lines) -> list[_Change]:
    """Drop changes that change nothing (same quantity, same price)."""
    effective = []
    for change in plan.changes:
        line = change.line
        if (
            line is not None
            and change.quantity == line.quantity
            and (change.unit_price is None or change.unit_price == line.unit_price)
        ):
            continue
        effective.append(change)
    return effective


def _address_summary(address: dict) -> str:
    parts = [address.get("line1", ""), address.get("postal_code", ""), address.get("city", "")]
    return " ".join(p for p in parts if p) + f", {address.get('country', '')}"


def _totals(order) -> dict:
    return {
        "subtotal": str(order.subtotal),
        "discount_total": str(order.discount_total),
        "tax_total": str(order.tax_total),
        "shipping_total": str(order.shipping_total),
        "grand_total": str(order.grand_total),
    }


def _line_state(line) -> dict:
    return {
        "quantity": line.quantity,
        "unit_price": str(line.unit_price),
        "discount": str(line.discount_amount),
        "tax": str(line.tax_amount),
        "line_total": str(line.line_total),
    }


@transaction.atomic
def edit_order(
    order, *, actor: Actor, lines=(), shipping_address: dict | None = None, reason: str = ""
) -> Order:
    """Change an order that no picker has started on.

    ``lines``: ``{"line": id, "quantity": n}`` sets an existing line's quantity (0 removes
    it), ``{"sku": code, "quantity": n}`` adds a line; either may carry ``unit_price``
    (default: the line's price, or the catalogue's for a new line). ``shipping_address``
    replaces the address. Refused with 422 ``order_not_editable`` (naming why) once
    picking started, or when the order shipped, was cancelled or belongs to a marketplace;
    with 422 ``invalid`` naming the field for a bad change. Nothing is written then.
    An edit that changes nothing writes nothing (a retry is harmless).
    """
    order = lock_order(order)
    check_order_access(order, actor=actor)
    refusal = not_editable_reason(order)
    if refusal:
        raise NotEditable(refusal, fields={"status": [refusal]})
    reason = (reason or "").strip()[:300]
    all_lines = list(order.lines.select_related("sku__product").order_by("pk"))
    lines_by_id = {line.pk: line for line in all_lines}
    plan = _plan(order, lines_by_id, list(lines or ()), shipping_address)
    changes = _effective(plan, all_lines)
    address = plan.address if plan.address not in (None, order.shipping_address) else None
    if not changes and address is None:
        return order
    live_after = {line.pk: line.quantity for line in all_lines if not is_removed(line)} | {
        c.line.pk: c.quantity for c in changes if c.line is not None
    }
    if not any(live_after.values()) and not any(c.sku for c in changes):
        raise ValidationFailed(
            "An order keeps at least one line: cancel the order instead.",
            fields={"lines": ["Every line would be removed."]},
        )

    before_status = order.status
    before_totals = _totals(order)
    before_revenue = reporting.revenue_of(order)
    events = []

    old_country = order.ship_to_country
    location_changed = False
    if address is not None:
        previous = order.shipping_address
        location = geocoding.locate(address["country"], address["city"])
        new_point = (location.latitude, location.longitude) if location else (None, None)
        location_changed = address["country"] != order.ship_to_country or new_point != (
            order.ship_to_latitude,
            order.ship_to_longitude,
        )
        order.shipping_address = address
        order.ship_to_country = address["country"]
        order.ship_to_latitude, order.ship_to_longitude = new_point
        events.append(
            (
                f"Shipping address: {_address_summary(previous)} → {_address_summary(address)}",
                {"change": "shipping_address", "before": previous, "after": address},
            )
        )

    new_lines, releases = [], []
    for change in changes:
        line = change.line
        if line is None:
            new_lines.append(
                OrderLine(
                    order=order,
                    sku=change.sku,
                    sku_code=change.sku.code,
                    name=change.sku.display_name[:200],
                    quantity=change.quantity,
                    unit_price=change.unit_price,
                    prices_include_tax=order.prices_include_tax,
                    line_total=ZERO,
                )
            )
            continue
        before = _line_state(line)
        if change.quantity == 0:
            releases.append((line, line.quantity_allocated))
            line.quantity_cancelled = line.quantity
            events.append(
                (
                    f"Line removed: {line.sku_code} x{line.quantity}",
                    {
                        "change": "line_removed",
                        "line": line.pk,
                        "sku": line.sku_code,
                        "before": before,
                        "after": None,
                    },
                )
            )
            continue
        needed = change.quantity - line.quantity_cancelled - line.quantity_shipped
        if line.quantity_allocated > needed:
            releases.append((line, line.quantity_allocated - needed))
        if change.quantity != line.quantity:
            # The line's own discount stays the same per unit.
            line.discount_amount = quantize(
                line.discount_amount * change.quantity / line.quantity, order.currency
            )
        line.quantity = change.quantity
        if change.unit_price is not None:
            line.unit_price = change.unit_price
        line._edit_before = before
    live = [line for line in all_lines if not is_removed(line)] + new_lines
    if changes or order.ship_to_country != old_country:
        _price(order, live, all_lines)
    after_totals = _totals(order)
    stock.lock_levels_for_skus(
        [line.sku_id for line in all_lines] + [line.sku.pk for line in new_lines]
    )
    if after_totals != before_totals:
        # The sales rollup's row after the stock rows, in the order placement and
        # cancellation take them.
        reporting.record_revenue_change(order, before_revenue)
    # A routed order gives everything back and is routed again below, on the locked
    # snapshot; a held one gives back what it no longer needs (release routes the rest).
    reroute = order.status in ROUTED and (bool(changes) or location_changed)
    if reroute or (order.status == S.ON_HOLD and location_changed):
        release_allocations(order, actor=actor, reason="edited")
        for line in all_lines:
            line.quantity_allocated = 0
    else:
        for line, units in releases:
            _release_units(order, line, units, actor=actor)
    if reroute:
        run_transition(
            order, "unroute", actor=actor, message="Edited: routing again", announce=False
        )
    for line in all_lines:
        before = getattr(line, "_edit_before", None)
        if before is not None:
            after = _line_state(line)
            events.append(
                (
                    f"Line {line.sku_code}: quantity {before['quantity']} → {after['quantity']}"
                    + (
                        f", unit price {before['unit_price']} → {after['unit_price']}"
                        if before["unit_price"] != after["unit_price"]
                        else ""
                    ),
                    {
                        "change": "line_changed",
                        "line": line.pk,
                        "sku": line.sku_code,
                        "before": before,
                        "after": after,
                    },
                )
            )
    OrderLine.objects.bulk_update(
        all_lines,
        [
            "quantity",
            "unit_price",
            "discount_amount",
            "tax_amount",
            "tax_rate",
            "tax_name",
            "line_total",
            "quantity_allocated",
            "quantity_cancelled",
        ],
    )
    if new_lines:
        OrderLine.objects.bulk_create(new_lines)
        if new_lines[0].pk is None:  # databases that hand back no ids
            new_lines = list(order.lines.order_by("-pk")[: len(new_lines)])[::-1]
        for line in new_lines:
            events.append(
                (
                    f"Line added: {line.sku_code} x{line.quantity} at {line.unit_price}",
                    {
                        "change": "line_added",
                        "line": line.pk,
                        "sku": line.sku_code,
                        "before": None,
                        "after": _line_state(line),
                    },
                )
            )
    order.save(
        update_fields=[
            "shipping_address",
            "ship_to_country",
            "ship_to_latitude",
            "ship_to_longitude",
            "subtotal",
            "discount_total",
            "tax_total",
            "shipping_total",
            "grand_total",
            "shipping_tax_amount",
            "shipping_tax_rate",
            "shipping_tax_name",
            "base_currency",
            "base_grand_total",
            "base_exchange_rate",
            "base_rate_date",
            "updated_at",
        ]
    )
    for message, details in events:
        record_event(
            order,
            kind=OrderEvent.Kind.EDITED,
            actor=actor,
            message=message + (f" ({reason})" if reason else ""),
            details=details | {"reason": reason},
        )
    if after_totals != before_totals:
        record_event(
            order,
            kind=OrderEvent.Kind.EDITED,
            actor=actor,
            message=f"Totals: {before_totals['grand_total']} → {after_totals['grand_total']} "
            f"{order.currency} (tax {before_totals['tax_total']} → {after_totals['tax_total']})",
            details={"change": "totals", "before": before_totals, "after": after_totals},
        )

    if reroute:
        # The edited order passes the pre-fulfillment checks again: raising a small order's
        # total must not slip past the high-value hold.
        reasons = hold_reasons(order)
        if reasons:
            order = run_transition(
                order,
                "hold",
                actor=actor,
                args=(" ".join(reasons)[:300],),
                message="Held after the edit by pre-fulfillment checks: " + " ".join(reasons),
                announce=False,
            )
        else:
            order = allocate_order(order, actor=actor, announce=False)
        if order.status != before_status:
            webhooks.publish(
                "order.status_changed", order_payload(order) | {"from_status": before_status}
            )
    settlement = settle_edit_payment(
        order, actor=actor, previous_total=before_totals["grand_total"]
    )
    order.refresh_from_db(fields=["payment_status", "status", "updated_at"])
    webhooks.publish(
        "order.edited",
        order_payload(order)
        | {
            "changes": [details for _message, details in events],
            "totals": {"before": before_totals, "after": after_totals},
            "reason": reason,
            "settlement": settlement,
        },
    )
    return order


def _release_units(order, line, units: int, *, actor) -> None:
    """Give back ``units`` allocated units of one line, newest allocation first."""
    if units <= 0:
        return
    left, released = units, []
    for allocation in Allocation.objects.filter(line=line).order_by("-pk"):
        if left <= 0:
            break
        take = min(allocation.quantity, left)
        released.append((line.pk, allocation.warehouse_id, take))
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
        left -= take
    line.quantity_allocated -= units - left

    if released:
        allocations_released.send(
            sender=Order, order=order, released=released, reason="edited", actor=actor
        )


def _price(order, live, all_lines) -> None:
    """Price the live lines again (tax by the rules of the delivery country on the day the
    order was placed); a removed line keeps no amount."""
    on_date = timezone.localdate(order.placed_at) if order.placed_at else timezone.localdate()
    inputs = [
        pricing.LineInput(
            sku=line.sku,
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount=min(line.discount_amount, line.unit_price * line.quantity),
        )
        for line in live
    ]
    priced = pricing.price_order(
        lines=inputs,
        currency=order.currency,
        country=order.ship_to_country,
        prices_include_tax=order.prices_include_tax,
        on_date=on_date,
        shipping_total=order.shipping_total,
    )
    if priced.grand_total >= MAX_AMOUNT:
        raise ValidationFailed(
            "The order's total is too large.", fields={"lines": ["The order's total is too large."]}
        )
    for line, result in zip(live, priced.lines, strict=True):
        line.discount_amount = result.discount
        line.tax_amount = result.tax
        line.tax_rate = result.tax_rate
        line.tax_name = result.tax_name
        line.line_total = result.line_total
    for line in all_lines:
        if is_removed(line) and line.quantity_shipped == 0:
            line.unit_price = line.discount_amount = line.tax_amount = ZERO
            line.line_total = ZERO
    order.subtotal = priced.subtotal
    order.discount_total = priced.discount_total
    order.tax_total = priced.tax_total
    order.grand_total = priced.grand_total
    order.shipping_tax_amount = priced.shipping_tax
    order.shipping_tax_rate = priced.shipping_tax_rate
    order.shipping_tax_name = priced.shipping_tax_name
    figures = base_currency_figures(order.grand_total, order.currency, on_date)
    order.base_currency = figures["base_currency"]
    order.base_grand_total = figures.get("base_grand_total")
    order.base_exchange_rate = figures.get("base_exchange_rate")
    order.base_rate_date = figures.get("base_rate_date")


def settle_edit_payment(order, *, actor: Actor, previous_total) -> dict:
    """Settle the difference an edit made (in the edit's transaction; gateways after
    commit): money captured beyond the new total is refunded (never more than was
    captured and not yet refunded); a larger total is captured from what the
    authorization still covers when the channel captures on placement (on shipment it is
    captured then). What no authorization covers is left to pay, and the timeline says
    so. Returns what was done (for the webhook)."""
    from ..payments import services as payments
    from ..payments.refunds import create_refund

    result = {"refunds": [], "captures": [], "outstanding": "0"}
    if order.channel.collected_by_marketplace:
        return result
    held = [payments.lock_payment(p.pk) for p in order.payments.order_by("pk")]
    if not held:
        return result
    paid = sum((p.captured_amount - p.refund_reserved_amount for p in held), ZERO)
    parts = []
    if paid > order.grand_total:
        excess = paid - order.grand_total
        for payment in sorted(held, key=lambda p: (-p.refundable_amount, p.pk)):
            take = min(excess, payment.refundable_amount)
            if take <= 0:
                continue
            refund = create_refund(
                order=order,
                actor=actor,
                extra_amount=take,
                payment=payment,
                reason="Order edited: the total went down",
                source="edit",
            )
            result["refunds"].append({"refund": refund.number, "amount": str(refund.amount)})
            parts.append(f"refunding {refund.amount} {refund.currency} ({refund.number})")
            excess -= take
    elif order.grand_total > Decimal(previous_total):
        started = payments.capture_when_due(order, actor=actor)
        for txn in started:
            result["captures"].append({"transaction_id": txn.pk, "amount": str(txn.amount)})
            parts.append(f"capturing {txn.amount} {txn.currency} more")
        covered = sum(
            (p.captured_amount - p.refund_reserved_amount + p.capturable_amount for p in held),
            ZERO,
        )
        outstanding = order.grand_total - covered
        if outstanding > 0:
            result["outstanding"] = str(outstanding)
            parts.append(
                f"{outstanding} {order.currency} is not covered by the payment: "
                "ask the customer to pay the difference"
            )
    payments.settle_payment_status(order, actor=actor)
    if parts:
        record_event(
            order,
            kind=OrderEvent.Kind.PAYMENT,
            actor=actor,
            message="Edit: " + "; ".join(parts),
            details=result,
        )
    return result


# --- picking: told by the warehouse work ----------------------------------------------------


def _lock_orders(ids) -> list[int]:
    return list(
        Order.objects.select_for_update(of=("self",))
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _picking_events(order_ids, *, actor, message, details):
    OrderEvent.objects.bulk_create(
        OrderEvent(
            order_id=order_id,
            kind=OrderEvent.Kind.NOTE,
            message=message,
            details=details,
            actor_kind=actor.kind,
            actor_label=actor.label[:150],
            actor_user_id=actor.user_id,
        )
        for order_id in order_ids
    )


def mark_picking_started(order_ids, *, actor: Actor, pick_list: str, still_on_list=None) -> int:
    """A picker started on a pick list holding these orders: from now on they can't be
    edited. Runs in the caller's transaction and locks the orders first (pk order), so
    an edit in flight finishes before; ``still_on_list(ids)`` then tells which of them
    the list still carries (an edit that just committed may have taken one off).
    Returns how many orders were newly marked."""
    assert transaction.get_connection().in_atomic_block, "needs the caller's transaction"
    ids = _lock_orders(sorted(set(order_ids)))
    if still_on_list is not None and ids:
        ids = sorted(set(still_on_list(ids)))
    fresh = list(
        Order.objects.filter(pk__in=ids, picking_started_at__isnull=True).values_list(
            "pk", flat=True
        )
    )
    if not fresh:
        return 0
    Order.objects.filter(pk__in=fresh).update(picking_started_at=timezone.now())
    _picking_events(
        fresh,
        actor=actor,
        message=f"Picking started on {pick_list}: the order can no longer be edited",
        details={"pick_list": pick_list, "picking_started": True},
    )
    return len(fresh)


def mark_picking_stopped(order_ids, *, actor: Actor, pick_list: str, idle=None) -> int:
    """A pick list was given up: orders nothing is picked or packed for any more may be
    edited again. Locks the orders first (pk order), like ``mark_picking_started``;
    ``idle(ids)`` tells which of them no other list is working on. Runs in the caller's
    transaction; returns how many orders were cleared."""
    assert transaction.get_connection().in_atomic_block, "needs the caller's transaction"
    ids = _lock_orders(sorted(set(order_ids)))
    if idle is not None and ids:
        ids = sorted(set(idle(ids)))
    stopped = list(
        Order.objects.filter(pk__in=ids, picking_started_at__isnull=False).values_list(
            "pk", flat=True
        )
    )
    if not stopped:
        return 0
    Order.objects.filter(pk__in=stopped).update(picking_started_at=None)
    _picking_events(
        stopped,
        actor=actor,
        message=f"Picking stopped: {pick_list} was given up; the order may be edited again",
        details={"pick_list": pick_list, "picking_started": False},
    )
    return len(stopped)
