"""The order page's "Returns" section: the order's returns (state, units, reason, refund or
exchange) with links to each, and a way to start one where the order allows it."""

from django.db.models import Sum

from oms_site.roles import Capability, user_can
from orders.page_sections import OrderPageSection, register

from .services.quantities import RETURNABLE_STATUSES, returnable_lines
from .views.common import visible_returns


def returns_context(request, order):
    returns = list(
        visible_returns(request.user)
        .filter(order=order)
        .select_related("warehouse", "exchange_order")
        .annotate(units=Sum("lines__quantity"))
        .order_by("pk")
    )
    may_create = (
        order.status in RETURNABLE_STATUSES
        and user_can(request.user, Capability.RETURN_MANAGE)
        and any(entry.quantity > 0 for entry in returnable_lines(order))
    )
    if not returns and not may_create:
        return None
    return {"returns": returns, "may_create": may_create, "order": order}


def register_order_section() -> None:
    register(
        OrderPageSection(
            key="returns",
            template="returns/_order_returns.html",
            context=returns_context,
            place=20,
        )
    )
