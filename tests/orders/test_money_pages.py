"""The money pages: payments on the order page, the refund form, invoices with their
PDFs, the payments overview, invoicing settings — and who may use each."""

from decimal import Decimal

import pytest
from django.urls import reverse

from oms_site.actors import Actor
from orders.invoicing.services import issue_invoice
from orders.models import Invoice, InvoiceSettings, Order, Payment, Refund
from orders.payments import services as payments
from orders.services import place_order
from tests.conftest import ROLES

from ..factories import SKUFactory, stock

pytestmark = pytest.mark.django_db

D = Decimal
ACTOR = Actor.system("test")
ADDRESS = {"name": "Erika", "line1": "Heidestrasse 17", "city": "Berlin", "country": "DE"}
MONEY = {"owner", "manager"}
REFUNDERS = {"owner", "manager", "support"}
EVERYONE = set(ROLES)


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


@pytest.fixture
def invoiced(paid, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        issue_invoice(paid, actor=ACTOR)
    return Invoice.objects.get()


def test_the_order_page_shows_the_payment_and_its_ledger(client_for, paid):
    html = client_for("manager").get(reverse("orders:detail", args=[paid.number])).content.decode()
    assert 'id="payment-status">Paid' in html
    assert "Cash or card at the till" in html
    assert "€35.00" in html  # captured
    assert f'href="/orders/{paid.number}/refund/"' in html


def test_the_refund_form_shows_what_can_still_be_refunded(client_for, paid):
    html = client_for("support").get(reverse("orders:refund", args=[paid.number])).content.decode()
    assert "€35.00" in html  # money left
    assert "€5.00" in html  # shipping left
    assert "€10.00" in html  # per unit


def test_a_refund_from_the_page(client_for, paid, django_capture_on_commit_callbacks):
    line = paid.lines.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for("support").post(
            reverse("orders:refund", args=[paid.number]),
            {f"line-{line.pk}": "2", "shipping_amount": "5.00", "reason": "Damaged"},
        )
    assert response.status_code == 302
    refund = Refund.objects.get()
    assert (refund.amount, refund.status, refund.reason) == (D("25.00"), "succeeded", "Damaged")


def test_a_refund_of_more_than_is_left_is_refused_on_the_page(client_for, paid):
    line = paid.lines.get()
    response = client_for("manager").post(
        reverse("orders:refund", args=[paid.number]), {f"line-{line.pk}": "9"}
    )
    assert response.status_code == 200
    assert f"line-{line.pk}" in response.context["form"].errors
    assert not Refund.objects.exists()


def test_the_invoice_pdf_downloads(client_for, invoiced):
    response = client_for("readonly").get(reverse("money:invoice_pdf", args=[invoiced.number]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_the_invoice_list_filters(client_for, invoiced):
    client = client_for("readonly")
    assert invoiced.number in client.get(reverse("money:invoices")).content.decode()
    page = client.get(reverse("money:invoices") + "?kind=credit_note").content.decode()
    assert invoiced.number not in page


def test_the_payments_overview_reports_in_the_base_currency(client_for, paid):
    html = client_for("readonly").get(reverse("money:payments")).content.decode()
    assert "€35.00" in html


def test_invoicing_settings_are_saved(client_for):
    response = client_for("manager").post(
        reverse("order_settings:invoicing"),
        {
            "seller_name": "Fjellgarn AS",
            "organisation_number": "912 345 678 MVA",
            "payment_terms_days": "10",
            "invoice_prefix": "F",
            "credit_note_prefix": "K",
        },
    )
    assert response.status_code == 302
    row = InvoiceSettings.current()
    assert (row.seller_name, row.invoice_prefix, row.payment_terms_days) == (
        "Fjellgarn AS",
        "F",
        10,
    )


# --- who may do what ------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_who_may_record_a_payment(client_for, order, role):
    response = client_for(role).post(
        reverse("orders:record_payment", args=[order.number]),
        {"method": "bank_transfer", "received": "on"},
    )
    allowed = role in MONEY
    assert response.status_code == (302 if allowed else 403)
    assert Payment.objects.exists() == allowed


@pytest.mark.parametrize("role", ROLES)
def test_who_may_capture(client_for, order, role):
    payments.add_payment(order=order, gateway="manual", method="bank_transfer", actor=ACTOR)
    response = client_for(role).post(reverse("orders:capture", args=[order.number]))
    allowed = role in MONEY
    assert response.status_code == (302 if allowed else 403)
    assert (Payment.objects.get().captured_amount > 0) == allowed


@pytest.mark.parametrize("role", ROLES)
def test_who_may_void(client_for, order, role):
    payments.add_payment(order=order, gateway="manual", method="bank_transfer", actor=ACTOR)
    payments.capture_payment(order=order, amount="1.00", actor=ACTOR)  # authorizes 1.00
    response = client_for(role).post(reverse("orders:void", args=[order.number]))
    assert response.status_code == (302 if role in MONEY else 403)


@pytest.mark.parametrize("role", ROLES)
def test_who_may_refund(client_for, paid, role, django_capture_on_commit_callbacks):
    client = client_for(role)
    url = reverse("orders:refund", args=[paid.number])
    allowed = role in REFUNDERS
    assert client.get(url).status_code == (200 if allowed else 403)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"extra_amount": "1.00"})
    assert response.status_code == (302 if allowed else 403)
    assert Refund.objects.exists() == allowed


@pytest.mark.parametrize("role", ROLES)
def test_who_may_retry_a_refund(client_for, paid, role):
    from orders.payments.refunds import create_refund

    refund = create_refund(order=paid, actor=ACTOR, extra_amount="1.00")
    response = client_for(role).post(reverse("orders:refund_retry", args=[paid.number, refund.pk]))
    assert response.status_code == (302 if role in REFUNDERS else 403)


@pytest.mark.parametrize("role", ROLES)
def test_who_may_issue_an_invoice(client_for, paid, role):
    response = client_for(role).post(reverse("orders:issue_invoice", args=[paid.number]))
    allowed = role in MONEY
    assert response.status_code == (302 if allowed else 403)
    assert Invoice.objects.exists() == allowed


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", ["invoices", "payments", "pdf", "order"])
def test_who_may_see_the_money_pages(client_for, invoiced, role, page):
    url = {
        "invoices": reverse("money:invoices"),
        "payments": reverse("money:payments"),
        "pdf": reverse("money:invoice_pdf", args=[invoiced.number]),
        "order": reverse("orders:detail", args=[invoiced.order.number]),
    }[page]
    assert client_for(role).get(url).status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_who_may_change_invoicing_settings(client_for, role):
    response = client_for(role).get(reverse("order_settings:invoicing"))
    assert response.status_code == (200 if role in MONEY else 403)


@pytest.mark.parametrize("role", ROLES)
def test_who_may_ask_about_a_pending_transaction(client_for, order, role, settings):
    from demo.sandboxes.vipps import VippsServer

    with VippsServer() as server:
        settings.OMS_VIPPS = server.settings()
        server.sandbox.create_payment("page-order-0001", 3500, "EUR")
        payments.add_payment(
            order=order,
            gateway="vipps",
            method="wallet",
            provider_reference="page-order-0001",
            actor=ACTOR,
        )
        txn = Payment.objects.get().transactions.get()
        response = client_for(role).post(reverse("money:transaction_retry", args=[txn.pk]))
        assert response.status_code == (302 if role in MONEY else 403)


def test_buttons_follow_the_role(client_for, paid):
    support = client_for("support").get(reverse("orders:detail", args=[paid.number]))
    assert support.context["money_actions"]["refund"] is True
    assert support.context["money_actions"]["capture"] is False
    viewer = client_for("readonly").get(reverse("orders:detail", args=[paid.number]))
    assert not any(viewer.context["money_actions"].values())


def test_anonymous_visitors_are_sent_to_log_in(client, invoiced):
    for url in (
        reverse("money:invoices"),
        reverse("money:payments"),
        reverse("money:invoice_pdf", args=[invoiced.number]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
