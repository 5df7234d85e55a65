"""oms_audit's money part finds what bypassed the ledger."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from oms_site.actors import Actor
from orders.audit import run_audits
from orders.invoicing.services import issue_invoice
from orders.models import DocumentSequence, Invoice, Order, Payment
from orders.payments import services as payments
from orders.services import place_order

from ..factories import SKUFactory, stock

pytestmark = [pytest.mark.django_db, pytest.mark.no_stock_audit]

ACTOR = Actor.system("test")
ADDRESS = {"name": "Erika", "line1": "Heidestrasse 17", "city": "Berlin", "country": "DE"}


@pytest.fixture
def paid(channel, warehouse, django_capture_on_commit_callbacks):
    stock(SKUFactory(code="A", price="10.00"), warehouse, 10)
    with django_capture_on_commit_callbacks(execute=True):
        order = place_order(
            channel=channel,
            lines=[{"sku": "A", "quantity": 2}],
            shipping_address=ADDRESS,
            payment={"gateway": "manual", "method": "cash"},
            actor=ACTOR,
        )
        issue_invoice(order, actor=ACTOR)
    return Order.objects.get(pk=order.pk)


def test_a_clean_ledger_passes(paid):
    out = StringIO()
    call_command("oms_audit", stdout=out)
    assert "Audit clean: stock, money" in out.getvalue()


def test_a_figure_changed_behind_the_ledgers_back_is_found(paid):
    Payment.objects.filter(order=paid).update(captured_amount=Decimal("15"))
    problems = run_audits()
    assert any("captured_amount is 15.000, its transactions say 20" in p for p in problems)


def test_a_status_that_disagrees_with_the_ledger_is_found(paid):
    Order.objects.filter(pk=paid.pk).update(payment_status="authorized")
    assert any("the ledger says paid" in p for p in run_audits())


def test_a_gap_in_the_invoice_numbers_is_found(paid):
    DocumentSequence.objects.update(last_number=2)
    problems = run_audits()
    assert any("the counter is at 2" in p for p in problems)
    with pytest.raises(SystemExit):
        call_command("oms_audit", stdout=StringIO(), stderr=StringIO())


def test_a_duplicate_number_is_found(paid):
    invoice = Invoice.objects.get()
    Invoice.objects.create(
        **{
            f.name: getattr(invoice, f.name)
            for f in Invoice._meta.concrete_fields
            if f.name not in ("id", "number", "pdf", "pdf_sha256", "issued_at")
        }
        | {"number": "INV-X", "sequence": 1, "year": invoice.year + 1}
    )
    problems = run_audits()
    assert any("lines sum to 0" in p for p in problems)
    assert payments.status_from_ledger(paid, paid.payments.all()) == "paid"
