"""Placing orders: validation, totals, customer, hold checks, then routing."""

from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_countries import countries

from inventory import geocoding
from inventory import selectors as inventory_selectors
from inventory import services as inventory_services
from inventory.models import SKU, Warehouse
from oms_site import webhooks
from oms_site.actors import Actor
from oms_site.batch_cache import peek, remember
from oms_site.errors import Conflict, ValidationFailed
from oms_site.money import convert_to_base, quantize, to_decimal, validate_currency
from oms_site.validation import whole_number

from .. import cached
from ..models import Customer, HoldRule, Order, OrderEvent, OrderLine
from . import customers, in_hand, pricing, reporting
from .allocation import allocate_order, record_converted_hold
from .events import (
    deferred_writes,
    lock_order,
    order_payload,
    record_event,
    run_transition,
    save_order_fields,
)

ADDRESS_FIELDS = {
    "name": 200,
    "company": 200,
    "line1": 200,
    "line2": 200,
    "city": 100,
    "region": 100,
    "postal_code": 20,
    "country": 2,
    "phone": 40,
}
REQUIRED_ADDRESS_FIELDS = ("name", "line1", "city", "country")
# Amount columns hold 14 digits with 3 decimals: totals must stay below 10^11.
MAX_AMOUNT = Decimal("1e11")


def clean_address(data, field: str) -> dict:
    """A postal address snapshot: known keys, required ones present, a real country."""
    if not isinstance(data, dict):
        raise ValidationFailed(
            f"{field} must be an object.", fields={field: ["Must be an object."]}
        )
    errors = {}
    unknown = sorted(set(data) - set(ADDRESS_FIELDS))
    if unknown:
        errors[field] = [f"Unknown keys: {', '.join(unknown)}."]
    address = {}
    for key, max_length in ADDRESS_FIELDS.items():
        value = data.get(key, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            errors[f"{field}.{key}"] = ["Must be text."]
            continue
        value = value.strip()
        if len(value) > max_length:
            errors[f"{field}.{key}"] = [f"At most {max_length} characters."]
        if key in REQUIRED_ADDRESS_FIELDS and not value:
            errors[f"{field}.{key}"] = ["Required."]
        address[key] = value
    country = address.get("country", "").upper()
    if country and country not in countries:
        errors[f"{field}.country"] = [f"'{country}' is not an ISO 3166-1 alpha-2 country code."]
    address["country"] = country
    if errors:
        raise ValidationFailed(f"{field} is not a valid address.", fields=errors)
    return address


def _money(value, *, field, currency, allow_zero=True) -> Decimal:
    amount = to_decimal(value, field=field)
    if amount < 0 or (not allow_zero and amount == 0):
        raise ValidationFailed(f"{field} must not be negative.", fields={field: ["Must be >= 0."]})
    if amount != quantize(amount, currency):
        raise ValidationFailed(
            f"{field} has more decimals than {currency} allows.",
            fields={field: [f"Too many decimals for {currency}."]},
        )
    if amount >= MAX_AMOUNT:
        raise ValidationFailed(f"{field} is too large.", fields={field: ["Too large."]})
    return amount


def skus_by_code(codes) -> dict:
    """Code -> SKU (with product and supplier); inside a batch, each SKU is read once."""
    found, missing = {}, []
    for code in codes:
        sku = peek(("sku", code))
        if sku is None:
            missing.append(code)
        else:
            found[code] = sku
    if missing:
        for sku in inventory_selectors.skus_with_product_and_supplier(missing):
            found[sku.code] = sku
            remember(("sku", sku.code), sku)
    return found


def _build_lines(raw_lines, currency) -> list[pricing.LineInput]:
    """Check the lines as sent (SKU, quantity, prices); pricing comes after."""
    if not isinstance(raw_lines, list) or not raw_lines:
        raise ValidationFailed("An order needs at least one line.", fields={"lines": ["Required."]})
    if len(raw_lines) > settings.OMS_MAX_ORDER_LINES:
        raise ValidationFailed(
            "Too many lines.", fields={"lines": [f"At most {settings.OMS_MAX_ORDER_LINES}."]}
        )
    codes = {
        line["sku"].code if isinstance(line.get("sku"), SKU) else line.get("sku")
        for line in raw_lines
    }
    skus = skus_by_code([c for c in codes if c])
    lines, errors = [], {}
    for index, raw in enumerate(raw_lines):
        prefix = f"lines.{index}"
        sku = raw.get("sku")
        sku = skus.get(sku.code if isinstance(sku, SKU) else sku)
        if sku is None:
            errors[f"{prefix}.sku"] = [f"Unknown SKU '{raw.get('sku')}'."]
            continue
        if not sku.active:
            errors[f"{prefix}.sku"] = [f"SKU '{sku.code}' is not active."]
            continue
        try:
            quantity = whole_number(raw.get("quantity"), field=f"{prefix}.quantity", minimum=1)
        except ValidationFailed as exc:
            errors.update(exc.fields)
            continue
        if quantity > 100_000:
            errors[f"{prefix}.quantity"] = ["At most 100000."]
            continue
        try:
            if raw.get("unit_price") is None:
                if sku.currency != currency:
                    raise ValidationFailed(
                        "price",
                        fields={
                            f"{prefix}.unit_price": [
                                f"Required: the catalogue price is in {sku.currency}."
                            ]
                        },
                    )
                unit_price = quantize(sku.price, currency)
            else:
                unit_price = _money(
                    raw["unit_price"], field=f"{prefix}.unit_price", currency=currency
                )
            discount = _money(
                raw.get("discount") or 0, field=f"{prefix}.discount", currency=currency
            )
            tax = raw.get("tax")
            if tax is not None:
                tax = _money(tax, field=f"{prefix}.tax", currency=currency)
        except ValidationFailed as exc:
            errors.update(exc.fields)
            continue
        gross = unit_price * quantity
        if discount > gross:
            errors[f"{prefix}.discount"] = ["Larger than the line's price."]
            continue
        if gross + (tax or 0) >= MAX_AMOUNT:
            errors[f"{prefix}.quantity"] = ["The line's total is too large."]
            continue
        lines.append(
            pricing.LineInput(
                sku=sku,
                quantity=quantity,
                unit_price=unit_price,
                discount=discount,
                tax=tax,
                index=index,
            )
        )
    if errors:
        raise ValidationFailed("Some order lines are not valid.", fields=errors)
    return lines


def price_lines(
    *,
    channel,
    lines,
    currency,
    country,
    on_date,
    prices_include_tax=None,
    shipping_total=0,
    shipping_tax=None,
    discount=0,
) -> pricing.PricedOrder:
    """Check raw lines and amounts and price them: the path shared by placement and
    editing. Raises ValidationFailed naming the fields."""
    line_inputs = _build_lines(lines, currency)
    shipping_total = _money(shipping_total or 0, field="shipping_total", currency=currency)
    if shipping_tax is not None:
        shipping_tax = _money(shipping_tax, field="shipping_tax", currency=currency)
    order_discount = _money(discount or 0, field="discount", currency=currency)
    priced = pricing.price_order(
        lines=line_inputs,
        currency=currency,
        country=country,
        prices_include_tax=(
            channel.prices_include_tax if prices_include_tax is None else prices_include_tax
        ),
        on_date=on_date,
        shipping_total=shipping_total,
        shipping_tax=shipping_tax,
        order_discount=order_discount,
    )
    if priced.problems:
        raise ValidationFailed("The order discount is not valid.", fields=priced.problems)
    if priced.subtotal + priced.tax_total + priced.shipping_total >= MAX_AMOUNT:
        raise ValidationFailed(
            "The order's total is too large.", fields={"lines": ["The order's total is too large."]}
        )
    return priced


def order_lines_from(priced: pricing.PricedOrder) -> list[OrderLine]:
    return [
        OrderLine(
            sku=line.source.sku,
            sku_code=line.source.sku.code,
            name=line.source.sku.display_name[:200],
            quantity=line.source.quantity,
            unit_price=line.source.unit_price,
            discount_amount=line.discount,
            tax_amount=line.tax,
            tax_rate=line.tax_rate,
            tax_name=line.tax_name,
            prices_include_tax=priced.prices_include_tax,
            line_total=line.line_total,
        )
        for line in priced.lines
    ]


def base_currency_figures(amount, currency, on_date) -> dict:
    """The order's total in the shop's base currency, with the rate and its date."""
    base = settings.OMS_BASE_CURRENCY
    converted = convert_to_base(amount, currency, on_date)
    if converted is None:
        return {"base_currency": base}
    total, rate, rate_date = converted
    return {
        "base_currency": base,
        "base_grand_total": total,
        "base_exchange_rate": rate,
        "base_rate_date": rate_date,
    }


def _customer(raw, email, channel) -> Customer | None:
    raw = raw or {}
    return customers.customer_for_order(
        email=raw.get("email") or email or "",
        name=raw.get("name") or "",
        phone=raw.get("phone") or "",
        channel=channel,
    )


def hold_reasons(order: Order, *, customers_with_orders=frozenset()) -> list[str]:
    """The configured pre-fulfillment checks this order fails. ``customers_with_orders``:
    customers (ids) with an order not yet written, earlier in the same batch."""
    reasons = []
    for rule in cached.enabled_hold_rules():
        kind = rule.kind
        if kind == HoldRule.Kind.BLOCKED_CUSTOMER and order.customer and order.customer.blocked:
            reasons.append("Customer is blocked.")
        elif kind == HoldRule.Kind.ADDRESS_MISMATCH:
            billing = (order.billing_address or {}).get("country")
            if billing and billing != order.ship_to_country:
                reasons.append(
                    f"Billing country {billing} differs from shipping country "
                    f"{order.ship_to_country}."
                )
        elif kind in (HoldRule.Kind.HIGH_VALUE, HoldRule.Kind.FIRST_ORDER_HIGH_VALUE):
            if rule.threshold is None:
                continue
            if kind == HoldRule.Kind.FIRST_ORDER_HIGH_VALUE and (
                order.customer is None
                or order.customer.pk in customers_with_orders
                or order.customer.orders.exclude(pk=order.pk).exists()
            ):
                continue
            converted = convert_to_base(order.grand_total, order.currency, timezone.localdate())
            base = settings.OMS_BASE_CURRENCY
            if converted is None:
                reasons.append(
                    f"No exchange rate from {order.currency} to {base} to check the value."
                )
            elif converted[0] > rule.threshold:
                reasons.append(
                    f"{rule.get_kind_display()}: {converted[0]} {base} "
                    f"(rate {converted[1]} of {converted[2]}) > {rule.threshold} {base}."
                )
    return reasons


def build_order(
    *,
    channel,
    lines,
    currency,
    shipping_address,
    billing_address=None,
    customer=None,
    email="",
    external_id=None,
    shipping_total=0,
    shipping_tax=None,
    discount=0,
    shipping_method="",
    tags=(),
    notes="",
    expected_grand_total=None,
    draft=False,
    placed_at=None,
    prices_include_tax=None,
    find_customer=None,
) -> tuple[Order, pricing.PricedOrder]:
    """Check and price an order and build it, unsaved: everything placement decides
    before it writes (shared by ``place_order`` and the bulk placement).
    ``find_customer(customer, email, channel)`` resolves the buyer (default: find or
    create it as placement does)."""
    shipping = clean_address(shipping_address, "shipping_address")
    billing = clean_address(billing_address, "billing_address") if billing_address else {}
    placed_at = None if draft else (placed_at or timezone.now())
    on_date = timezone.localdate(placed_at) if placed_at else timezone.localdate()
    priced = price_lines(
        channel=channel,
        lines=lines,
        currency=currency,
        country=shipping["country"],
        on_date=on_date,
        shipping_total=shipping_total,
        shipping_tax=shipping_tax,
        discount=discount,
        prices_include_tax=prices_include_tax,
    )
    grand_total = priced.grand_total
    if expected_grand_total is not None:
        expected = to_decimal(expected_grand_total, field="grand_total")
        if expected != grand_total:
            raise ValidationFailed(
                f"grand_total {expected} does not match the lines and shipping ({grand_total}).",
                fields={"grand_total": [f"Expected {grand_total}."]},
                code="totals_mismatch",
            )
    location = geocoding.locate(shipping["country"], shipping["city"])
    order = Order(
        channel=channel,
        external_id=external_id,
        currency=currency,
        customer=(find_customer or _customer)(customer, email, channel),
        customer_name=((customer or {}).get("name") or "").strip()[:200],
        customer_phone=((customer or {}).get("phone") or "").strip()[:40],
        email=(email or (customer or {}).get("email") or "").strip().lower()[:254],
        subtotal=priced.subtotal,
        discount_total=priced.discount_total,
        tax_total=priced.tax_total,
        shipping_total=priced.shipping_total,
        grand_total=grand_total,
        prices_include_tax=priced.prices_include_tax,
        shipping_tax_amount=priced.shipping_tax,
        shipping_tax_rate=priced.shipping_tax_rate,
        shipping_tax_name=priced.shipping_tax_name,
        **base_currency_figures(grand_total, currency, on_date),
        shipping_address=shipping,
        billing_address=billing,
        ship_to_country=shipping["country"],
        ship_to_latitude=location.latitude if location else None,
        ship_to_longitude=location.longitude if location else None,
        shipping_method=shipping_method[:100],
        tags=list(tags),
        notes=notes,
        placed_at=placed_at,
    )
    return order, priced


@transaction.atomic
def place_order(
    *,
    channel,
    lines,
    currency=None,
    shipping_address,
    actor: Actor,
    billing_address=None,
    customer=None,
    email="",
    external_id=None,
    shipping_total=0,
    shipping_tax=None,
    discount=0,
    shipping_method="",
    tags=(),
    notes="",
    expected_grand_total=None,
    reservation_token=None,
    warehouse: Warehouse | None = None,
    draft=False,
    placed_at=None,
    prices_include_tax=None,
    payment=None,
) -> Order:
    """Create an order from any channel, check it, and route it (unless it is a draft).

    ``prices_include_tax`` overrides the channel's convention for this order (a
    marketplace connector sends net prices with the marketplace's own tax amounts).
    ``payment`` (``gateway``, ``method``, ``reference``, ``amount``) records how the
    customer pays; orders of channels whose marketplace collects the money are recorded
    as paid by it.

    The same channel + external id twice is refused with 409 ``duplicate_external_id``
    naming the existing order; nothing is written.
    """
    if draft and (reservation_token or warehouse is not None):
        field = "reservation_token" if reservation_token else "warehouse"
        raise ValidationFailed(
            "A draft is not routed: place it without a stock hold or a chosen warehouse, "
            "and route it when it is submitted.",
            fields={field: ["Not allowed with draft."]},
        )
    currency = validate_currency(currency or channel.currency)
    if not channel.active:
        raise ValidationFailed("This sales channel is inactive.", fields={"channel": ["Inactive."]})
    if external_id is not None:
        external_id = str(external_id).strip() or None
    order, priced = build_order(
        channel=channel,
        lines=lines,
        currency=currency,
        shipping_address=shipping_address,
        billing_address=billing_address,
        customer=customer,
        email=email,
        external_id=external_id,
        shipping_total=shipping_total,
        shipping_tax=shipping_tax,
        discount=discount,
        shipping_method=shipping_method,
        tags=tags,
        notes=notes,
        expected_grand_total=expected_grand_total,
        draft=draft,
        placed_at=placed_at,
        prices_include_tax=prices_include_tax,
    )
    grand_total = order.grand_total
    # The unique (channel, external_id) constraint is the duplicate check: no read before
    # the insert on the happy path, and a concurrent import of the same id is caught too.
    try:
        with transaction.atomic():
            order.save()
    except IntegrityError:
        existing = (
            Order.objects.filter(channel=channel, external_id=external_id).first()
            if external_id is not None
            else None
        )
        if existing is None:
            raise  # another constraint: not a duplicate
        raise Conflict(
            f"Order {external_id} of {channel.code} already exists as {existing.number}.",
            fields={"external_id": [f"Already imported as {existing.number}."]},
            code="duplicate_external_id",
        )
    order_lines = order_lines_from(priced)
    # Until the block ends the new row is this transaction's alone: its field changes and
    # events are written once, at the end (events.deferred_writes).
    with deferred_writes(order):
        order.number = f"SO-{order.pk:07d}"
        save_order_fields(order, ["number"])
        for line in order_lines:
            line.order = order
        OrderLine.objects.bulk_create(order_lines)
        record_event(
            order,
            kind=OrderEvent.Kind.CREATED,
            actor=actor,
            to_status=order.status,
            message=f"Created from {channel.name}" + (f" ({external_id})" if external_id else ""),
            details={
                "lines": len(order_lines),
                "grand_total": str(grand_total),
                "currency": currency,
                "order_discount": str(priced.order_discount),
                "prices_include_tax": priced.prices_include_tax,
            },
        )
        if not reservation_token:
            in_hand.attach(order, "lines", order_lines)
        if not draft:
            order = _submit(
                order,
                actor=actor,
                reservation_token=reservation_token,
                warehouse=warehouse,
                announce=False,
                new_lines=None if reservation_token else order_lines,
            )
    if not reservation_token:
        in_hand.attach_new_order(order, order_lines)
    if _record_payment(order, payment, actor=actor):
        # The ledger moved the payment status on its own (locked) copy of the row.
        order.refresh_from_db(fields=["payment_status", "updated_at"])
    # One webhook for the new order, in the state placement left it (allocated, held...).
    webhooks.publish("order.created", order_payload(order))
    return order


def _record_payment(order, payment, *, actor) -> bool:
    """How the new order is paid: as sent, or collected by the channel's marketplace.
    Returns whether a payment was recorded."""
    from ..payments.models import PaymentMethod
    from ..payments.services import add_payment

    if payment:
        add_payment(
            order=order,
            gateway=payment.get("gateway") or "manual",
            method=payment.get("method") or PaymentMethod.OTHER,
            provider_reference=payment.get("reference") or "",
            amount=payment.get("amount"),
            actor=actor,
        )
    elif order.channel.collected_by_marketplace and order.placed_at is not None:
        add_payment(
            order=order,
            gateway="marketplace",
            method=PaymentMethod.MARKETPLACE,
            actor=actor,
        )
    else:
        return False
    return True


def _submit(order, *, actor, reservation_token=None, warehouse=None, announce=True, new_lines=None):
    run_transition(order, "submit", actor=actor, announce=announce)
    order = _route_or_hold(
        order,
        actor=actor,
        reservation_token=reservation_token,
        warehouse=warehouse,
        announce=announce,
        new_lines=new_lines,
    )
    # The sales rollup's shard row is written after the stock rows are locked, the order
    # every transaction takes them in (cancelling locks stock, then the rollup): taking
    # them the other way round here deadlocked against concurrent cancellations.
    reporting.record_placed(order)
    return order


def _route_or_hold(order, *, actor, reservation_token, warehouse, announce, new_lines):
    reasons = hold_reasons(order)
    if reservation_token:
        lines = list(order.lines.all())
        wanted = {}
        for line in lines:
            wanted[line.sku_id] = wanted.get(line.sku_id, 0) + line.quantity
        converted = inventory_services.convert_reservation(
            token=reservation_token,
            wanted=wanted,
            reference=f"order:{order.number}",
            actor=actor,
        )
        record_converted_hold(order, lines, converted, actor=actor)
    if reasons:
        run_transition(
            order,
            "hold",
            actor=actor,
            args=(" ".join(reasons),),
            message="Held by pre-fulfillment checks: " + " ".join(reasons),
            announce=announce,
        )
        return order
    return allocate_order(
        order, actor=actor, manual_warehouse=warehouse, announce=announce, new_lines=new_lines
    )


@transaction.atomic
def submit_draft(order, *, actor: Actor) -> Order:
    order = lock_order(order)
    order.placed_at = timezone.now()
    order = _submit(order, actor=actor)
    if order.channel.collected_by_marketplace and not order.payments.exists():
        _record_payment(order, None, actor=actor)
    from ..payments.services import capture_when_due

    capture_when_due(order, actor=actor)
    return order
