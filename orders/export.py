"""Export of the order list: any filtered view as CSV (streamed) or XLSX, one row per order
or one row per line, with what a bookkeeper needs.

Memory stays constant whatever the size: orders are read in keyset chunks of ``CHUNK``
(newest first, one query per chunk, plus one for the chunk's lines), and CSV rows are
streamed to the client as they are made. XLSX is written by XlsxWriter in its
constant-memory mode to a temporary file, then sent.

Amounts are plain decimal numbers (a dot, no thousands separator) so that spreadsheets and
accounting tools read them in any language; dates are ISO 8601 in the site's time zone.
The base-currency total is the one stored on the order with its rate and the rate's date
(or converted with the rate of the order's day when the order has none).
"""

import csv
import tempfile
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import OrderLine
from .services.reporting import RateBook

CHUNK = 2000
# Excel's sheet limit, less the header row.
XLSX_MAX_ROWS = 1_048_575

ORDER_COLUMNS = [
    ("number", _("Order")),
    ("external_id", _("External id")),
    ("channel", _("Channel")),
    ("status", _("Status")),
    ("payment_status", _("Payment")),
    ("placed_at", _("Placed")),
    ("created_at", _("Created")),
    ("customer_name", _("Customer")),
    ("customer_email", _("E-mail")),
    ("country", _("Country")),
    ("postal_code", _("Postal code")),
    ("city", _("City")),
    ("currency", _("Currency")),
    ("net", _("Net")),
    ("discount", _("Discount")),
    ("tax", _("Tax")),
    ("shipping", _("Shipping")),
    ("total", _("Total")),
    ("base_currency", _("Base currency")),
    ("base_total", _("Total in base currency")),
    ("rate", _("Exchange rate")),
    ("rate_date", _("Rate date")),
    ("tags", _("Tags")),
]
LINE_COLUMNS = [
    ("line_sku", _("SKU")),
    ("line_name", _("Item")),
    ("line_quantity", _("Quantity")),
    ("line_unit_price", _("Unit price")),
    ("line_discount", _("Line discount")),
    ("line_tax_rate", _("Tax rate (%)")),
    ("line_tax", _("Line tax")),
    ("line_total", _("Line total")),
]


def _iso(moment) -> str:
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else ""


def _amount(value) -> str:
    return "" if value is None else f"{Decimal(value):f}"


def _order_values(order, rates: RateBook) -> dict:
    base = settings.OMS_BASE_CURRENCY
    address = order.shipping_address or {}
    if order.base_currency == base and order.base_grand_total is not None:
        base_total, rate, rate_date = (
            order.base_grand_total,
            order.base_exchange_rate,
            order.base_rate_date,
        )
    else:
        day = timezone.localdate(order.placed_at or order.created_at)
        rate = rates.rate(order.currency, day)
        base_total = None if rate is None else (order.grand_total * rate).quantize(Decimal("0.001"))
        rate_date = day if rate is not None else None
    customer = order.customer
    return {
        "number": order.number or "",
        "external_id": order.external_id or "",
        "channel": order.channel.code,
        "status": order.status,
        "payment_status": order.payment_status,
        "placed_at": _iso(order.placed_at),
        "created_at": _iso(order.created_at),
        "customer_name": (customer.name if customer else "") or address.get("name", ""),
        "customer_email": order.email or (customer.email if customer else ""),
        "country": order.ship_to_country,
        "postal_code": address.get("postal_code", ""),
        "city": address.get("city", ""),
        "currency": order.currency,
        "net": _amount(order.subtotal - order.discount_total),
        "discount": _amount(order.discount_total),
        "tax": _amount(order.tax_total),
        "shipping": _amount(order.shipping_total),
        "total": _amount(order.grand_total),
        "base_currency": base,
        "base_total": _amount(base_total),
        "rate": _amount(rate),
        "rate_date": rate_date.isoformat() if rate_date else "",
        "tags": ", ".join(order.tags or []),
    }


def _line_values(line) -> dict:
    return {
        "line_sku": line.sku_code,
        "line_name": line.name,
        "line_quantity": line.quantity,
        "line_unit_price": _amount(line.unit_price),
        "line_discount": _amount(line.discount_amount),
        "line_tax_rate": _amount(getattr(line, "tax_rate", None)),
        "line_tax": _amount(line.tax_amount),
        "line_total": _amount(line.line_total),
    }


def columns(per_line: bool) -> list[tuple[str, str]]:
    return ORDER_COLUMNS + (LINE_COLUMNS if per_line else [])


def rows(orders, *, per_line: bool, limit: int | None = None):
    """Dicts of values, newest order first, read in keyset chunks (constant memory)."""
    orders = (
        orders.select_related("channel", "customer")
        .defer("routing_decision", "billing_address", "notes")
        .order_by("-pk")
    )
    rates = RateBook()
    last = None
    produced = 0
    while True:
        chunk = orders.filter(pk__lt=last) if last is not None else orders
        batch = list(chunk[:CHUNK])
        if not batch:
            return
        last = batch[-1].pk
        lines = {}
        if per_line:
            for line in OrderLine.objects.filter(order__in=[o.pk for o in batch]).order_by("pk"):
                lines.setdefault(line.order_id, []).append(line)
        for order in batch:
            values = _order_values(order, rates)
            if per_line:
                for line in lines.get(order.pk, []):
                    yield values | _line_values(line)
                    produced += 1
            else:
                yield values
                produced += 1
            if limit is not None and produced >= limit:
                return


class _Echo:
    def write(self, value):
        return value


def csv_stream(orders, *, per_line: bool):
    """CSV text in pieces: a header, then one piece per row. Starts with a byte order mark
    so that spreadsheet programs read it as UTF-8."""
    cols = columns(per_line)
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([str(label) for _key, label in cols])
    keys = [key for key, _label in cols]
    for values in rows(orders, per_line=per_line):
        yield writer.writerow([values[key] for key in keys])


NUMERIC = {
    "net",
    "discount",
    "tax",
    "shipping",
    "total",
    "base_total",
    "rate",
    "line_quantity",
    "line_unit_price",
    "line_discount",
    "line_tax_rate",
    "line_tax",
    "line_total",
}


def xlsx_file(orders, *, per_line: bool):
    """An open temporary file holding the workbook (XlsxWriter, constant-memory mode)."""
    import xlsxwriter

    target = tempfile.NamedTemporaryFile(suffix=".xlsx")  # noqa: SIM115 (returned open)
    workbook = xlsxwriter.Workbook(
        target.name, {"constant_memory": True, "tmpdir": tempfile.gettempdir()}
    )
    sheet = workbook.add_worksheet(str(_("Orders")))
    bold = workbook.add_format({"bold": True})
    cols = columns(per_line)
    for index, (_key, label) in enumerate(cols):
        sheet.write_string(0, index, str(label), bold)
    keys = [key for key, _label in cols]
    for row_index, values in enumerate(
        rows(orders, per_line=per_line, limit=XLSX_MAX_ROWS), start=1
    ):
        for col_index, key in enumerate(keys):
            value = values[key]
            if key in NUMERIC and value != "":
                sheet.write_number(row_index, col_index, float(value))
            else:
                sheet.write_string(row_index, col_index, str(value))
    workbook.close()
    target.seek(0)
    return target


def filename(per_line: bool, extension: str) -> str:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return f"orders{'-lines' if per_line else ''}-{stamp}.{extension}"
