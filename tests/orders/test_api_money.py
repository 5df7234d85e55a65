"""The money API: payments, refunds and invoices as an integrator uses them, and who may."""

import json
from decimal import Decimal

import pytest

from oms_site.actors import Actor
from orders.invoicing.services import issue_invoice
from orders.models import Invoice, Order, Payment, Refund
from orders.payments import services as payments
from orders.services import place_order
from tests.conftest import ROLES

from ..factories import ChannelFactory, SKUFactory, stock

pytestmark = pytest.mark.django_db

D = Decimal
ACTOR = Actor.system("test")
ADDRESS = {"name": "Erika", "line1": "Heidestrasse 17", "city": "Berlin", "country": "DE"}
MONEY = {"owner", "manager"}
REFUNDERS = {"owner", "manager", "support"}


@pytest.fixture
def order(channel, warehouse):
    stock(SKUFactory(code="A", price="10.00"), warehouse, 20)
    return place_order(
        channel=channel,
        lines=[{"sku": "A", "quantity": 3}],
        shipping_address=ADDRESS,
        shipping_total="5.00",
        actor=ACTOR,
    )


@pytest.fixture
def paid(order, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        payments.add_payment(order=order, gateway="manual", method="cash", actor=ACTOR)
    return Order.objects.get(pk=order.pk)


def post(client, url, body=None, **headers):
    return client.post(url, data=json.dumps(body or {}), content_type="application/json", **headers)


def test_record_a_bank_transfer_then_the_money(api, order):
    url = f"/api/v1/orders/{order.number}/payments/"
    created = post(api, url, {"gateway": "manual", "method": "bank_transfer"})
    assert created.status_code == 201, created.content
    assert created.json()["captured_amount"] == "0.000"

    captured = post(api, url + "capture/")
    assert captured.status_code == 200
    assert captured.json()[0]["captured_amount"] == "35.000"
    assert [t["kind"] for t in captured.json()[0]["transactions"]] == ["authorize", "capture"]
    assert Order.objects.get(pk=order.pk).payment_status == "paid"
    assert api.get(url).json()[0]["refundable_amount"] == "35.000"


def test_an_unknown_gateway_reference_is_refused(api, order):
    response = post(
        api, f"/api/v1/orders/{order.number}/payments/", {"gateway": "vipps", "method": "wallet"}
    )
    assert response.status_code == 422
    assert "reference" in response.json()["error"]["fields"]


def test_refund_through_the_api_is_idempotent(api, paid, django_capture_on_commit_callbacks):
    line = paid.lines.get()
    url = f"/api/v1/orders/{paid.number}/refunds/"
    body = {"lines": [{"line": line.pk, "quantity": 1}], "reason": "Too small"}
    with django_capture_on_commit_callbacks(execute=True):
        first = post(api, url, body, HTTP_IDEMPOTENCY_KEY="refund-1")
        again = post(api, url, body, HTTP_IDEMPOTENCY_KEY="refund-1")
    assert first.status_code == again.status_code == 201, first.content
    assert first.json()["id"] == again.json()["id"]
    assert Refund.objects.count() == 1
    assert first.json()["amount"] == "10.000"
    listed = api.get(url).json()
    assert [(r["number"], r["status"]) for r in listed] == [(first.json()["number"], "succeeded")]
    detail = api.get(f"/api/v1/refunds/{first.json()['id']}/").json()
    assert detail["lines"] == [{"line": line.pk, "sku": "A", "quantity": 1, "amount": "10.000"}]


def test_refunding_more_than_was_captured_is_a_409(api, paid):
    response = post(api, f"/api/v1/orders/{paid.number}/refunds/", {"extra_amount": "100.00"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "refund_exceeds_captured"
    assert not Refund.objects.exists()


def test_retry_of_a_refund_that_did_not_fail_is_a_409(
    api, paid, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        refund = post(api, f"/api/v1/orders/{paid.number}/refunds/", {"extra_amount": "1"}).json()
    response = post(api, f"/api/v1/refunds/{refund['id']}/retry/")
    assert response.status_code == 409


def test_invoices_list_detail_and_pdf(api, paid, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        issued = post(api, f"/api/v1/orders/{paid.number}/invoices/", {"note": "Thanks"})
    assert issued.status_code == 201, issued.content
    number = issued.json()["number"]
    assert issued.json()["total"] == "35.000"
    assert post(api, f"/api/v1/orders/{paid.number}/invoices/").status_code == 409

    listed = api.get(f"/api/v1/invoices/?order={paid.number}&kind=invoice").json()
    assert [doc["number"] for doc in listed["results"]] == [number]
    assert api.get("/api/v1/invoices/?kind=credit_note").json()["results"] == []
    detail = api.get(f"/api/v1/invoices/{number}/").json()
    assert detail["lines"][0]["description"]
    pdf = api.get(f"/api/v1/invoices/{number}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_a_key_scoped_to_another_channel_sees_nothing(make_api_key, paid):
    ChannelFactory(code="amazon", kind="amazon")
    client, _, _ = make_api_key(
        scopes=["orders:read", "payments:write", "invoices:write"], channel_codes=["amazon"]
    )
    issue_invoice(paid, actor=ACTOR)
    assert client.get(f"/api/v1/orders/{paid.number}/payments/").status_code == 404
    assert (
        post(client, f"/api/v1/orders/{paid.number}/refunds/", {"extra_amount": "1"}).status_code
        == 404
    )
    assert client.get("/api/v1/invoices/").json()["results"] == []


@pytest.mark.parametrize(
    "scopes, expected",
    [(["orders:read"], 403), (["orders:read", "payments:write"], 201)],
)
def test_writing_money_needs_the_payments_scope(make_api_key, paid, scopes, expected):
    client, _, _ = make_api_key(scopes=scopes)
    response = post(client, f"/api/v1/orders/{paid.number}/refunds/", {"extra_amount": "1"})
    assert response.status_code == expected


@pytest.mark.parametrize("role", ROLES)
def test_who_may_use_the_money_api(api_for, paid, role):
    client = api_for(role)
    assert client.get(f"/api/v1/orders/{paid.number}/payments/").status_code == 200
    capture = post(client, f"/api/v1/orders/{paid.number}/payments/capture/")
    # Everything is captured: allowed roles get 409, the others 403 before that.
    assert capture.status_code == (409 if role in MONEY else 403)
    refund = post(client, f"/api/v1/orders/{paid.number}/refunds/", {"extra_amount": "1"})
    assert refund.status_code == (201 if role in REFUNDERS else 403)
    invoice = post(client, f"/api/v1/orders/{paid.number}/invoices/")
    assert invoice.status_code == (201 if role in MONEY else 403)
    assert Invoice.objects.exists() == (role in MONEY)
    assert Payment.objects.count() == 1
