"""Returns racing on PostgreSQL with real threads: however many returns of the same
order are asked for at once, no line is returned beyond what was shipped."""

import pytest
from django.db.models import Sum

from oms_site.errors import ValidationFailed
from orders.models import Order
from returns import services
from returns.models import ReturnLine

from ..e2e.test_concurrency import run_concurrently
from .conftest import SYSTEM, lines_of

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_eight_customers_racing_for_two_units_return_two(delivered):
    order = delivered(("MUG-WHT", 2))

    def ask(index):
        try:
            fresh = Order.objects.get(pk=order.pk)
            return services.create_return(
                order=fresh, lines=lines_of(fresh, MUG_WHT=1), actor=SYSTEM
            ).number
        except ValidationFailed as refused:
            return refused.code

    results = run_concurrently(8, ask)
    assert sum(1 for r in results if r.startswith("RMA-")) == 2
    assert results.count("invalid") == 6
    assert ReturnLine.objects.aggregate(units=Sum("quantity"))["units"] == 2


def test_two_receipts_of_one_return_count_its_units_once(delivered):
    order = delivered(("MUG-WHT", 2))
    rr = services.create_return(order=order, lines=lines_of(order, MUG_WHT=2), actor=SYSTEM)
    services.approve_return(rr, actor=SYSTEM)

    def receive(index):
        try:
            return services.receive_return(rr, actor=SYSTEM).status
        except Exception as refused:  # the loser is refused by the return's state
            return getattr(refused, "code", repr(refused))

    results = run_concurrently(2, receive)
    assert sorted(results) == ["received", "transition_not_allowed"]
    order.refresh_from_db()
    assert order.lines.get().quantity_returned == 2
    assert order.status == "returned"
