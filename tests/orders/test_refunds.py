"""Refunds: per line, shipping, a restocking fee, goodwill; to the payment or by hand;
never more than was captured; failed refunds tried again."""

from decimal import Decimal

import pytest

from demo.sandboxes.vipps import VippsServer
from oms_site.actors import Actor
from oms_site.errors import Conflict, ValidationFailed
from oms_site.models import OutboxEvent
from orders.models import Order, PaymentStatus, Refund
from orders.payments import services as payments
from orders.payments.refunds import create_refund, refundable
from orders.services import place_order

from ..factories import ChannelFactory, SKUFactory, stock

pytestmark = pytest.mark.django_db

D = Decimal
ACTOR = Actor.system("test")
ADDRESS = {"name": "Erika", "line1": "Heidestrasse 17", "city": "Berlin", "country": "DE"}


@pytest.fixture
def hooks(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def paid_order(channel, warehouse, hooks):
    """Two lines (3 x 10.00, 1 x 25.00) + 4.90 shipping, paid by bank transfer."""
    a = SKUFactory(code="A", price="10.00")
    b = SKUFactory(code="B", price="25.00")
    stock(a, warehouse, 10)
    stock(b, warehouse, 10)
    with hooks():
        order = place_order(
            channel=channel,
            lines=[{"sku": "A", "quantity": 3}, {"sku": "B", "quantity": 1}],
            shipping_address=ADDRESS,
            shipping_total="4.90",
            payment={"gateway": "manual", "method": "bank_transfer"},
            actor=ACTOR,
        )
        payments.capture_payment(order=order, actor=ACTOR)
    return Order.objects.get(pk=order.pk)


def lines_of(order):
    return {line.sku_code: line for line in order.lines.all()}


def test_refund_units_of_a_line_at_what_was_paid(paid_order, hooks):
    a = lines_of(paid_order)["A"]
    with hooks():
        refund = create_refund(order=paid_order, actor=ACTOR, lines=[(a.pk, 2)], reason="Too big")
    refund.refresh_from_db()
    assert (refund.status, refund.amount, refund.lines_amount) == ("succeeded", D("20.00"), D("20"))
    assert Order.objects.get(pk=paid_order.pk).payment_status == PaymentStatus.PARTIALLY_REFUNDED
    assert OutboxEvent.objects.filter(event_type="refund.succeeded").count() == 1

    left = {entry.line.sku_code: entry.quantity for entry in refundable(paid_order).lines}
    assert left == {"A": 1, "B": 1}


def test_unit_by_unit_refunds_add_up_to_the_line(channel, warehouse, hooks):
    sku = SKUFactory(code="C", price="10.00")
    stock(sku, warehouse, 5)
    with hooks():
        order = place_order(
            channel=channel,
            lines=[{"sku": "C", "quantity": 3}],
            shipping_address=ADDRESS,
            discount="1.00",  # 29.00 for three units: 9.67 + 9.67 + 9.66
            payment={"gateway": "manual", "method": "cash"},
            actor=ACTOR,
        )
    line = order.lines.get()
    with hooks():
        amounts = [
            create_refund(order=order, actor=ACTOR, lines=[(line.pk, 1)]).amount for _ in range(3)
        ]
    assert sum(amounts) == line.line_total
    assert Order.objects.get(pk=order.pk).payment_status == PaymentStatus.REFUNDED


def test_shipping_and_a_restocking_fee(paid_order, hooks):
    b = lines_of(paid_order)["B"]
    with hooks():
        refund = create_refund(
            order=paid_order,
            actor=ACTOR,
            lines=[(b.pk, 1)],
            shipping_amount="4.90",
            restocking_fee="3.00",
        )
    assert refund.amount == D("25.00") + D("4.90") - D("3.00")


def test_a_unit_is_not_refunded_twice(paid_order, hooks):
    b = lines_of(paid_order)["B"]
    with hooks():
        create_refund(order=paid_order, actor=ACTOR, lines=[(b.pk, 1)])
    with pytest.raises(ValidationFailed) as refused:
        create_refund(order=paid_order, actor=ACTOR, lines=[(b.pk, 1)])
    assert "lines.0.quantity" in refused.value.fields


def test_never_more_than_was_captured(paid_order, hooks):
    with hooks():
        create_refund(order=paid_order, actor=ACTOR, extra_amount="50.00")
    with pytest.raises(Conflict) as refused:
        create_refund(order=paid_order, actor=ACTOR, extra_amount="10.00")
    assert refused.value.code == "refund_exceeds_captured"
    payment = paid_order.payments.get()
    assert payment.refund_reserved_amount == D("50.00")


def test_nothing_to_refund_is_refused(paid_order):
    with pytest.raises(ValidationFailed):
        create_refund(order=paid_order, actor=ACTOR)
    with pytest.raises(ValidationFailed):
        create_refund(order=paid_order, actor=ACTOR, extra_amount="5", restocking_fee="6")


def test_an_unpaid_order_has_nothing_to_refund(channel, stocked_sku=None):
    order = place_order(
        channel=channel,
        lines=[{"sku": SKUFactory(code="Z").code, "quantity": 1}],
        shipping_address=ADDRESS,
        actor=ACTOR,
    )
    with pytest.raises(Conflict):
        create_refund(order=order, actor=ACTOR, extra_amount="1")


def test_a_manual_refund_of_a_card_payment_is_recorded_without_the_gateway(
    channel, warehouse, settings, hooks
):
    sku = SKUFactory(code="V", price="10.00")
    stock(sku, warehouse, 5)
    with VippsServer() as server:
        settings.OMS_VIPPS = server.settings()
        server.sandbox.create_payment("shop-order-30001", 1000, "EUR")
        with hooks():
            order = place_order(
                channel=channel,
                lines=[{"sku": "V", "quantity": 1}],
                shipping_address=ADDRESS,
                payment={"gateway": "vipps", "method": "wallet", "reference": "shop-order-30001"},
                actor=ACTOR,
            )
        with hooks():
            refund = create_refund(order=order, actor=ACTOR, extra_amount="4.00", manual=True)
        refund.refresh_from_db()
        assert refund.status == "succeeded"
        assert server.sandbox.payments["shop-order-30001"]["refunded"] == 0


def test_a_refused_refund_fails_frees_its_amount_and_can_be_retried(
    channel, warehouse, settings, hooks
):
    sku = SKUFactory(code="V", price="10.00")
    stock(sku, warehouse, 5)
    with VippsServer() as server:
        settings.OMS_VIPPS = server.settings()
        server.sandbox.create_payment("shop-order-30002", 1000, "EUR")
        with hooks():
            order = place_order(
                channel=channel,
                lines=[{"sku": "V", "quantity": 1}],
                shipping_address=ADDRESS,
                payment={"gateway": "vipps", "method": "wallet", "reference": "shop-order-30002"},
                actor=ACTOR,
            )
        server.sandbox.fail_next("refund", "decline")
        with hooks():
            refund = create_refund(order=order, actor=ACTOR, extra_amount="10.00")
        refund.refresh_from_db()
        assert refund.status == "failed"
        assert refund.last_error
        payment = order.payments.get()
        assert payment.refund_reserved_amount == 0
        assert OutboxEvent.objects.filter(event_type="refund.failed").count() == 1

        with hooks():
            payments.retry_refund(refund, actor=ACTOR)
        refund.refresh_from_db()
        assert (refund.status, refund.attempts) == ("succeeded", 2)
        keys = {t.idempotency_key for t in refund.transactions.all()}
        assert keys == {f"refund-{refund.pk}-1", f"refund-{refund.pk}-2"}
        assert server.sandbox.payments["shop-order-30002"]["refunded"] == 1000


def test_a_marketplace_refund_is_recorded_as_the_marketplaces(warehouse, hooks):
    amazon = ChannelFactory(code="amazon", kind="amazon", collected_by_marketplace=True)
    sku = SKUFactory(code="M", price="10.00")
    stock(sku, warehouse, 5)
    with hooks():
        order = place_order(
            channel=amazon,
            lines=[{"sku": "M", "quantity": 1}],
            shipping_address=ADDRESS,
            actor=ACTOR,
        )
    with hooks():
        refund = create_refund(order=order, actor=ACTOR, extra_amount="10.00")
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert Refund.objects.get().payment.gateway == "marketplace"
