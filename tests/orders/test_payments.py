"""Payments: the ledger, the manual/offline and marketplace gateways, and Vipps MobilePay
against a local sandbox that speaks its ePayment API — faults included."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from oms_site.actors import Actor
from oms_site.errors import Conflict
from oms_site.models import OutboxEvent
from orders.models import (
    Order,
    OrderEvent,
    Payment,
    PaymentStatus,
    Transaction,
    TransactionStatus,
)
from orders.payments import services as payments
from orders.services import cancel_order, place_order

from ..factories import ChannelFactory, SKUFactory, stock
from ..helpers import order_payload

pytestmark = pytest.mark.django_db

D = Decimal
ACTOR = Actor.system("test")
ADDRESS = {"name": "Kari", "line1": "Karl Johans gate 1", "city": "Oslo", "country": "NO"}


@pytest.fixture
def stocked(warehouse, sku):
    stock(sku, warehouse, 50)
    return sku


@pytest.fixture
def hooks(django_capture_on_commit_callbacks):
    """Run what waits for commit (gateway calls, webhooks) as it would after commit."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def new_order(channel, sku, quantity=2, **kwargs):
    return place_order(
        channel=channel,
        lines=[{"sku": sku.code, "quantity": quantity}],
        shipping_address=ADDRESS,
        actor=ACTOR,
        **kwargs,
    )


def fresh(order) -> Order:
    return Order.objects.get(pk=order.pk)


def kinds_and_statuses(payment):
    return list(payment.transactions.order_by("pk").values_list("kind", "status"))


# --- manual / offline ----------------------------------------------------------------------


def test_bank_transfer_is_unpaid_until_the_money_is_recorded(channel, stocked, hooks):
    order = new_order(channel, stocked)
    with hooks():
        payment = payments.add_payment(
            order=order, gateway="manual", method="bank_transfer", actor=ACTOR
        )
    assert fresh(order).payment_status == PaymentStatus.UNPAID
    assert payment.amount == order.grand_total

    with hooks():
        payments.capture_payment(order=order, actor=ACTOR)

    payment.refresh_from_db()
    assert fresh(order).payment_status == PaymentStatus.PAID
    assert kinds_and_statuses(payment) == [("authorize", "succeeded"), ("capture", "succeeded")]
    assert payment.captured_amount == order.grand_total
    assert OutboxEvent.objects.filter(event_type="payment.captured").count() == 1


def test_part_of_a_transfer_makes_the_order_partially_paid(channel, stocked, hooks):
    order = new_order(channel, stocked)
    with hooks():
        payments.add_payment(order=order, gateway="manual", method="bank_transfer", actor=ACTOR)
        payments.capture_payment(order=order, amount="10.00", actor=ACTOR)
    assert fresh(order).payment_status == PaymentStatus.PARTIALLY_PAID


def test_marketplace_orders_are_collected_by_the_marketplace(stocked, hooks):
    amazon = ChannelFactory(code="amazon", kind="amazon", collected_by_marketplace=True)
    with hooks():
        order = new_order(amazon, stocked)
    order = fresh(order)
    assert order.payment_status == PaymentStatus.PAID
    payment = order.payments.get()
    assert (payment.gateway, payment.method) == ("marketplace", "marketplace")
    assert "Payment status: Unpaid → Paid" in order.events.values_list("message", flat=True)


# --- Vipps MobilePay -----------------------------------------------------------------------


def vipps_order(channel, sku, server, reference="shop-order-10001", **kwargs):
    order_total = Decimal(sku.price) * 2
    server.sandbox.create_payment(reference, int(order_total * 100), "EUR")
    return new_order(
        channel,
        sku,
        payment={"gateway": "vipps", "method": "wallet", "reference": reference},
        **kwargs,
    )


def test_a_vipps_order_is_authorized_then_captured_on_placement(channel, stocked, vipps, hooks):
    with hooks():
        order = vipps_order(channel, stocked, vipps)

    order = fresh(order)
    payment = order.payments.get()
    assert order.payment_status == PaymentStatus.PAID
    assert kinds_and_statuses(payment) == [("authorize", "succeeded"), ("capture", "succeeded")]
    capture = [r for r in vipps.sandbox.requests if r["path"].endswith("/capture")]
    assert len(capture) == 1
    assert capture[0]["body"] == {"modificationAmount": {"currency": "EUR", "value": 3980}}
    assert capture[0]["headers"]["Idempotency-Key"] == payment.transactions.last().idempotency_key
    assert capture[0]["headers"]["Merchant-Serial-Number"] == "123456"
    assert vipps.sandbox.payments["shop-order-10001"]["captured"] == 3980


def test_capture_on_shipment_channels_only_authorize_at_placement(stocked, vipps, hooks):
    shop = ChannelFactory(code="shop", capture_payment_on="shipment")
    with hooks():
        order = vipps_order(shop, stocked, vipps)
    assert fresh(order).payment_status == PaymentStatus.AUTHORIZED


def test_a_payment_the_customer_has_not_approved_waits(channel, stocked, vipps, hooks):
    vipps.sandbox.create_payment("shop-order-10002", 3980, "EUR", approved=False)
    with hooks():
        order = new_order(
            channel,
            stocked,
            payment={"gateway": "vipps", "method": "wallet", "reference": "shop-order-10002"},
        )
    authorize = Transaction.objects.get(payment__order=order)
    assert authorize.status == TransactionStatus.PENDING
    assert authorize.error_code == "not_yet_approved"
    assert fresh(order).payment_status == PaymentStatus.UNPAID


def test_a_declined_capture_fails_and_says_why(channel, stocked, vipps, hooks):
    vipps.sandbox.fail_next("capture", "decline", title="Capture declined")
    with hooks():
        order = vipps_order(channel, stocked, vipps)

    capture = Transaction.objects.get(payment__order=order, kind="capture")
    assert capture.status == TransactionStatus.FAILED
    assert capture.error_code == "vipps_6080"
    assert capture.raw_response["title"] == "Capture declined"
    assert fresh(order).payment_status == PaymentStatus.AUTHORIZED
    assert OutboxEvent.objects.filter(event_type="payment.failed").count() == 1
    assert order.events.filter(message__contains="refused by Vipps MobilePay").exists()


@pytest.mark.parametrize("fault", ["server_error", "throttle"])
def test_a_5xx_or_429_leaves_the_capture_pending_then_the_retry_settles_it(
    channel, stocked, vipps, hooks, fault
):
    vipps.sandbox.fail_next("capture", fault)
    with hooks():
        order = vipps_order(channel, stocked, vipps)
    capture = Transaction.objects.get(payment__order=order, kind="capture")
    assert capture.status == TransactionStatus.PENDING
    assert capture.next_attempt_at is not None
    assert fresh(order).payment_status == PaymentStatus.AUTHORIZED

    Transaction.objects.filter(pk=capture.pk).update(next_attempt_at=timezone.now())
    with hooks():
        assert payments.retry_pending_transactions() == 1

    capture.refresh_from_db()
    assert capture.status == TransactionStatus.SUCCEEDED
    assert capture.attempts == 2
    keys = [
        r["headers"]["Idempotency-Key"]
        for r in vipps.sandbox.requests
        if r["path"].endswith("/capture")
    ]
    assert keys == [capture.idempotency_key, capture.idempotency_key]
    assert fresh(order).payment_status == PaymentStatus.PAID


def test_a_timeout_after_the_money_moved_does_not_capture_twice(channel, stocked, vipps, hooks):
    vipps.sandbox.fail_next("capture", "timeout", seconds=1.5)
    with hooks():
        order = vipps_order(channel, stocked, vipps)
    capture = Transaction.objects.get(payment__order=order, kind="capture")
    assert capture.status == TransactionStatus.PENDING
    assert capture.error_code == "timeout"
    assert vipps.sandbox.payments["shop-order-10001"]["captured"] == 3980  # it did happen

    with hooks():
        payments.execute_transaction(capture.pk)

    capture.refresh_from_db()
    assert capture.status == TransactionStatus.SUCCEEDED
    assert vipps.sandbox.payments["shop-order-10001"]["captured"] == 3980  # once
    assert Payment.objects.get(order=order).captured_amount == D("39.80")


def test_an_expired_token_is_renewed(channel, stocked, vipps, hooks):
    with hooks():
        order = vipps_order(channel, stocked, vipps)
    vipps.sandbox.expire_tokens()
    with hooks():
        refund = _refund(order, "5.00")
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert sum(r["path"] == "/accesstoken/get" for r in vipps.sandbox.requests) == 2


def _refund(order, amount, **kwargs):
    from orders.payments.refunds import create_refund

    return create_refund(order=order, actor=ACTOR, extra_amount=amount, **kwargs)


# --- the signed callback --------------------------------------------------------------------


def signed_post(client, event, *, secret="demo-webhook-secret", tamper=False):
    from email.utils import format_datetime

    from orders.payments.gateways.vipps import content_hash, sign_callback

    body = json.dumps(event).encode()
    date = format_datetime(timezone.now(), usegmt=True)
    path = "/callbacks/payments/vipps/"
    headers = {
        "HTTP_X_MS_DATE": date,
        "HTTP_X_MS_CONTENT_SHA256": content_hash(body),
        "HTTP_AUTHORIZATION": sign_callback(
            secret=secret, path_and_query=path, date=date, host="testserver", body=body
        ),
    }
    if tamper:
        body = body.replace(b"3980", b"9999")
    return client.post(path, data=body, content_type="application/json", **headers)


def callback_event(name, reference, value, key=None):
    return {
        "msn": "123456",
        "reference": reference,
        "pspReference": "7686f7788898767977",
        "name": name,
        "amount": {"currency": "EUR", "value": value},
        "timestamp": timezone.now().isoformat(),
        "idempotencyKey": key,
        "success": True,
    }


def test_a_signed_callback_settles_a_pending_capture_once(client, channel, stocked, vipps, hooks):
    vipps.sandbox.fail_next("capture", "server_error")
    with hooks():
        order = vipps_order(channel, stocked, vipps)
    capture = Transaction.objects.get(payment__order=order, kind="capture")
    event = callback_event("CAPTURED", "shop-order-10001", 3980, capture.idempotency_key)

    first = signed_post(client, event)
    again = signed_post(client, event)

    assert first.status_code == 200, first.content
    assert first.json()["results"] == [f"settled transaction {capture.pk}"]
    assert again.json()["results"] == ["duplicate"]
    capture.refresh_from_db()
    assert capture.status == TransactionStatus.SUCCEEDED
    assert fresh(order).payment_status == PaymentStatus.PAID


def test_a_capture_made_in_the_providers_portal_reaches_the_ledger(client, stocked, vipps, hooks):
    shop = ChannelFactory(code="shop", capture_payment_on="shipment")
    with hooks():
        order = vipps_order(shop, stocked, vipps)
    response = signed_post(client, callback_event("CAPTURED", "shop-order-10001", 3980))
    assert response.status_code == 200
    assert fresh(order).payment_status == PaymentStatus.PAID


@pytest.mark.parametrize("problem", ["wrong_secret", "tampered"])
def test_an_unsigned_or_tampered_callback_is_refused(
    client, channel, stocked, vipps, hooks, problem
):
    vipps.sandbox.fail_next("capture", "server_error")
    with hooks():
        order = vipps_order(channel, stocked, vipps)
    capture = Transaction.objects.get(payment__order=order, kind="capture")
    event = callback_event("CAPTURED", "shop-order-10001", 3980, capture.idempotency_key)
    response = signed_post(
        client,
        event,
        secret="guess" if problem == "wrong_secret" else "demo-webhook-secret",
        tamper=problem == "tampered",
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_signature"
    capture.refresh_from_db()
    assert capture.status == TransactionStatus.PENDING


# --- the ledger's rules ---------------------------------------------------------------------


def test_capture_beyond_what_is_due_is_refused(channel, stocked, vipps, hooks):
    shop = ChannelFactory(code="shop", capture_payment_on="shipment")
    with hooks():
        order = vipps_order(shop, stocked, vipps)
    with pytest.raises(Conflict) as refused:
        payments.capture_payment(order=order, amount="50.00", actor=ACTOR)
    assert refused.value.code == "capture_exceeds_due"
    assert not Transaction.objects.filter(payment__order=order, kind="capture").exists()


def test_cancelling_voids_the_authorization_and_says_so(stocked, vipps, hooks):
    shop = ChannelFactory(code="shop", capture_payment_on="shipment")
    with hooks():
        order = vipps_order(shop, stocked, vipps)
    with hooks():
        cancel_order(order, actor=ACTOR, reason="Customer changed their mind")

    order = fresh(order)
    assert order.payment_status == PaymentStatus.VOIDED
    assert vipps.sandbox.payments["shop-order-10001"]["cancelled"] == 3980
    messages = list(order.events.values_list("message", flat=True))
    assert "Cancellation: voiding the authorization of 39.800 EUR" in messages
    assert "Voided 39.800 EUR (Vipps MobilePay)" in messages


def test_cancelling_a_captured_order_refunds_it(channel, stocked, vipps, hooks):
    with hooks():
        order = vipps_order(channel, stocked, vipps)
    with hooks():
        cancel_order(order, actor=ACTOR)

    order = fresh(order)
    refund = order.refunds.get()
    assert (refund.status, refund.amount, refund.source) == (
        "succeeded",
        D("39.80"),
        "cancellation",
    )
    assert refund.lines.get().quantity == 2
    assert order.payment_status == PaymentStatus.REFUNDED
    assert vipps.sandbox.payments["shop-order-10001"]["refunded"] == 3980


def test_payment_status_follows_the_ledger_only(channel, stocked):
    order = new_order(channel, stocked)
    assert payments.status_from_ledger(order, []) == PaymentStatus.UNPAID
    payment = Payment(
        order=order, currency="EUR", amount=order.grand_total, authorized_amount=D("39.80")
    )
    assert payments.status_from_ledger(order, [payment]) == PaymentStatus.AUTHORIZED
    payment.captured_amount = D("20")
    assert payments.status_from_ledger(order, [payment]) == PaymentStatus.PARTIALLY_PAID
    payment.captured_amount = D("39.80")
    assert payments.status_from_ledger(order, [payment]) == PaymentStatus.PAID
    payment.refunded_amount = D("5")
    assert payments.status_from_ledger(order, [payment]) == PaymentStatus.PARTIALLY_REFUNDED
    payment.refunded_amount = D("39.80")
    assert payments.status_from_ledger(order, [payment]) == PaymentStatus.REFUNDED
    payment.captured_amount = payment.refunded_amount = D(0)
    payment.voided_amount = D("39.80")
    assert payments.status_from_ledger(order, [payment]) == PaymentStatus.VOIDED


def test_a_held_order_is_captured_when_released(stocked, vipps, hooks):
    from orders.models import HoldRule
    from orders.services import release_order

    HoldRule.objects.create(kind="address_mismatch", enabled=True)
    shop = ChannelFactory(code="shop")
    with hooks():
        order = vipps_order(shop, stocked, vipps, billing_address={**ADDRESS, "country": "SE"})
    assert fresh(order).status == "on_hold"
    assert fresh(order).payment_status == PaymentStatus.AUTHORIZED
    with hooks():
        release_order(order, actor=ACTOR)
    assert fresh(order).payment_status == PaymentStatus.PAID


def test_api_order_with_a_payment(api, channel, stocked, vipps, django_capture_on_commit_callbacks):
    vipps.sandbox.create_payment("shop-order-20001", 3980, "EUR")
    body = order_payload(
        payment={"gateway": "vipps", "method": "wallet", "reference": "shop-order-20001"}
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/orders/", data=json.dumps(body), content_type="application/json"
        )
    assert response.status_code == 201, response.content
    order = Order.objects.get(number=response.json()["number"])
    assert order.payment_status == PaymentStatus.PAID
    assert OrderEvent.objects.filter(order=order, kind="payment").count() >= 3


def test_pending_transactions_past_the_last_attempt_wait_for_a_person(
    channel, stocked, vipps, hooks, settings
):
    settings.OMS_PAYMENT_MAX_ATTEMPTS = 1
    vipps.sandbox.fail_next("capture", "server_error")
    with hooks():
        vipps_order(channel, stocked, vipps)
    Transaction.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert payments.retry_pending_transactions() == 0


# --- money follows the goods ----------------------------------------------------------------


@pytest.fixture
def shop_capturing_on_shipment(warehouse):
    """A channel that captures on shipment, and SKUs A (10.00) and B (30.00) in stock."""
    for code, price in (("A", "10.00"), ("B", "30.00")):
        stock(SKUFactory(code=code, price=price), warehouse, 5)
    return ChannelFactory(code="shop", capture_payment_on="shipment")


def test_capture_on_shipment_captures_what_shipped_then_the_rest(
    shop_capturing_on_shipment, warehouse, vipps, hooks
):
    from orders.services import ship_units

    shop = shop_capturing_on_shipment
    vipps.sandbox.create_payment("ship-order-0001", 4490, "EUR")
    with hooks():
        order = new_order_lines(
            shop, [("A", 1), ("B", 1)], shipping_total="4.90", reference="ship-order-0001"
        )
    assert fresh(order).payment_status == PaymentStatus.AUTHORIZED
    line_a = order.lines.get(sku_code="A")
    with hooks():
        ship_units(order, actor=ACTOR, units=[(line_a.pk, warehouse.pk, 1)])
    payment = Payment.objects.get(order=order)
    assert payment.captured_amount == D("14.90")  # A and the shipping
    assert fresh(order).payment_status == PaymentStatus.PARTIALLY_PAID
    with hooks():
        ship_units(order, actor=ACTOR)
    payment.refresh_from_db()
    assert payment.captured_amount == D("44.90")
    assert fresh(order).payment_status == PaymentStatus.PAID
    assert vipps.sandbox.payments["ship-order-0001"]["captured"] == 4490
    assert fresh(order).invoices.get().total == D("44.90")  # this channel invoices on shipment


def test_the_rest_of_an_authorization_is_released_once_the_order_shipped(
    shop_capturing_on_shipment, vipps, hooks
):
    """An edit lowered the total before shipping: the last capture takes the new total,
    and the rest of the authorization is voided then rather than left to lapse."""
    from orders.services import edit_order, ship_units

    shop = shop_capturing_on_shipment
    vipps.sandbox.create_payment("ship-order-0002", 4490, "EUR")
    with hooks():
        order = new_order_lines(
            shop, [("A", 1), ("B", 1)], shipping_total="4.90", reference="ship-order-0002"
        )
    line_b = order.lines.get(sku_code="B")
    with hooks():
        edit_order(
            fresh(order), lines=[{"line": line_b.pk, "quantity": 0}], reason="B", actor=ACTOR
        )
    payment = Payment.objects.get(order=order)
    assert fresh(order).grand_total == D("14.90")
    assert payment.capturable_amount == D("44.90")  # authorized for the first total

    with hooks():
        ship_units(fresh(order), actor=ACTOR)

    payment.refresh_from_db()
    assert (payment.captured_amount, payment.voided_amount) == (D("14.90"), D("30.00"))
    assert payment.capturable_amount == 0
    assert fresh(order).payment_status == PaymentStatus.PAID
    at_vipps = vipps.sandbox.payments["ship-order-0002"]
    assert (at_vipps["captured"], at_vipps["cancelled"]) == (1490, 3000)
    assert kinds_and_statuses(payment)[-2:] == [("capture", "succeeded"), ("void", "succeeded")]
    released = OrderEvent.objects.filter(order=order, message__startswith="Releasing the rest")
    assert released.count() == 1
    assert OutboxEvent.objects.filter(event_type="payment.voided").count() == 1


def new_order_lines(channel, lines, *, reference, **kwargs):
    return place_order(
        channel=channel,
        lines=[{"sku": code, "quantity": qty} for code, qty in lines],
        shipping_address=ADDRESS,
        payment={"gateway": "vipps", "method": "wallet", "reference": reference},
        actor=ACTOR,
        **kwargs,
    )


def test_cash_on_delivery_is_recorded_when_delivered(channel, stocked, hooks):
    from orders.services import deliver_order, ship_order

    with hooks():
        order = new_order(
            channel, stocked, payment={"gateway": "manual", "method": "cash_on_delivery"}
        )
        ship_order(order, actor=ACTOR)
    assert fresh(order).payment_status == PaymentStatus.UNPAID
    with hooks():
        deliver_order(order, actor=ACTOR)
    assert fresh(order).payment_status == PaymentStatus.PAID
