"""Money pages: the order page's payments, refunds and invoices; the refund form; the
invoice list and PDFs; the payments overview; the invoicing settings.

Views stay thin: they parse, call a service in ``orders.payments`` or
``orders.invoicing`` and show the result; a refused action is a message, never a 500.
"""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.db.models import Q, Sum
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from oms_site.actors import Actor
from oms_site.errors import DomainError, ValidationFailed
from oms_site.money import convert_to_base, format_money
from oms_site.pages import capability_required, report_domain_error
from oms_site.roles import Capability, user_can

from .invoicing import services as invoicing
from .invoicing.models import DocumentKind, Invoice, InvoiceSettings
from .invoicing.pdf import pdf_of
from .models import Order, OrderStatus
from .money_forms import CaptureForm, InvoiceSettingsForm, RecordPaymentForm, RefundForm
from .payments import services as payments
from .payments.models import Refund, RefundStatus, Transaction, TransactionStatus
from .payments.refunds import create_refund, refundable
from .services.configuration import save_invoice_settings

INVOICE_PAGE_SIZE = 100


def _order(number) -> Order:
    return get_object_or_404(Order.objects.select_related("channel"), number=number)


def money_context(request, order) -> dict:
    """What the order page shows about money, and which money actions this user has."""
    currency = order.currency

    def show(amount):
        return format_money(amount, currency)

    order_payments = list(order.payments.prefetch_related("transactions").order_by("pk"))
    for payment in order_payments:
        payment.captured_display = show(payment.captured_amount)
        payment.authorized_display = show(payment.authorized_amount)
        payment.refunded_display = show(payment.refunded_amount)
        for txn in payment.transactions.all():
            txn.amount_display = show(txn.amount)
    refunds = list(order.refunds.order_by("pk"))
    for refund in refunds:
        refund.amount_display = show(refund.amount)
    documents = list(order.invoices.select_related("credited_invoice").order_by("pk"))
    for document in documents:
        document.total_display = show(document.total)
    money = payments.figures(order_payments)
    user = request.user
    open_order = order.status not in (OrderStatus.DRAFT, OrderStatus.CANCELLED)
    may_pay = user_can(user, Capability.PAYMENT_MANAGE)
    return {
        "payments": order_payments,
        "refunds": refunds,
        "documents": documents,
        "money": {key: show(value) for key, value in money.items()},
        "money_actions": {
            "record": may_pay and open_order,
            "capture": may_pay and open_order and bool(order_payments),
            "void": may_pay and money["capturable"] > 0,
            "refund": user_can(user, Capability.REFUND_CREATE) and money["refundable"] > 0,
            "retry_refund": user_can(user, Capability.REFUND_CREATE),
            "invoice": user_can(user, Capability.INVOICE_MANAGE)
            and open_order
            and not any(d.kind == DocumentKind.INVOICE for d in documents),
        },
    }


def _run(request, number, perform, done):
    order = _order(number)
    try:
        perform(order, Actor.for_user(request.user))
    except DomainError as exc:
        report_domain_error(request, exc)
    else:
        messages.success(request, done)
    return redirect("orders:detail", number=number)


def _form_problem(request, form) -> None:
    problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
    messages.error(request, _("Nothing was changed (%(problems)s).") % {"problems": problems})


@capability_required(Capability.PAYMENT_MANAGE)
@require_POST
def record_payment(request, number):
    form = RecordPaymentForm(request.POST)
    if not form.is_valid():
        _form_problem(request, form)
        return redirect("orders:detail", number=number)
    data = form.cleaned_data

    def perform(order, actor):
        payments.add_payment(
            order=order, gateway="manual", method=data["method"], amount=data["amount"], actor=actor
        )
        if data["received"] and data["method"] != "cash":
            payments.capture_payment(order=order, amount=data["amount"], actor=actor)

    return _run(request, number, perform, _("The payment is recorded."))


@capability_required(Capability.PAYMENT_MANAGE)
@require_POST
def capture(request, number):
    form = CaptureForm(request.POST)
    if not form.is_valid():
        _form_problem(request, form)
        return redirect("orders:detail", number=number)
    return _run(
        request,
        number,
        lambda order, actor: payments.capture_payment(
            order=order, amount=form.cleaned_data["amount"], actor=actor
        ),
        _("The capture is on its way; the page shows the provider's answer."),
    )


@capability_required(Capability.PAYMENT_MANAGE)
@require_POST
def void(request, number):
    return _run(
        request,
        number,
        lambda order, actor: payments.void_payment(order=order, actor=actor),
        _("The authorization is being voided."),
    )


@capability_required(Capability.INVOICE_MANAGE)
@require_POST
def issue_invoice(request, number):
    return _run(
        request,
        number,
        lambda order, actor: invoicing.issue_invoice(order, actor=actor),
        _("The invoice is issued."),
    )


@capability_required(Capability.REFUND_CREATE)
def refund_form(request, number):
    order = _order(number)
    available = refundable(order)
    order_payments = list(order.payments.order_by("pk"))
    form = RefundForm(
        request.POST if request.method == "POST" else None,
        refundable=available,
        payments=order_payments,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            refund = create_refund(
                order=order,
                actor=Actor.for_user(request.user),
                lines=form.lines(),
                shipping_amount=data["shipping_amount"] or 0,
                restocking_fee=data["restocking_fee"] or 0,
                extra_amount=data["extra_amount"] or 0,
                payment=data.get("payment") or None,
                manual=data["manual"],
                reason=data["reason"],
            )
        except ValidationFailed as exc:
            for field, problems in exc.fields.items():
                form.add_error(field if field in form.fields else None, problems)
        except DomainError as exc:
            report_domain_error(request, exc)
        else:
            messages.success(
                request,
                _("Refund %(number)s of %(amount)s is %(status)s.")
                % {
                    "number": refund.number,
                    "amount": format_money(refund.amount, refund.currency),
                    "status": refund.get_status_display().lower(),
                },
            )
            return redirect("orders:detail", number=number)
    for entry, _field in form.line_fields:
        entry.unit_display = format_money(
            entry.amount_for(1) if entry.quantity else 0, order.currency
        )
        entry.left_display = format_money(entry.amount, order.currency)
    return render(
        request,
        "orders/refund_form.html",
        {
            "order": order,
            "form": form,
            "available": available,
            "shipping_display": format_money(available.shipping, order.currency),
            "money_display": format_money(available.money, order.currency),
        },
    )


@capability_required(Capability.REFUND_CREATE)
@require_POST
def refund_retry(request, number, refund_id):
    refund = get_object_or_404(Refund, pk=refund_id, order__number=number)
    return _run(
        request,
        number,
        lambda order, actor: payments.retry_refund(refund, actor=actor),
        _("Refund %(number)s is tried again.") % {"number": refund.number},
    )


@capability_required(Capability.ORDER_VIEW)
@require_GET
def invoice_pdf(request, number):
    invoice = get_object_or_404(Invoice.objects.select_related("order"), number=number)
    response = HttpResponse(pdf_of(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{invoice.number}.pdf"'
    return response


@capability_required(Capability.ORDER_VIEW)
@require_GET
def invoice_list(request):
    documents = Invoice.objects.select_related("order", "credited_invoice").order_by("-pk")
    kind = request.GET.get("kind", "")
    if kind in DocumentKind.values:
        documents = documents.filter(kind=kind)
    text = request.GET.get("q", "").strip()[:100]
    if text:
        documents = documents.filter(
            Q(number__icontains=text)
            | Q(order__number__icontains=text)
            | Q(buyer__name__icontains=text)
        )
    rows = list(documents[:INVOICE_PAGE_SIZE])
    for document in rows:
        document.total_display = format_money(document.total, document.currency)
    return render(
        request,
        "orders/invoice_list.html",
        {"documents": rows, "kind": kind, "q": text, "kinds": DocumentKind.choices},
    )


@capability_required(Capability.ORDER_VIEW)
@require_GET
def payments_overview(request):
    """What needs a person (unknown outcomes past their retries, failed refunds) and the
    money of the last 30 days in the base currency."""
    since = timezone.now() - timedelta(days=30)
    stuck = (
        Transaction.objects.filter(status=TransactionStatus.PENDING)
        .filter(
            Q(attempts__gte=settings.OMS_PAYMENT_MAX_ATTEMPTS)
            | Q(created_at__lte=timezone.now() - timedelta(hours=1))
        )
        .select_related("payment__order")
        .order_by("pk")[:100]
    )
    failed_refunds = (
        Refund.objects.filter(status=RefundStatus.FAILED).select_related("order").order_by("-pk")
    )[:100]
    report = []
    base = settings.OMS_BASE_CURRENCY
    totals = {"captured": Decimal(0), "refunded": Decimal(0), "unconverted": []}
    rows = (
        Transaction.objects.filter(
            status=TransactionStatus.SUCCEEDED,
            completed_at__gte=since,
            kind__in=["capture", "refund"],
        )
        .values("currency", "kind")
        .annotate(total=Sum("amount"))
        .order_by("currency", "kind")
    )
    today = timezone.localdate()
    by_currency = {}
    for row in rows:
        by_currency.setdefault(row["currency"], {})[row["kind"]] = row["total"]
    for currency, sums in sorted(by_currency.items()):
        entry = {"currency": currency}
        for kind, key in (("capture", "captured"), ("refund", "refunded")):
            amount = sums.get(kind) or Decimal(0)
            entry[key] = format_money(amount, currency)
            converted = convert_to_base(amount, currency, today)
            if converted is None:
                entry[f"{key}_base"] = None
                totals["unconverted"].append(currency)
            else:
                entry[f"{key}_base"] = format_money(converted[0], base)
                entry["rate"] = converted[1]
                entry["rate_date"] = converted[2]
                totals[key] += converted[0]
        report.append(entry)
    return render(
        request,
        "orders/payments_overview.html",
        {
            "stuck": stuck,
            "failed_refunds": failed_refunds,
            "report": report,
            "base": base,
            "captured_total": format_money(totals["captured"], base),
            "refunded_total": format_money(totals["refunded"], base),
            "net_total": format_money(totals["captured"] - totals["refunded"], base),
            "unconverted": sorted(set(totals["unconverted"])),
            "may_retry": user_can(request.user, Capability.PAYMENT_MANAGE),
        },
    )


@capability_required(Capability.PAYMENT_MANAGE)
@require_POST
def transaction_retry(request, pk):
    txn = get_object_or_404(Transaction, pk=pk)
    if txn.status != TransactionStatus.PENDING:
        raise Http404("Only a pending transaction is asked again.")
    payments.execute_transaction(txn.pk)
    txn.refresh_from_db()
    messages.info(
        request,
        _("Asked again: the transaction is %(status)s.") % {"status": txn.get_status_display()},
    )
    return redirect("money:payments")


@capability_required(Capability.INTEGRATIONS_MANAGE)
def invoice_settings(request):
    instance = InvoiceSettings.current()
    form = InvoiceSettingsForm(
        request.POST if request.method == "POST" else None, instance=instance
    )
    if request.method == "POST" and form.is_valid():
        save_invoice_settings(settings_row=form.save(commit=False))
        messages.success(request, _("Invoicing settings are saved; new documents use them."))
        return redirect("order_settings:invoicing")
    return render(request, "orders/settings/invoicing.html", {"form": form})
