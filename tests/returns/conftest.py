"""The returns world: the fulfillment world (Berlin with bins, SKUs with GTINs, an own
courier, Leeds) plus delivered, paid and invoiced orders to return."""

import pytest

from oms_site.actors import Actor
from orders import services as order_services
from orders.invoicing.services import invoice_of, issue_invoice
from tests.fulfillment.conftest import (  # noqa: F401 (fixtures shared with these tests)
    berlin,
    box,
    leeds,
    own_courier,
    place,
    skus,
    warehouse_user,
)

SYSTEM = Actor.system("test")


@pytest.fixture
def delivered(place, skus):  # noqa: F811 (the shared fixtures above)
    """An order of 2 mugs and 1 cap, paid in cash, invoiced, shipped and delivered."""

    def make(*lines, invoiced=True):
        lines = lines or (("MUG-WHT", 2), ("CAP-RED", 1))
        order = place(*lines, payment={"gateway": "manual", "method": "cash"})
        order_services.ship_order(order, actor=SYSTEM)
        order_services.deliver_order(order, actor=SYSTEM)
        if invoiced and invoice_of(order) is None:
            issue_invoice(order, actor=SYSTEM)
        order.refresh_from_db()
        return order

    return make


def lines_of(order, **quantities):
    """Return lines for ``sku_code=units`` (dashes as underscores)."""
    wanted = {code.replace("_", "-"): units for code, units in quantities.items()}
    return [
        {"line": line.pk, "quantity": wanted[line.sku_code], "reason": "does_not_fit"}
        for line in order.lines.all()
        if line.sku_code in wanted
    ]
