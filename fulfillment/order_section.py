"""The order page's "Shipments" section: every shipment of the order (partial shipments,
drop-shipped and marketplace-fulfilled ones too) with its state, carrier and tracking, and
links to the shipment's page for those who work in its warehouse."""

from oms_site.roles import Capability, user_can
from orders.page_sections import OrderPageSection, register

from .access import limits_warehouses
from .models import Shipment


def shipments_context(request, order):
    shipments = list(
        Shipment.objects.filter(order=order)
        .select_related("warehouse", "supplier")
        .prefetch_related("lines")
        .order_by("pk")
    )
    if not shipments:
        return None
    can_open = user_can(request.user, Capability.FULFILLMENT_VIEW)
    mine = None
    if limits_warehouses(request.user):
        mine = set(request.user.warehouse_access.values_list("warehouse_id", flat=True))
    rows = []
    for shipment in shipments:
        rows.append(
            {
                "shipment": shipment,
                "units": sum(line.quantity for line in shipment.lines.all()),
                "link": can_open and (mine is None or shipment.warehouse_id in mine),
                "from": shipment.warehouse.name
                if shipment.warehouse
                else (shipment.supplier.name if shipment.supplier else ""),
            }
        )
    return {"rows": rows}


def register_order_section() -> None:
    register(
        OrderPageSection(
            key="shipments",
            template="fulfillment/_order_shipments.html",
            context=shipments_context,
            place=10,
        )
    )
