"""An exchange for dearer goods: the customer is e-mailed a link to the replacement's
payment page and pays the rest there through Vipps MobilePay (a local sandbox speaking its
ePayment API), once, with nothing recorded when the provider fails to start it."""

from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from oms_site.actors import Actor
from oms_site.errors import Conflict
from orders.models import Payment, TransactionStatus
from orders.payments import customer_payments
from orders.payments import services as payments
from orders.payments.gateways import get_gateway
from returns import services
from returns.notifications import PAYMENT_DUE
from returns.tasks import send_return_email

from ..helpers import run_at_once
from .conftest import SYSTEM, lines_of

pytestmark = pytest.mark.django_db


def exchange(order, hooks, *, back, replacement):
    """Return ``back`` (sku code -> units) of ``order`` for ``replacement`` (code, units),
    with what waits for commit (the e-mail) run; the outbox holds only what it sent."""
    rr = services.create_return(order=order, lines=lines_of(order, **back), actor=SYSTEM)
    services.approve_return(rr, actor=SYSTEM)
    mail.outbox.clear()
    code, units = replacement
    with hooks(execute=True):
        return services.create_exchange(rr, actor=SYSTEM, lines=[{"sku": code, "quantity": units}])


@pytest.fixture
def dearer_exchange(delivered, django_capture_on_commit_callbacks):
    """A cap (10.00) sent back for three mugs (30.00): the replacement has 20.00 and its
    tax left to pay."""
    rr = exchange(
        delivered(),
        django_capture_on_commit_callbacks,
        back={"CAP_RED": 1},
        replacement=("MUG-WHT", 3),
    )
    assert rr.exchange_difference > 0
    return rr


def pay_url(order):
    return reverse("customer_returns:pay", args=[order.tracking_token])


def test_the_customer_is_emailed_the_link_to_pay_the_rest(dearer_exchange):
    replacement = dearer_exchange.exchange_order
    due = customer_payments.amount_due(replacement)
    assert due == dearer_exchange.exchange_difference
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["erika@example.com"]
    assert replacement.number in email.subject
    assert f"/track/{replacement.tracking_token}/pay/" in email.body
    assert f"{due:.2f}" in email.body.replace(",", "")
    assert send_return_email(dearer_exchange.pk, PAYMENT_DUE) is False  # once
    messages = list(dearer_exchange.events.order_by("pk").values_list("message", flat=True))
    assert any("asked of the customer" in message for message in messages)


def test_a_cheaper_exchange_asks_for_nothing(delivered, django_capture_on_commit_callbacks):
    rr = exchange(
        delivered(),
        django_capture_on_commit_callbacks,
        back={"MUG_WHT": 2},
        replacement=("CAP-RED", 1),
    )
    assert rr.exchange_difference < 0
    assert customer_payments.amount_due(rr.exchange_order) == 0
    assert not [m for m in mail.outbox if "left to pay" in m.subject]


def test_the_customer_pays_the_rest_through_vipps(
    dearer_exchange, vipps, client, django_capture_on_commit_callbacks
):
    replacement = dearer_exchange.exchange_order
    due = customer_payments.amount_due(replacement)
    tracking = client.get(reverse("tracking:page", args=[replacement.tracking_token]))
    assert b'id="pay-due"' in tracking.content  # the tracking page offers it too

    page = client.get(pay_url(replacement))
    assert page.status_code == 200 and b"Pay with Vipps MobilePay" in page.content

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(pay_url(replacement))
    assert response.status_code == 302
    assert response["Location"].startswith(f"{vipps.url}/landing/{replacement.number}-")
    payment = Payment.objects.get(order=replacement, gateway="vipps")
    assert payment.amount == due and payment.method == "wallet"
    remote = vipps.sandbox.payments[payment.provider_reference]
    assert remote["amount"] == {"currency": "EUR", "value": int(due * 100)}
    assert remote["returnUrl"].endswith(f"{pay_url(replacement)}?returned=1")
    # The customer has not approved yet: the check after commit left it pending.
    authorize = payment.transactions.get(kind="authorize")
    assert authorize.status == TransactionStatus.PENDING

    # A second click while the first waits starts nothing new.
    again = client.post(pay_url(replacement))
    assert again.status_code == 200 and b"already waiting" in again.content
    assert Payment.objects.filter(order=replacement, gateway="vipps").count() == 1

    # The customer approves on the provider's page and comes back.
    vipps.sandbox.approve(payment.provider_reference)
    with django_capture_on_commit_callbacks(execute=True):
        back = client.get(pay_url(replacement) + "?returned=1")
    assert back.status_code == 200
    authorize.refresh_from_db()
    assert authorize.status == TransactionStatus.SUCCEEDED
    assert customer_payments.amount_due(replacement) == 0
    assert b'id="payment-done"' in client.get(pay_url(replacement) + "?returned=1").content
    tracking = client.get(reverse("tracking:page", args=[replacement.tracking_token]))
    assert b'id="pay-due"' not in tracking.content
    # The e-mail, had it not gone yet, is not sent once nothing is due.
    assert send_return_email(dearer_exchange.pk, PAYMENT_DUE) is False


def test_the_sandbox_landing_page_approves_and_sends_the_customer_back(dearer_exchange, vipps):
    import requests

    replacement = dearer_exchange.exchange_order
    result = get_gateway("vipps").request_payment(
        reference=f"{replacement.number}-landing",
        amount=Decimal("12.50"),
        currency="EUR",
        description="Order",
        return_url="http://shop.example/back",
        idempotency_key=f"{replacement.number}-landing",
    )
    page = requests.get(result.redirect_url, timeout=5)
    assert page.status_code == 200 and "12.50 EUR" in page.text
    back = requests.post(f"{result.redirect_url}/approve", allow_redirects=False, timeout=5)
    assert back.status_code == 303 and back.headers["Location"] == "http://shop.example/back"
    assert vipps.sandbox.payments[f"{replacement.number}-landing"]["state"] == "AUTHORIZED"


def test_a_provider_that_fails_to_start_the_payment_changes_nothing(dearer_exchange, vipps, client):
    replacement = dearer_exchange.exchange_order
    vipps.sandbox.fail_next("create", "server_error")
    response = client.post(pay_url(replacement))
    assert response.status_code == 200
    assert b"could not start the payment" in response.content
    assert not Payment.objects.filter(order=replacement, gateway="vipps").exists()
    vipps.sandbox.fail_next("create", "throttle")
    assert client.post(pay_url(replacement)).status_code == 200
    assert not Payment.objects.filter(order=replacement, gateway="vipps").exists()
    assert client.post(pay_url(replacement)).status_code == 302  # the next try works


def test_a_repeated_request_is_answered_once_by_the_provider(vipps):
    engine = get_gateway("vipps")
    ask = dict(
        reference="SO-0000001-abcdef",
        amount=Decimal("20.00"),
        currency="NOK",
        description="Order SO-0000001",
        return_url="http://shop.example/back",
        idempotency_key="SO-0000001-abcdef",
    )
    first, second = engine.request_payment(**ask), engine.request_payment(**ask)
    assert first.outcome == second.outcome == "succeeded"
    assert first.redirect_url == second.redirect_url
    assert list(vipps.sandbox.payments) == ["SO-0000001-abcdef"]
    refused = engine.request_payment(**{**ask, "currency": "GBP", "idempotency_key": "other-key"})
    assert refused.outcome == "failed" and refused.error_code == "currency_not_supported"


def test_without_an_online_provider_the_customer_is_told_to_contact_the_shop(
    dearer_exchange, settings, client
):
    settings.OMS_VIPPS = {**settings.OMS_VIPPS, "base_url": ""}
    replacement = dearer_exchange.exchange_order
    page = client.get(pay_url(replacement))
    assert page.status_code == 200 and b'id="pay-offline"' in page.content
    refused = client.post(pay_url(replacement))
    assert refused.status_code == 200 and b"can&#x27;t be paid online" in refused.content
    assert not replacement.payments.filter(gateway="vipps").exists()
    tracking = client.get(reverse("tracking:page", args=[replacement.tracking_token]))
    assert b'id="pay-due"' not in tracking.content


def test_a_wrong_link_shows_nothing(client):
    assert client.get("/track/not-a-token/pay/").status_code == 404
    assert client.post("/track/not-a-token/pay/").status_code == 404


def test_a_payment_the_customer_rejects_leaves_the_rest_due_to_try_again(
    dearer_exchange, vipps, client, django_capture_on_commit_callbacks
):
    replacement = dearer_exchange.exchange_order
    with django_capture_on_commit_callbacks(execute=True):
        client.post(pay_url(replacement))
    payment = Payment.objects.get(order=replacement, gateway="vipps")
    vipps.sandbox.reject(payment.provider_reference)
    remote = vipps.sandbox.payments[payment.provider_reference]
    assert remote["state"] == "ABORTED"
    with django_capture_on_commit_callbacks(execute=True):
        payments.execute_transaction(payment.transactions.get(kind="authorize").pk)
    assert payment.transactions.get(kind="authorize").status == TransactionStatus.FAILED
    assert customer_payments.amount_due(replacement) > 0  # still due: may try again
    assert customer_payments.waiting_payment(replacement) is None
    assert client.post(pay_url(replacement)).status_code == 302


def test_the_payment_page_and_email_speak_norwegian():
    from django.utils import translation
    from django.utils.translation import gettext as _

    with translation.override("nb"):
        assert _("Left to pay") == "Igjen å betale"
        assert _("Pay with %(provider)s") % {"provider": "Vipps MobilePay"} == (
            "Betal med Vipps MobilePay"
        )
        assert _("Pay it here:") == "Betal her:"


def test_an_order_whose_money_is_kept_elsewhere_is_not_asked_for_it(place, skus, vipps):
    order = place(("MUG-WHT", 1))  # no payment recorded: taken outside the OMS
    assert customer_payments.amount_due(order) > 0
    assert customer_payments.customer_gateway(order) is None
    cash_on_delivery = place(
        ("MUG-WHT", 1), payment={"gateway": "manual", "method": "cash_on_delivery"}
    )
    assert customer_payments.customer_gateway(cash_on_delivery) is None
    transfer = place(("MUG-WHT", 1), payment={"gateway": "manual", "method": "bank_transfer"})
    assert customer_payments.customer_gateway(transfer) is not None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_clicks_at_the_same_moment_start_one_payment(dearer_exchange, vipps):
    """A double click, or the page open in two tabs: four starts at once against a provider
    that takes a moment to answer create one payment there and record one here; the
    others are told it waits for approval."""
    replacement = dearer_exchange.exchange_order
    vipps.sandbox.create_latency = 0.3
    started, refused = [], []

    def click():
        try:
            started.append(
                customer_payments.start_customer_payment(
                    replacement, return_url="http://shop.example/back", actor=Actor.system("t")
                )
            )
        except Conflict as exc:
            refused.append(exc.code)

    assert run_at_once(click, [()] * 4) == []
    assert len(started) == 1 and refused == ["payment_waiting"] * 3
    assert Payment.objects.filter(order=replacement, gateway="vipps").count() == 1
    assert [ref for ref in vipps.sandbox.payments if ref.startswith(replacement.number)] == [
        Payment.objects.get(order=replacement, gateway="vipps").provider_reference
    ]
