"""Money races on PostgreSQL with real threads: refunds never pass what was captured,
and invoice numbers stay gapless and unique when many are issued at once."""

from decimal import Decimal

import pytest
from django.db import transaction

from demo.sandboxes.vipps import VippsServer
from oms_site.actors import Actor
from oms_site.errors import Conflict
from orders.audit import run_audits
from orders.invoicing import services as invoicing
from orders.models import Invoice, Order, Payment, Refund
from orders.payments import services as payments
from orders.payments.refunds import create_refund
from orders.services import place_order

from ..factories import ChannelFactory, SKUFactory, WarehouseFactory, stock
from .test_concurrency import run_concurrently

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

D = Decimal
ACTOR = Actor.system("race")
ADDRESS = {"name": "Erika", "line1": "Heidestrasse 17", "city": "Berlin", "country": "DE"}


def _paid_order(*, payment=None, quantity=10, capture=True):
    channel = ChannelFactory()
    warehouse = WarehouseFactory(code="ber")
    sku = SKUFactory(code="TEN", price="10.00")
    stock(sku, warehouse, 100)
    order = place_order(
        channel=channel,
        lines=[{"sku": "TEN", "quantity": quantity}],
        shipping_address=ADDRESS,
        payment=payment or {"gateway": "manual", "method": "bank_transfer"},
        actor=ACTOR,
    )
    if capture:
        payments.capture_payment(order=order, actor=ACTOR)
    return Order.objects.get(pk=order.pk)


def _try_refund(order_id, amount):
    try:
        with transaction.atomic():
            refund = create_refund(
                order=Order.objects.get(pk=order_id), actor=ACTOR, extra_amount=amount
            )
        return refund.pk
    except Conflict as refused:
        return refused.code


def test_two_refunds_racing_for_the_same_money_never_pass_the_capture():
    order = _paid_order()  # 100.00 captured

    results = run_concurrently(2, lambda i: _try_refund(order.pk, "60.00"))

    assert sorted(map(type, results), key=str) == [int, str]
    assert "refund_exceeds_captured" in results
    payment = Payment.objects.get(order=order)
    assert payment.refunded_amount == D("60.00")
    assert payment.captured_amount - payment.refunded_amount == D("40.00")
    assert run_audits() == []


def test_eight_refunds_of_a_fifth_each_refund_exactly_everything():
    order = _paid_order()  # 100.00

    results = run_concurrently(8, lambda i: _try_refund(order.pk, "20.00"))

    assert sum(isinstance(r, int) for r in results) == 5
    assert results.count("refund_exceeds_captured") == 3
    payment = Payment.objects.get(order=order)
    assert payment.refunded_amount == payment.captured_amount == D("100.00")
    assert Order.objects.get(pk=order.pk).payment_status == "refunded"
    assert run_audits() == []


def test_racing_refunds_through_the_gateway_move_the_money_once(settings):
    with VippsServer() as server:
        settings.OMS_VIPPS = server.settings()
        server.sandbox.create_payment("race-order-0001", 10000, "EUR")
        # Committed at once here, so the gateway is asked as it would be after commit.
        order = _paid_order(
            payment={"gateway": "vipps", "method": "wallet", "reference": "race-order-0001"},
            capture=False,
        )
        assert order.payment_status == "paid"

        results = run_concurrently(4, lambda i: _try_refund(order.pk, "40.00"))

        assert sum(isinstance(r, int) for r in results) == 2
        assert set(Refund.objects.values_list("status", flat=True)) == {"succeeded"}
        assert server.sandbox.payments["race-order-0001"]["refunded"] == 8000
        assert Payment.objects.get(order=order).refunded_amount == D("80.00")
        assert run_audits() == []


def test_fifty_invoices_issued_at_once_are_numbered_without_gaps_or_duplicates():
    channel = ChannelFactory()
    warehouse = WarehouseFactory(code="ber")
    sku = SKUFactory(code="INV", price="10.00")
    stock(sku, warehouse, 100)
    orders = [
        place_order(
            channel=channel,
            lines=[{"sku": "INV", "quantity": 1}],
            shipping_address=ADDRESS,
            actor=ACTOR,
        ).pk
        for _ in range(50)
    ]

    def issue(index):
        return invoicing.issue_invoice(Order.objects.get(pk=orders[index]), actor=ACTOR).sequence

    numbers = run_concurrently(50, issue)

    assert sorted(numbers) == list(range(1, 51))
    assert Invoice.objects.values("number").distinct().count() == 50
    assert run_audits() == []
