"""The money audit (part of ``oms_audit``):

- every payment's figures equal the sums of its succeeded transactions, and what is
  reserved for refunds equals its refunds in flight or done;
- per payment, captured - refunded is never negative, and nothing is captured beyond
  what was authorized and not voided;
- every order's payment status is what its payments' ledger says;
- invoice and credit note numbers run 1..n per series and year, with no gap and no
  duplicate, and each series' counter stands at the last number issued;
- every credit note sums to the refund it documents, and its lines to its total.
"""

from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, Max, Min, Q, Sum

from ..models import Order
from .models import Payment, Refund, RefundStatus, Transaction, TransactionStatus

ZERO = Decimal(0)
FIGURES = {
    "authorize": "authorized_amount",
    "capture": "captured_amount",
    "void": "voided_amount",
    "refund": "refunded_amount",
}


def _payment_problems() -> list[str]:
    problems = []
    sums = defaultdict(dict)
    for row in (
        Transaction.objects.filter(status=TransactionStatus.SUCCEEDED)
        .values("payment_id", "kind")
        .annotate(total=Sum("amount"))
    ):
        sums[row["payment_id"]][row["kind"]] = row["total"]
    reserved = {
        row["payment_id"]: row["total"]
        for row in Refund.objects.filter(status__in=[RefundStatus.PENDING, RefundStatus.SUCCEEDED])
        .values("payment_id")
        .annotate(total=Sum("amount"))
    }
    for payment in Payment.objects.select_related("order").iterator(chunk_size=2000):
        label = f"order {payment.order.number} payment #{payment.pk}"
        for kind, field in FIGURES.items():
            stored = getattr(payment, field)
            expected = sums[payment.pk].get(kind) or ZERO
            if stored != expected:
                problems.append(f"{label}: {field} is {stored}, its transactions say {expected}")
        if payment.refund_reserved_amount != (reserved.get(payment.pk) or ZERO):
            problems.append(
                f"{label}: refund_reserved_amount is {payment.refund_reserved_amount}, "
                f"its refunds say {reserved.get(payment.pk) or ZERO}"
            )
        if payment.captured_amount - payment.refunded_amount < 0:
            problems.append(f"{label}: refunded more than captured")
        if payment.captured_amount > payment.authorized_amount - payment.voided_amount:
            problems.append(f"{label}: captured more than authorized")
    return problems


def _status_problems() -> list[str]:
    from .services import status_from_ledger

    problems = []
    orders = Order.objects.filter(payments__isnull=False).distinct().prefetch_related("payments")
    for order in orders.iterator(chunk_size=500):
        expected = status_from_ledger(order, order.payments.all())
        if expected != order.payment_status and expected != "unpaid":
            problems.append(
                f"order {order.number}: payment status is {order.payment_status}, "
                f"the ledger says {expected}"
            )
    return problems


def _number_problems() -> list[str]:
    from ..invoicing.models import DocumentSequence, Invoice, InvoiceLine

    problems = []
    for row in Invoice.objects.values("series", "year").annotate(
        count=Count("pk"), first=Min("sequence"), last=Max("sequence")
    ):
        series = f"{row['series']}-{row['year']}"
        if (row["first"], row["last"]) != (1, row["count"]):
            problems.append(
                f"{series}: numbers run {row['first']}..{row['last']} over "
                f"{row['count']} document(s): a gap or a duplicate"
            )
        counter = DocumentSequence.objects.filter(series=row["series"], year=row["year"]).first()
        if counter is None or counter.last_number != row["last"]:
            problems.append(
                f"{series}: the counter is at "
                f"{counter.last_number if counter else 'nothing'}, the last number is "
                f"{row['last']}"
            )
    for note in Invoice.objects.filter(kind="credit_note").select_related("refund"):
        if note.refund is not None and note.total != note.refund.amount:
            problems.append(
                f"{note.number}: total {note.total} differs from refund "
                f"{note.refund.number}'s {note.refund.amount}"
            )
        if note.refund is not None and note.refund.status != RefundStatus.SUCCEEDED:
            problems.append(f"{note.number}: documents refund {note.refund.number}, not succeeded")
    line_sums = {
        row["invoice_id"]: row["total"]
        for row in InvoiceLine.objects.values("invoice_id").annotate(total=Sum("total"))
    }
    for invoice in Invoice.objects.only("pk", "number", "total").iterator(chunk_size=2000):
        if line_sums.get(invoice.pk, ZERO) != invoice.total:
            problems.append(
                f"{invoice.number}: lines sum to {line_sums.get(invoice.pk, ZERO)}, "
                f"the total is {invoice.total}"
            )
    return problems


def _refund_problems() -> list[str]:
    problems = []
    for refund in Refund.objects.filter(~Q(status=RefundStatus.FAILED)).annotate(
        lines_total=Sum("lines__amount")
    ):
        if (refund.lines_total or ZERO) != refund.lines_amount:
            problems.append(
                f"refund {refund.number}: lines sum to {refund.lines_total or ZERO}, "
                f"lines_amount is {refund.lines_amount}"
            )
    return problems


def audit_money() -> list[str]:
    return _payment_problems() + _status_problems() + _number_problems() + _refund_problems()
