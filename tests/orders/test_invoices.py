"""Invoices and credit notes: issued when the channel says, tax per rate, immutable,
gapless numbers, PDFs with the seller's organisation number and the buyer's address."""

from decimal import Decimal
from io import BytesIO

import pytest
from pypdf import PdfReader

from oms_site.actors import Actor
from oms_site.errors import Conflict
from oms_site.models import OutboxEvent
from orders.invoicing import services as invoicing
from orders.invoicing.pdf import pdf_of
from orders.models import DocumentSequence, Invoice, InvoiceSettings, Order
from orders.payments import services as payments
from orders.payments.refunds import create_refund
from orders.services import place_order

from ..factories import ChannelFactory, ProductFactory, SKUFactory, stock, tax_rules

pytestmark = pytest.mark.django_db

D = Decimal
ACTOR = Actor.system("test")
OSLO = {
    "name": "Kari Nordmann",
    "line1": "Karl Johans gate 1",
    "postal_code": "0154",
    "city": "Oslo",
    "country": "NO",
}


@pytest.fixture
def hooks(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def seller(db):
    row = InvoiceSettings.current()
    row.seller_name = "Fjellgarn AS"
    row.organisation_number = "912 345 678 MVA"
    row.address = "Storgata 1\n0155 Oslo\nNorway"
    row.bank_account = "1503.12.34567"
    row.save()
    return row


@pytest.fixture
def nok_shop(db):
    rules = tax_rules()
    shop = ChannelFactory(
        code="nettbutikk",
        currency="NOK",
        prices_include_tax=True,
        issue_invoice_on="payment",
    )
    return shop, rules


def paid_nok_order(shop, rules, warehouse, hooks):
    coffee = SKUFactory(
        code="KAFFE",
        price="115.00",
        currency="NOK",
        product=ProductFactory(name="Kaffe 500 g", tax_class=rules["food"]),
    )
    mug = SKUFactory(
        code="KOPP", price="125.00", currency="NOK", product=ProductFactory(name="Kopp")
    )
    stock(coffee, warehouse, 5)
    stock(mug, warehouse, 5)
    with hooks():
        order = place_order(
            channel=shop,
            lines=[{"sku": "KAFFE", "quantity": 2}, {"sku": "KOPP", "quantity": 1}],
            shipping_address=OSLO,
            shipping_total="75.00",
            payment={"gateway": "manual", "method": "cash"},
            actor=ACTOR,
        )
    return Order.objects.get(pk=order.pk)


def test_paid_orders_of_an_invoice_on_payment_channel_are_invoiced(
    nok_shop, warehouse, seller, hooks
):
    order = paid_nok_order(*nok_shop, warehouse, hooks)

    invoice = order.invoices.get()
    assert invoice.kind == "invoice"
    assert invoice.number == f"INV-{invoice.issue_date.year}-00001"
    assert invoice.total == order.grand_total == D("430.00")
    taxes = {(t.name, t.rate): (t.net_amount, t.tax_amount) for t in invoice.tax_lines.all()}
    assert taxes == {
        ("MVA", D("15")): (D("200.00"), D("30.00")),
        ("MVA", D("25")): (D("160.00"), D("40.00")),
    }
    assert invoice.seller["organisation_number"] == "912 345 678 MVA"
    assert invoice.buyer["city"] == "Oslo"
    assert OutboxEvent.objects.filter(event_type="invoice.issued").count() == 1


def test_the_pdf_shows_seller_buyer_lines_and_taxes(nok_shop, warehouse, seller, hooks):
    order = paid_nok_order(*nok_shop, warehouse, hooks)
    invoice = order.invoices.get()

    text = "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf_of(invoice))).pages)

    assert f"Invoice {invoice.number}" in text
    assert "Fjellgarn AS" in text
    assert "Organisation number: 912 345 678 MVA" in text
    assert "Kari Nordmann" in text and "Karl Johans gate 1" in text and "0154 Oslo" in text
    assert "Kaffe 500 g" in text
    assert "MVA 15 %" in text and "MVA 25 %" in text
    assert "Pay to 1503.12.34567" in text
    assert order.number in text


def test_the_pdf_is_kept_once_rendered(nok_shop, warehouse, seller, hooks):
    order = paid_nok_order(*nok_shop, warehouse, hooks)
    invoice = order.invoices.get()
    first = pdf_of(invoice)
    seller.seller_name = "Renamed AS"
    seller.save()
    again = pdf_of(Invoice.objects.get(pk=invoice.pk))
    assert again == first
    assert Invoice.objects.get(pk=invoice.pk).pdf_sha256


def test_issued_documents_are_immutable(nok_shop, warehouse, seller, hooks):
    order = paid_nok_order(*nok_shop, warehouse, hooks)
    invoice = order.invoices.get()
    with pytest.raises(TypeError):
        invoice.save()
    with pytest.raises(TypeError):
        Invoice.objects.filter(pk=invoice.pk).update(total=0)
    with pytest.raises(TypeError):
        Invoice.objects.filter(pk=invoice.pk).delete()


def test_an_order_is_invoiced_once(nok_shop, warehouse, seller, hooks):
    order = paid_nok_order(*nok_shop, warehouse, hooks)
    with pytest.raises(Conflict) as refused:
        invoicing.issue_invoice(order, actor=ACTOR)
    assert refused.value.code == "already_invoiced"


def test_a_refund_issues_a_credit_note_that_sums_to_it(nok_shop, warehouse, seller, hooks):
    order = paid_nok_order(*nok_shop, warehouse, hooks)
    coffee = order.lines.get(sku_code="KAFFE")
    with hooks():
        refund = create_refund(
            order=order,
            actor=ACTOR,
            lines=[(coffee.pk, 1)],
            shipping_amount="75.00",
            restocking_fee="10.00",
            extra_amount="20.00",
            reason="Late delivery",
        )
    refund.refresh_from_db()
    note = refund.credit_note
    invoice = order.invoices.get(kind="invoice")
    assert note.kind == "credit_note"
    assert note.credited_invoice == invoice
    assert note.number == f"CN-{note.issue_date.year}-00001"
    assert note.total == refund.amount == D("115") + D("75") + D("20") - D("10")
    assert sum(line.total for line in note.lines.all()) == note.total
    text = PdfReader(BytesIO(pdf_of(note))).pages[0].extract_text()
    assert f"Credit note {note.number}" in text and invoice.number in text


def test_refunds_before_invoicing_need_no_credit_note(channel, warehouse, seller, hooks):
    sku = SKUFactory(code="A", price="10.00")
    stock(sku, warehouse, 5)
    with hooks():
        order = place_order(
            channel=channel,  # invoices on shipment
            lines=[{"sku": "A", "quantity": 1}],
            shipping_address=OSLO,
            payment={"gateway": "manual", "method": "cash"},
            actor=ACTOR,
        )
        create_refund(order=order, actor=ACTOR, extra_amount="2.00")
    assert not Invoice.objects.exists()


def test_numbers_run_per_series_and_year_without_gaps(nok_shop, warehouse, seller, hooks):
    shop, rules = nok_shop
    orders = [paid_nok_order(shop, rules, warehouse, hooks) for _ in range(3)]
    numbers = [o.invoices.get().sequence for o in orders]
    assert numbers == [1, 2, 3]
    assert DocumentSequence.objects.get(series="INV").last_number == 3


def test_a_rolled_back_issue_gives_its_number_back(nok_shop, warehouse, seller, hooks):
    from django.db import transaction

    shop, rules = nok_shop
    first = paid_nok_order(shop, rules, warehouse, hooks)
    shop.issue_invoice_on = "shipment"
    shop.save()
    second = paid_nok_order(shop, rules, warehouse, hooks)
    try:
        with transaction.atomic():
            invoicing.issue_invoice(second, actor=ACTOR)
            raise RuntimeError("crash after numbering")
    except RuntimeError:
        pass
    invoice = invoicing.issue_invoice(second, actor=ACTOR)
    assert [first.invoices.get().sequence, invoice.sequence] == [1, 2]


def test_foreign_currency_invoices_carry_the_base_total_and_rate(
    nok_shop, warehouse, seller, hooks
):
    from datetime import date

    from oms_site.models import ExchangeRate

    ExchangeRate.objects.create(currency="NOK", rate=D("0.085"), valid_on=date(2024, 1, 1))
    order = paid_nok_order(*nok_shop, warehouse, hooks)
    invoice = order.invoices.get()
    assert (invoice.base_currency, invoice.base_total, invoice.exchange_rate) == (
        "EUR",
        D("36.55"),
        D("0.085"),
    )
    assert invoice.rate_date == date(2024, 1, 1)


def test_manual_issue(channel, warehouse, seller, hooks):
    sku = SKUFactory(code="A", price="10.00")
    stock(sku, warehouse, 5)
    order = place_order(
        channel=channel, lines=[{"sku": "A", "quantity": 1}], shipping_address=OSLO, actor=ACTOR
    )
    with hooks():
        invoice = invoicing.issue_invoice(order, actor=ACTOR, note="Pay by transfer")
    assert invoice.total == D("10.00")
    assert payments.status_from_ledger(order, []) == "unpaid"
