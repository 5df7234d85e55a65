"""The staff's pages: the returns queue, a new return for an order, and the return page
with its actions (approve, reject, label, receive at the desk, inspect, close with the
refund, exchange). Each action names its capability and calls one service."""

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.db.models import Count, Sum
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from fulfillment.models import CarrierAccount, CarrierService
from inventory.models import Warehouse
from oms_site.actors import Actor
from oms_site.errors import DomainError
from oms_site.pages import capability_required, report_domain_error
from oms_site.roles import Capability, user_can
from orders.models import Order
from orders.payments.refunds import refundable

from .. import services
from ..models import InspectionOutcome, ReturnReason, ReturnStatus
from ..services.closing import default_refund_lines, refunds_of
from ..services.quantities import return_deadline, returnable_lines
from .common import get_return, guarded, positive_int, visible_returns

VIEW = Capability.ORDER_VIEW
MANAGE = Capability.RETURN_MANAGE
RECEIVE = Capability.RETURN_RECEIVE


@capability_required(VIEW)
@require_GET
def queue(request):
    returns = visible_returns(request.user).select_related("order", "warehouse")
    status = request.GET.get("status", "")
    if status in ReturnStatus.values:
        returns = returns.filter(status=status)
    query = request.GET.get("q", "").strip()[:40]
    if query:
        pk = returns.model.pk_from_number(query) or 0
        returns = returns.filter(pk=pk) | returns.filter(order__number=query.upper())
    returns = returns.annotate(units=Sum("lines__quantity")).order_by("-pk")[:200]
    counts = dict(
        visible_returns(request.user)
        .values("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
        .order_by()
    )
    return render(
        request,
        "returns/queue.html",
        {
            "returns": returns,
            "status": status,
            "query": query,
            "statuses": [(v, label, counts.get(v, 0)) for v, label in ReturnStatus.choices],
        },
    )


@capability_required(MANAGE)
def create(request):
    number = (request.GET.get("order") or request.POST.get("order") or "").strip().upper()
    order = Order.objects.select_related("channel").filter(number=number).first()
    if order is None:
        if number:
            messages.error(request, _("No order %(number)s.") % {"number": number})
        return redirect("returns:queue")
    entries = returnable_lines(order)
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
                        "comment": request.POST.get(f"line-{entry.line.pk}-comment", ""),
                    }
                )
        warehouse = Warehouse.objects.filter(pk=positive_int(request.POST.get("warehouse"))).first()
        try:
            made = services.create_return(
                order=order,
                lines=lines,
                warehouse=warehouse,
                note=request.POST.get("note", ""),
                actor=Actor.for_user(request.user),
            )
        except DomainError as exc:
            report_domain_error(request, exc)
        else:
            messages.success(request, _("Return %(number)s created.") % {"number": made.number})
            return redirect("returns:detail", number=made.number)
    return render(
        request,
        "returns/create.html",
        {
            "order": order,
            "entries": entries,
            "reasons": ReturnReason.choices,
            "warehouses": Warehouse.objects.filter(active=True, accepts_returns=True),
            "deadline": return_deadline(order),
        },
    )


@capability_required(VIEW)
@require_GET
@guarded
def detail(request, number):
    rr = get_return(request, number)
    lines = list(rr.lines.select_related("order_line", "restock_movement"))
    order = rr.order
    may_manage = user_can(request.user, MANAGE)
    may_receive = user_can(request.user, RECEIVE)
    money = refundable(order).money if rr.status == ReturnStatus.INSPECTED else None
    return render(
        request,
        "returns/detail.html",
        {
            "rr": rr,
            "lines": lines,
            "events": rr.events.order_by("-pk"),
            "refunds": refunds_of(rr).order_by("pk"),
            "credit_notes": order.invoices.filter(refund__source=rr.refund_source),
            "may_manage": may_manage,
            "may_receive": may_receive,
            "carriers": CarrierAccount.objects.filter(active=True).prefetch_related("services"),
            "outcomes": InspectionOutcome.choices,
            "to_inspect": [ln for ln in lines if ln.quantity_received and not ln.outcome],
            "refund_lines": default_refund_lines(rr) if money else {},
            "refundable_money": money,
            "currency": order.currency,
        },
    )


def _act(request, number, work, done_message):
    rr = get_return(request, number)
    try:
        work(rr, Actor.for_user(request.user))
    except DomainError as exc:
        if exc.status == 403:
            raise
        report_domain_error(request, exc)
    else:
        messages.success(request, done_message % {"number": rr.number})
    return redirect("returns:detail", number=rr.number)


@capability_required(MANAGE)
@require_POST
@guarded
def approve(request, number):
    carrier = CarrierAccount.objects.filter(pk=positive_int(request.POST.get("carrier"))).first()
    service = CarrierService.objects.filter(pk=positive_int(request.POST.get("service"))).first()

    def work(rr, actor):
        rr = services.approve_return(rr, actor=actor)
        if carrier is not None:
            services.send_return_label(rr, carrier=carrier, service=service, actor=actor)

    return _act(request, number, work, _("Return %(number)s approved."))


@capability_required(MANAGE)
@require_POST
@guarded
def reject(request, number):
    reason = request.POST.get("reason", "")
    return _act(
        request,
        number,
        lambda rr, actor: services.reject_return(rr, actor=actor, reason=reason),
        _("Return %(number)s rejected."),
    )


@capability_required(RECEIVE)
@require_POST
@guarded
def inspect(request, number):
    lines = {}
    for key, outcome in request.POST.items():
        if key.startswith("line-") and key.endswith("-outcome") and outcome:
            line_id = positive_int(key[len("line-") : -len("-outcome")])
            lines[line_id] = (outcome, request.POST.get(f"line-{line_id}-note", ""))
    return _act(
        request,
        number,
        lambda rr, actor: services.inspect_return(rr, actor=actor, lines=lines),
        _("Inspection of %(number)s saved."),
    )


def _amount(request, name) -> Decimal:
    try:
        return Decimal(request.POST.get(name) or "0")
    except InvalidOperation:
        return Decimal("-1")


@capability_required(MANAGE)
@require_POST
@guarded
def close(request, number):
    rr = get_return(request, number)
    lines = {}
    for line in rr.lines.all():
        units = positive_int(request.POST.get(f"line-{line.pk}-refund"))
        if units:
            lines[line.pk] = units
    if request.POST.get("refund") and not user_can(request.user, Capability.REFUND_CREATE):
        return render(request, "403.html", status=403)
    return _act(
        request,
        number,
        lambda rr, actor: services.close_return(
            rr,
            actor=actor,
            refund=bool(request.POST.get("refund")),
            lines=lines,
            shipping_amount=_amount(request, "shipping_amount"),
            restocking_fee=_amount(request, "restocking_fee"),
            manual=bool(request.POST.get("manual")),
        ),
        _("Return %(number)s closed."),
    )


@capability_required(MANAGE)
@require_POST
@guarded
def exchange(request, number):
    lines = []
    for index in range(5):
        sku = request.POST.get(f"sku-{index}", "").strip()
        quantity = positive_int(request.POST.get(f"quantity-{index}"))
        if sku and quantity:
            lines.append({"sku": sku, "quantity": quantity})
    return _act(
        request,
        number,
        lambda rr, actor: services.create_exchange(rr, actor=actor, lines=lines),
        _("Return %(number)s exchanged: the replacement order is placed."),
    )


@capability_required(VIEW)
@require_GET
@guarded
def label_pdf(request, number):
    rr = get_return(request, number)
    if not rr.label_pdf:
        return render(request, "404.html", status=404)
    response = HttpResponse(bytes(rr.label_pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{rr.number}-label.pdf"'
    return response
