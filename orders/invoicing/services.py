"""Issuing invoices and credit notes.

- ``issue_invoice``: the order's invoice — its lines as they stand (cancelled units left
  out), shipping, tax per rate, the seller and buyer as they are today (copied onto the
  document), totals in the base currency with the rate and its date when the order is in
  another currency. Channels choose when (``SalesChannel.issue_invoice_on``): when the
  order is paid, or when it has shipped (``issue_invoice_when_due``).
- ``credit_refund``: a refund of an invoiced order issues a credit note that references
  the invoice and sums to the refund: the refunded units at what was paid for them,
  shipping, a goodwill amount spread over the invoice's tax rates, less a restocking fee
  spread over the credited lines.

Numbers come from ``DocumentSequence`` (series + year), locked for the rest of the
transaction: gapless and unique however many documents are issued at once. The PDF is
rendered after commit and attached once (``orders.invoicing.pdf``).
"""

import logging
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from oms_site import webhooks
from oms_site.actors import Actor
from oms_site.errors import Conflict
from oms_site.money import convert_to_base, quantize

from ..models import OrderEvent, OrderStatus
from ..services.events import lock_order, record_event
from ..services.pricing import spread
from .models import (
    DocumentKind,
    DocumentSequence,
    Invoice,
    InvoiceLine,
    InvoiceSettings,
    InvoiceTaxLine,
)

logger = logging.getLogger(__name__)
ZERO = Decimal(0)
HUNDRED = Decimal(100)


def next_number(series: str, year: int) -> int:
    """The next number of a series and year; the counter row stays locked until the
    caller's transaction ends (a rollback gives the number back: no gaps)."""
    assert transaction.get_connection().in_atomic_block, "numbers are taken in a transaction"
    if not DocumentSequence.objects.filter(series=series, year=year).exists():
        try:
            with transaction.atomic():
                DocumentSequence.objects.create(series=series, year=year)
        except IntegrityError:
            pass  # created by a concurrent issuer: lock it below
    counter = DocumentSequence.objects.select_for_update().get(series=series, year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return counter.last_number


def _buyer(order) -> dict:
    address = order.billing_address or order.shipping_address or {}
    return {
        "name": address.get("name") or order.customer_name,
        "company": address.get("company", ""),
        "line1": address.get("line1", ""),
        "line2": address.get("line2", ""),
        "postal_code": address.get("postal_code", ""),
        "city": address.get("city", ""),
        "region": address.get("region", ""),
        "country": address.get("country", ""),
        "email": order.email or (order.customer.email if order.customer else ""),
    }


def _net_and_tax(gross_or_net: Decimal, rate: Decimal, *, included: bool, currency: str):
    """(net, tax) of an amount entered gross (included) or net."""
    if included:
        tax = quantize(gross_or_net * rate / (HUNDRED + rate), currency) if rate else ZERO
        return gross_or_net - tax, tax
    tax = quantize(gross_or_net * rate / HUNDRED, currency) if rate else ZERO
    return gross_or_net, tax


def _write(invoice_fields: dict, lines: list[dict], *, actor) -> Invoice:
    """Number and store a document with its lines and tax lines."""
    settings_row = InvoiceSettings.current()
    kind = invoice_fields["kind"]
    series = (
        settings_row.invoice_prefix
        if kind == DocumentKind.INVOICE
        else settings_row.credit_note_prefix
    )
    today = timezone.localdate()
    order = invoice_fields["order"]
    sequence = next_number(series, today.year)
    taxes = defaultdict(lambda: [ZERO, ZERO])
    for line in lines:
        taxes[(line["tax_name"], line["tax_rate"])][0] += line["net_amount"]
        taxes[(line["tax_name"], line["tax_rate"])][1] += line["tax_amount"]
    net_total = sum((line["net_amount"] for line in lines), ZERO)
    tax_total = sum((line["tax_amount"] for line in lines), ZERO)
    total = net_total + tax_total
    base = settings.OMS_BASE_CURRENCY
    converted = convert_to_base(total, order.currency, today)
    invoice = Invoice.objects.create(
        series=series,
        year=today.year,
        sequence=sequence,
        number=f"{series}-{today.year}-{sequence:05d}",
        currency=order.currency,
        issue_date=today,
        due_date=today + timedelta(days=settings_row.payment_terms_days)
        if kind == DocumentKind.INVOICE
        else None,
        seller=settings_row.seller_snapshot(),
        buyer=_buyer(order),
        prices_include_tax=order.prices_include_tax,
        net_total=net_total,
        tax_total=tax_total,
        total=total,
        base_currency=base,
        base_total=converted[0] if converted else None,
        exchange_rate=converted[1] if converted else None,
        rate_date=converted[2] if converted else None,
        **invoice_fields,
    )
    InvoiceLine.objects.bulk_create(
        InvoiceLine(invoice=invoice, position=position, **line)
        for position, line in enumerate(lines, start=1)
    )
    InvoiceTaxLine.objects.bulk_create(
        InvoiceTaxLine(invoice=invoice, name=name, rate=rate, net_amount=net, tax_amount=tax)
        for (name, rate), (net, tax) in taxes.items()
    )
    what = invoice.get_kind_display()
    record_event(
        order,
        kind=OrderEvent.Kind.NOTE,
        actor=actor,
        message=f"{what} {invoice.number} issued: {total} {order.currency}",
        details={"invoice": invoice.number, "kind": kind, "total": str(total)},
    )
    webhooks.publish(
        "invoice.issued",
        {
            "order": order.number,
            "number": invoice.number,
            "kind": kind,
            "credits": invoice.credited_invoice.number if invoice.credited_invoice else None,
            "refund": invoice.refund.number if invoice.refund else None,
            "currency": invoice.currency,
            "net_total": str(net_total),
            "tax_total": str(tax_total),
            "total": str(total),
            "issue_date": today.isoformat(),
        },
    )
    invoice_id = invoice.pk
    transaction.on_commit(lambda: _render_later(invoice_id))
    return invoice


def _render_later(invoice_id: int) -> None:
    from ..tasks import render_invoice_pdf

    try:
        render_invoice_pdf.delay(invoice_id)
    except Exception:  # the download renders it on first use
        logger.exception("could not enqueue the PDF of invoice %s", invoice_id)


def invoice_of(order) -> Invoice | None:
    return order.invoices.filter(kind=DocumentKind.INVOICE).order_by("pk").first()


def _order_lines(order) -> list[dict]:
    from ..payments.refunds import paid_for

    lines = []
    for line in order.lines.all().order_by("pk"):
        line.order = order
        units = line.quantity - line.quantity_cancelled
        if units <= 0:
            continue
        total = paid_for(line, units)
        tax = (
            line.tax_amount
            if units == line.quantity
            else quantize(line.tax_amount * units / line.quantity, order.currency)
        )
        discount = (
            line.discount_amount
            if units == line.quantity
            else quantize(line.discount_amount * units / line.quantity, order.currency)
        )
        lines.append(
            {
                "description": line.name,
                "sku_code": line.sku_code,
                "quantity": Decimal(units),
                "unit_price": line.unit_price,
                "discount": discount,
                "net_amount": total - tax,
                "tax_rate": line.tax_rate,
                "tax_name": line.tax_name,
                "tax_amount": tax,
                "total": total,
            }
        )
    if order.shipping_total:
        tax = order.shipping_tax_amount
        gross = order.shipping_total + (ZERO if order.prices_include_tax else tax)
        lines.append(
            {
                "description": "Shipping"
                + (f" ({order.shipping_method})" if order.shipping_method else ""),
                "sku_code": "",
                "quantity": Decimal(1),
                "unit_price": order.shipping_total,
                "discount": ZERO,
                "net_amount": gross - tax,
                "tax_rate": order.shipping_tax_rate,
                "tax_name": order.shipping_tax_name,
                "tax_amount": tax,
                "total": gross,
            }
        )
    return lines


@transaction.atomic
def issue_invoice(order, *, actor: Actor, note: str = "") -> Invoice:
    """Issue the order's invoice (once per order)."""
    order = lock_order(order)
    existing = invoice_of(order)
    if existing is not None:
        raise Conflict(
            f"Order {order.number} is already invoiced ({existing.number}).",
            fields={"invoice": [existing.number]},
            code="already_invoiced",
        )
    if order.status in (OrderStatus.DRAFT, OrderStatus.CANCELLED):
        raise Conflict(
            f"Order {order.number} is {order.get_status_display().lower()}: nothing to invoice.",
            fields={"status": [f"Not allowed from {order.status}."]},
        )
    lines = _order_lines(order)
    if not lines:
        raise Conflict(
            f"Order {order.number} has nothing left to invoice.", fields={"lines": ["Empty."]}
        )
    return _write(
        {"kind": DocumentKind.INVOICE, "order": order, "note": note[:300]}, lines, actor=actor
    )


def issue_invoice_when_due(order, *, moment: str, actor: Actor) -> Invoice | None:
    """Issue the invoice if the channel invoices at ``moment`` ("payment" or "shipment")
    and the order has none yet. Runs in the caller's transaction (order locked)."""
    if order.channel.issue_invoice_on != moment:
        return None
    if order.status in (OrderStatus.DRAFT, OrderStatus.CANCELLED):
        return None
    if invoice_of(order) is not None:
        return None
    return issue_invoice(order, actor=actor)


def _credit_lines(refund, invoice) -> list[dict]:
    """The credit note's lines: they sum to the refund exactly."""
    currency = refund.currency
    lines = []
    for refund_line in refund.lines.select_related("order_line"):
        order_line = refund_line.order_line
        net, tax = _net_and_tax(
            refund_line.amount, order_line.tax_rate, included=True, currency=currency
        )
        lines.append(
            {
                "description": order_line.name,
                "sku_code": order_line.sku_code,
                "quantity": Decimal(refund_line.quantity),
                "unit_price": quantize(refund_line.amount / refund_line.quantity, currency),
                "discount": ZERO,
                "net_amount": net,
                "tax_rate": order_line.tax_rate,
                "tax_name": order_line.tax_name,
                "tax_amount": tax,
                "total": refund_line.amount,
            }
        )
    if refund.shipping_amount:
        order = refund.order
        net, tax = _net_and_tax(
            refund.shipping_amount, order.shipping_tax_rate, included=True, currency=currency
        )
        lines.append(
            {
                "description": "Shipping",
                "sku_code": "",
                "quantity": Decimal(1),
                "unit_price": refund.shipping_amount,
                "discount": ZERO,
                "net_amount": net,
                "tax_rate": order.shipping_tax_rate,
                "tax_name": order.shipping_tax_name,
                "tax_amount": tax,
                "total": refund.shipping_amount,
            }
        )
    if refund.extra_amount:
        # A goodwill amount lowers the price of the invoice as a whole: per tax rate.
        rates = list(invoice.tax_lines.all())
        gross = [t.net_amount + t.tax_amount for t in rates]
        for tax_line, part in zip(rates, spread(refund.extra_amount, gross, currency), strict=True):
            if not part:
                continue
            net, tax = _net_and_tax(part, tax_line.rate, included=True, currency=currency)
            lines.append(
                {
                    "description": refund.reason or "Price reduction",
                    "sku_code": "",
                    "quantity": Decimal(1),
                    "unit_price": part,
                    "discount": ZERO,
                    "net_amount": net,
                    "tax_rate": tax_line.rate,
                    "tax_name": tax_line.name,
                    "tax_amount": tax,
                    "total": part,
                }
            )
    if refund.restocking_fee:
        credited = [line for line in lines if line["total"] > 0]
        parts = spread(refund.restocking_fee, [line["total"] for line in credited], currency)
        for line, part in zip(credited, parts, strict=True):
            if not part:
                continue
            net, tax = _net_and_tax(part, line["tax_rate"], included=True, currency=currency)
            lines.append(
                {
                    "description": "Restocking fee",
                    "sku_code": line["sku_code"],
                    "quantity": Decimal(1),
                    "unit_price": -part,
                    "discount": ZERO,
                    "net_amount": -net,
                    "tax_rate": line["tax_rate"],
                    "tax_name": line["tax_name"],
                    "tax_amount": -tax,
                    "total": -part,
                }
            )
    return lines


def credit_refund(refund, *, actor: Actor) -> Invoice | None:
    """Issue the credit note of a succeeded refund when its order is invoiced (a refund
    of an order not invoiced yet needs none: the invoice will show what is left).
    Runs in the caller's transaction; once per refund."""
    order = refund.order
    invoice = invoice_of(order)
    if invoice is None or Invoice.objects.filter(refund=refund).exists():
        return None
    lines = _credit_lines(refund, invoice)
    return _write(
        {
            "kind": DocumentKind.CREDIT_NOTE,
            "order": order,
            "credited_invoice": invoice,
            "refund": refund,
            "note": f"Credit for invoice {invoice.number}, refund {refund.number}",
        },
        lines,
        actor=actor,
    )
