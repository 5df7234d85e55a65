"""Invoice and credit note PDFs (ReportLab).

Rendered once from the stored document (never from the order, which may change) and
attached to it, so the PDF a customer received is the one that stays. A4, the seller's
organisation number and VAT number, the buyer's address, lines, tax per rate, totals,
payment terms; a credit note names the invoice it credits.
"""

from io import BytesIO

from django.utils import translation
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from oms_site.money import format_money


def _paragraphs(text: str) -> str:
    return "<br/>".join(part for part in (text or "").splitlines() if part.strip())


def _escape(value) -> str:
    return str(value or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render(invoice, *, language: str = "en") -> bytes:
    with translation.override(language):
        return _render(invoice)


def _render(invoice) -> bytes:
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"{invoice.get_kind_display()} {invoice.number}",
        author=invoice.seller.get("name") or "OMS",
    )
    styles = getSampleStyleSheet()
    normal, small = styles["Normal"], styles["Normal"].clone("small", fontSize=8, leading=10)

    def money(amount):
        return format_money(amount, invoice.currency)

    seller = invoice.seller
    buyer = invoice.buyer
    title = _("Credit note") if invoice.is_credit_note else _("Invoice")
    story = [Paragraph(f"{title} {_escape(invoice.number)}", styles["Title"])]
    seller_lines = [
        f"<b>{_escape(seller.get('name'))}</b>",
        _paragraphs(_escape(seller.get("address"))),
    ]
    if seller.get("organisation_number"):
        seller_lines.append(
            _("Organisation number") + f": {_escape(seller['organisation_number'])}"
        )
    if seller.get("vat_number"):
        seller_lines.append(_("VAT number") + f": {_escape(seller['vat_number'])}")
    for key in ("email", "phone"):
        if seller.get(key):
            seller_lines.append(_escape(seller[key]))
    buyer_lines = [f"<b>{_escape(buyer.get('name'))}</b>"]
    for key in ("company", "line1", "line2"):
        if buyer.get(key):
            buyer_lines.append(_escape(buyer[key]))
    buyer_lines.append(_escape(f"{buyer.get('postal_code', '')} {buyer.get('city', '')}".strip()))
    if buyer.get("region"):
        buyer_lines.append(_escape(buyer["region"]))
    buyer_lines.append(_escape(buyer.get("country")))
    facts = [
        _("Date") + f": {invoice.issue_date.isoformat()}",
        _("Order") + f": {_escape(invoice.order.number)}",
    ]
    if invoice.due_date:
        facts.append(_("Due") + f": {invoice.due_date.isoformat()}")
    if invoice.credited_invoice_id:
        facts.append(_("Credits invoice") + f": {_escape(invoice.credited_invoice.number)}")
    parties = Table(
        [
            [
                Paragraph("<br/>".join(filter(None, seller_lines)), normal),
                Paragraph("<br/>".join(filter(None, buyer_lines)), normal),
                Paragraph("<br/>".join(facts), normal),
            ]
        ],
        colWidths=[74 * mm, 56 * mm, 44 * mm],
    )
    parties.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [parties, Spacer(1, 8 * mm)]

    rows = [[_("Item"), _("Qty"), _("Unit price"), _("Tax"), _("Net"), _("Total")]]
    for line in invoice.lines.all():
        item = _escape(line.description) + (
            f"<br/><font size=7>{_escape(line.sku_code)}</font>" if line.sku_code else ""
        )
        rows.append(
            [
                Paragraph(item, small),
                f"{line.quantity.normalize():f}",
                money(line.unit_price),
                f"{line.tax_name} {line.tax_rate.normalize():f} %".strip(),
                money(line.net_amount),
                money(line.total),
            ]
        )
    table = Table(rows, colWidths=[64 * mm, 12 * mm, 26 * mm, 24 * mm, 24 * mm, 24 * mm])
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("FONTSIZE", (0, 0), (-1, -1), 8),
                ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.lightgrey),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story += [table, Spacer(1, 6 * mm)]

    tax_rows = [[_("Tax"), _("Net"), _("Tax amount")]]
    for tax in invoice.tax_lines.all():
        tax_rows.append(
            [
                f"{tax.name} {tax.rate.normalize():f} %".strip(),
                money(tax.net_amount),
                money(tax.tax_amount),
            ]
        )
    tax_rows += [
        ["", _("Net total"), money(invoice.net_total)],
        ["", _("Tax total"), money(invoice.tax_total)],
        ["", _("Total to pay") if not invoice.is_credit_note else _("Total credited"),
         money(invoice.total)],
    ]  # fmt: skip
    totals = Table(tax_rows, colWidths=[40 * mm, 40 * mm, 40 * mm], hAlign="RIGHT")
    totals.setStyle(
        TableStyle(
            [
                ("FONTSIZE", (0, 0), (-1, -1), 8),
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("FONTNAME", (1, -1), (-1, -1), "Helvetica-Bold"),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                ("LINEABOVE", (1, -3), (-1, -3), 0.6, colors.black),
            ]
        )
    )
    story.append(totals)
    if invoice.base_total is not None and invoice.base_currency != invoice.currency:
        story.append(
            Paragraph(
                _("In %(base)s: %(amount)s at %(rate)s of %(date)s")
                % {
                    "base": invoice.base_currency,
                    "amount": format_money(invoice.base_total, invoice.base_currency),
                    "rate": invoice.exchange_rate,
                    "date": invoice.rate_date.isoformat() if invoice.rate_date else "",
                },
                small,
            )
        )
    story.append(Spacer(1, 8 * mm))
    if not invoice.is_credit_note and seller.get("bank_account"):
        story.append(
            Paragraph(
                _("Pay to %(account)s by %(due)s, marked %(number)s.")
                % {
                    "account": _escape(seller["bank_account"]),
                    "due": invoice.due_date.isoformat() if invoice.due_date else "",
                    "number": _escape(invoice.number),
                },
                normal,
            )
        )
    if invoice.note:
        story.append(Paragraph(_escape(invoice.note), small))
    if seller.get("footer"):
        story.append(Paragraph(_escape(seller["footer"]), small))
    document.build(story)
    return buffer.getvalue()


def pdf_of(invoice) -> bytes:
    """The document's PDF: the stored one, or rendered now and stored once."""
    if invoice.pdf:
        return bytes(invoice.pdf)
    content = render(invoice)
    if not invoice.attach_pdf(content):
        invoice.refresh_from_db(fields=["pdf", "pdf_sha256"])
        return bytes(invoice.pdf)
    return content
