"""The customer's side, behind the order's secret tracking link: the returns part of the
tracking page, the return request form (within the channel's return window after
delivery: per line the units, a reason and a comment), and the return label.

Like the tracking page it shows nothing personal, and a wrong token is the same "link
not valid" page for every token.
"""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from oms_site.actors import Actor
from oms_site.errors import DomainError
from orders.models import Order, OrderStatus
from orders.payments import customer_payments

from .. import services
from ..models import ReturnReason, ReturnRequest, ReturnSource
from ..services.quantities import (
    RETURNABLE_STATUSES,
    return_deadline,
    returnable_lines,
    within_window,
)
from .common import positive_int


def _order(token) -> Order | None:
    if not token or len(token) > 64:
        return None
    return (
        Order.objects.select_related("channel")
        .filter(tracking_token=token)
        .exclude(status=OrderStatus.DRAFT)
        .first()
    )


def _may_ask(order) -> bool:
    return (
        order.status in RETURNABLE_STATUSES
        and within_window(order)
        and any(entry.quantity for entry in returnable_lines(order))
    )


def tracking_section(request, order) -> str:
    """The returns part of the tracking page (registered with fulfillment)."""
    returns = list(ReturnRequest.objects.filter(order=order).order_by("pk"))
    may_ask = _may_ask(order)
    if not returns and not may_ask:
        return ""
    return render_to_string(
        "returns/_tracking_section.html",
        {
            "order": order,
            "returns": returns,
            "may_ask": may_ask,
            "deadline": return_deadline(order),
        },
        request,
    )


def payment_section(request, order) -> str:
    """The "left to pay" part of the tracking page, when something is due and the
    customer can pay it online (registered with fulfillment)."""
    gateway = customer_payments.customer_gateway(order)
    due = customer_payments.amount_due(order) if gateway else 0
    if not due:
        return ""
    return render_to_string(
        "returns/_payment_section.html", {"order": order, "due": due, "gateway": gateway}, request
    )


def _invalid(request):
    return render(request, "fulfillment/tracking_invalid.html", status=404)


@never_cache
def request_return(request, token):
    order = _order(token)
    if order is None:
        return _invalid(request)
    entries = [entry for entry in returnable_lines(order) if entry.quantity]
    if request.method == "POST":
        lines = []
        for entry in entries:
            quantity = positive_int(request.POST.get(f"line-{entry.line.pk}-quantity"))
            if quantity:
                lines.append(
                    {
                        "line": entry.line.pk,
                        "quantity": quantity,
                        "reason": request.POST.get(f"line-{entry.line.pk}-reason", ""),
                        "comment": request.POST.get(f"line-{entry.line.pk}-comment", "")[:500],
                    }
                )
        try:
            services.create_return(
                order=order,
                lines=lines,
                source=ReturnSource.CUSTOMER,
                actor=Actor.system("customer"),
            )
        except DomainError as exc:
            if exc.code == "return_window_closed":
                messages.error(request, _("The return window for this order has closed."))
            elif not lines:
                messages.error(request, _("Choose how many of which items you send back."))
            else:
                messages.error(
                    request, _("The return could not be registered: %(why)s") % {"why": exc.message}
                )
        else:
            messages.success(
                request,
                _("Thank you. Your return is registered: this page shows when it is approved."),
            )
            return redirect("tracking:page", token=token)
    return render(
        request,
        "returns/customer_request.html",
        {
            "order": order,
            "entries": entries,
            "reasons": ReturnReason.choices,
            "may_ask": _may_ask(order),
            "deadline": return_deadline(order),
        },
    )


@never_cache
def customer_label(request, token, number):
    order = _order(token)
    rr = (
        ReturnRequest.objects.filter(
            order=order, pk=ReturnRequest.pk_from_number(number) or 0
        ).first()
        if order
        else None
    )
    if rr is None or not rr.label_pdf:
        return _invalid(request)
    response = HttpResponse(bytes(rr.label_pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{rr.number}-label.pdf"'
    return response


@never_cache
def pay_due(request, token):
    """What is left to pay on the order (the rest of an exchange for dearer goods, say),
    and the button that starts the provider's payment."""
    order = _order(token)
    if order is None:
        return _invalid(request)
    if request.method == "POST":
        return_url = request.build_absolute_uri(
            reverse("customer_returns:pay", args=[token]) + "?returned=1"
        )
        try:
            redirect_url = customer_payments.start_customer_payment(
                order, return_url=return_url, actor=Actor.system("customer")
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            return redirect(redirect_url)
    elif request.GET.get("returned"):
        customer_payments.check_returned_payment(order)
    waiting = customer_payments.waiting_payment(order)
    return render(
        request,
        "returns/customer_pay.html",
        {
            "order": order,
            "due": customer_payments.amount_due(order),
            "gateway": customer_payments.customer_gateway(order),
            "waiting": waiting,
            "returned": bool(request.GET.get("returned")),
        },
    )
