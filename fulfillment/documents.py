"""Printed documents: carrier labels (PDF, A6 = 105 x 148 mm, and ZPL for thermal
printers), packing slips and pick lists (PDF, A4), with Code 128 barcodes for our numbers
and EAN/UPC barcodes for the SKUs' own GTINs.

ReportLab draws them: its canvas, fonts and barcode widgets (Code 128, EAN-13/8, UPC-A)
are in one well-kept library with no system dependency. The standard PDF fonts cover
Western European text (German, French, Nordic letters); other scripts would need a
TrueType font registered here.
"""

import io

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode import code128, createBarcodeDrawing
from reportlab.lib.pagesizes import A4, A6
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

FONT, BOLD = "Helvetica", "Helvetica-Bold"


def _canvas(size, title):
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=size, pageCompression=1)
    pdf.setTitle(title)
    pdf.setAuthor("OMS")
    return buffer, pdf


def _code128(pdf, value, x, y, *, height=14 * mm, width=0.38 * mm, human=True):
    barcode = code128.Code128(value, barHeight=height, barWidth=width, humanReadable=human)
    barcode.drawOn(pdf, x, y)
    return barcode.width


def gtin_barcode(pdf, gtin, x, y, *, height=10 * mm):
    """The SKU's own GTIN as printed on its packaging: EAN-13, EAN-8 or UPC-A."""
    kinds = {13: "EAN13", 8: "EAN8", 12: "UPCA"}
    kind = kinds.get(len(gtin or ""))
    if not kind or not gtin.isdigit():
        if gtin:
            _code128(pdf, gtin, x, y, height=height, width=0.3 * mm)
        return
    drawing = createBarcodeDrawing(kind, value=gtin, barHeight=height, humanReadable=True)
    renderPDF.draw(drawing, pdf, x, y)


def _lines(pdf, x, y, texts, *, size=9, leading=None, font=FONT):
    leading = leading or size * 1.25
    pdf.setFont(font, size)
    for text in texts:
        if text:
            pdf.drawString(x, y, str(text)[:90])
            y -= leading
    return y


def _address_lines(address) -> list[str]:
    """Works for carrier ``Address`` objects and order address dicts."""
    get = address.get if isinstance(address, dict) else lambda k, d="": getattr(address, k, d)
    city = " ".join(p for p in (get("postal_code", ""), get("city", "")) if p)
    return [
        get("name", ""),
        get("company", ""),
        get("line1", ""),
        get("line2", ""),
        city,
        get("country", ""),
    ]


# --- labels -----------------------------------------------------------------------------


def label_pdf(request, tracking_number: str, *, carrier_name: str) -> bytes:
    """One A6 page per parcel: sender, recipient, service, parcel n/m, tracking barcode."""
    buffer, pdf = _canvas(A6, f"Label {tracking_number}")
    width, height = A6
    count = len(request.parcels) or 1
    for n, parcel in enumerate(request.parcels or [None], start=1):
        pdf.setFont(BOLD, 14)
        pdf.drawString(6 * mm, height - 10 * mm, carrier_name[:30])
        pdf.setFont(FONT, 8)
        pdf.drawRightString(width - 6 * mm, height - 10 * mm, f"Parcel {n}/{count}")
        _lines(pdf, 6 * mm, height - 17 * mm, ["From:", *_address_lines(request.sender)], size=7)
        pdf.line(6 * mm, height - 50 * mm, width - 6 * mm, height - 50 * mm)
        _lines(pdf, 6 * mm, height - 57 * mm, ["To:"], size=8)
        _lines(
            pdf, 12 * mm, height - 63 * mm, _address_lines(request.recipient), size=12, font=BOLD
        )
        weight = f"{parcel.weight_grams / 1000:.2f} kg" if parcel else ""
        _lines(
            pdf,
            6 * mm,
            44 * mm,
            [
                f"Service: {request.service_code}   Weight: {weight}",
                f"Ref: {request.reference} / {request.order_reference}",
            ],
            size=8,
        )
        _code128(pdf, tracking_number, 8 * mm, 12 * mm, height=20 * mm, width=0.42 * mm)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _zpl_text(text: str) -> str:
    # ZPL treats ^ and ~ as commands; keep labels printable whatever the address says.
    return str(text).replace("^", " ").replace("~", " ")[:60]


def label_zpl(request, tracking_number: str, *, carrier_name: str) -> str:
    """The same label for a 203 dpi thermal printer (4 x 6 in): one ^XA...^XZ per parcel."""
    labels = []
    count = len(request.parcels) or 1
    for n, parcel in enumerate(request.parcels or [None], start=1):
        fields = [
            "^XA",
            "^CI28",  # UTF-8 text
            "^PW812^LL1218",
            f"^FO40,40^A0N,50,50^FD{_zpl_text(carrier_name)}^FS",
            f"^FO600,50^A0N,30,30^FDParcel {n}/{count}^FS",
            "^FO40,110^A0N,24,24^FDFrom:^FS",
        ]
        y = 140
        for text in filter(None, _address_lines(request.sender)):
            fields.append(f"^FO40,{y}^A0N,24,24^FD{_zpl_text(text)}^FS")
            y += 28
        fields.append(f"^FO40,{y + 20}^GB730,3,3^FS")
        y += 50
        fields.append(f"^FO40,{y}^A0N,28,28^FDTo:^FS")
        y += 36
        for text in filter(None, _address_lines(request.recipient)):
            fields.append(f"^FO60,{y}^A0N,40,40^FD{_zpl_text(text)}^FS")
            y += 46
        weight = f"{parcel.weight_grams / 1000:.2f} kg" if parcel else ""
        fields += [
            f"^FO40,{y + 20}^A0N,26,26^FDService {_zpl_text(request.service_code)}  "
            f"Weight {weight}  Ref {_zpl_text(request.reference)}^FS",
            f"^FO60,900^BY3^BCN,200,Y,N,N^FD{_zpl_text(tracking_number)}^FS",
            "^XZ",
        ]
        labels.append("\n".join(fields))
    return "\n".join(labels) + "\n"


# --- packing slip -------------------------------------------------------------------------


def packing_slip_pdf(shipment) -> bytes:
    buffer, pdf = _canvas(A4, f"Packing slip {shipment.number}")
    _draw_packing_slip(pdf, shipment)
    pdf.save()
    return buffer.getvalue()


def packing_slips_pdf(shipments, *, title: str) -> bytes:
    """Many packing slips in one PDF, each starting on a page of its own (a bulk print)."""
    buffer, pdf = _canvas(A4, title)
    for shipment in shipments:
        _draw_packing_slip(pdf, shipment)
    pdf.save()
    return buffer.getvalue()


def _draw_packing_slip(pdf, shipment) -> None:
    order = shipment.order
    width, height = A4
    pdf.setFont(BOLD, 18)
    pdf.drawString(20 * mm, height - 25 * mm, "Packing slip")
    _code128(pdf, order.number, width - 80 * mm, height - 30 * mm, height=12 * mm)
    y = _lines(
        pdf,
        20 * mm,
        height - 35 * mm,
        [
            f"Order {order.number}" + (f" ({order.external_id})" if order.external_id else ""),
            f"Shipment {shipment.number}",
            f"Carrier: {shipment.carrier_name} {shipment.tracking_number}".strip(),
        ],
        size=10,
    )
    _lines(pdf, 20 * mm, y - 6 * mm, ["Ship to:", *_address_lines(order.shipping_address)], size=10)
    warehouse = shipment.warehouse
    if warehouse is not None:
        _lines(
            pdf,
            110 * mm,
            y - 6 * mm,
            [
                "From:",
                warehouse.name,
                warehouse.address_line1,
                f"{warehouse.postal_code} {warehouse.city}",
                str(warehouse.country),
            ],
            size=10,
        )
    y -= 55 * mm
    pdf.setFont(BOLD, 10)
    for x, title in ((20, "SKU"), (60, "Item"), (160, "Qty")):
        pdf.drawString(x * mm, y, title)
    pdf.line(20 * mm, y - 2 * mm, width - 20 * mm, y - 2 * mm)
    y -= 8 * mm
    pdf.setFont(FONT, 10)
    for line in shipment.lines.select_related("order_line"):
        if y < 25 * mm:
            pdf.showPage()
            y = height - 25 * mm
            pdf.setFont(FONT, 10)
        pdf.drawString(20 * mm, y, line.order_line.sku_code)
        pdf.drawString(60 * mm, y, line.order_line.name[:55])
        pdf.drawRightString(170 * mm, y, str(line.quantity))
        y -= 6 * mm
    packages = list(shipment.packages.all())
    if packages:
        y -= 4 * mm
        total = sum(p.weight_grams for p in packages)
        _lines(pdf, 20 * mm, y, [f"{len(packages)} package(s), {total / 1000:.2f} kg"], size=9)
    pdf.showPage()


# --- pick list ------------------------------------------------------------------------------


def pick_list_pdf(pick_list) -> bytes:
    """Header with the list's barcode, the tote slots with their orders' barcodes, then
    every line in bin order with the SKU's GTIN barcode and the slot it goes into."""
    buffer, pdf = _canvas(A4, f"Pick list {pick_list.number}")
    width, height = A4
    pdf.setFont(BOLD, 18)
    pdf.drawString(15 * mm, height - 20 * mm, f"Pick list {pick_list.number}")
    picker = pick_list.assigned_to.get_username() if pick_list.assigned_to_id else "-"
    _lines(
        pdf,
        15 * mm,
        height - 28 * mm,
        [
            f"Warehouse {pick_list.warehouse.code} - {pick_list.warehouse.name}",
            f"Picker: {picker}    Created: {pick_list.created_at:%Y-%m-%d %H:%M}",
        ],
        size=10,
    )
    _code128(pdf, pick_list.number, width - 85 * mm, height - 32 * mm, height=14 * mm)
    y = height - 45 * mm
    pdf.setFont(BOLD, 11)
    pdf.drawString(15 * mm, y, "Totes")
    y -= 4 * mm
    for entry in pick_list.orders.select_related("order"):
        if y < 30 * mm:
            pdf.showPage()
            y = height - 20 * mm
        y -= 14 * mm
        pdf.setFont(BOLD, 12)
        pdf.drawString(15 * mm, y + 3 * mm, f"Slot {entry.tote_slot}")
        _code128(pdf, entry.order.number, 40 * mm, y, height=9 * mm, width=0.3 * mm)
    y -= 10 * mm
    pdf.setFont(BOLD, 11)
    pdf.drawString(15 * mm, y, "Lines (in walking order)")
    y -= 2 * mm
    for line in pick_list.lines.select_related("sku__product", "pick_order"):
        if y < 35 * mm:
            pdf.showPage()
            y = height - 20 * mm
        y -= 20 * mm
        pdf.setFont(BOLD, 14)
        pdf.drawString(15 * mm, y + 8 * mm, line.bin_code or "-")
        pdf.setFont(FONT, 10)
        pdf.drawString(45 * mm, y + 12 * mm, f"{line.sku.code}  {line.sku.display_name}"[:60])
        pdf.drawString(
            45 * mm,
            y + 6 * mm,
            f"Qty {line.quantity}   -> slot {line.pick_order.tote_slot}"
            + (f"   GTIN {line.sku.barcode}" if line.sku.barcode else "")
            + (f"   (short {line.quantity_short})" if line.quantity_short else ""),
        )
        gtin_barcode(pdf, line.sku.barcode, 140 * mm, y, height=9 * mm)
        pdf.line(15 * mm, y - 2 * mm, width - 15 * mm, y - 2 * mm)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
