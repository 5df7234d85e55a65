"""Receiving returns on the warehouse's phone pages (390 px, a keyboard-wedge scanner):
scan the parcel's RMA number or its return tracking number, then each unit out of it
(GTIN or SKU code); a wrong item is refused in red with a buzz and records nothing.
"Received" books the counted units. Only staff of the return warehouse get in."""

from django.contrib import messages
from django.db.models import Q
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from oms_site.actors import Actor
from oms_site.errors import DomainError
from oms_site.pages import capability_required, report_domain_error
from oms_site.roles import Capability

from .. import services
from ..models import ReturnRequest, ReturnStatus
from ..services.receiving import RECEIVABLE, check_receiving
from .common import get_return, guarded, visible_returns

RECEIVE = Capability.RETURN_RECEIVE


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@capability_required(RECEIVE)
def receive_home(request):
    """The parcel's code: RMA number or the return label's tracking number."""
    waiting = visible_returns(request.user).filter(status__in=RECEIVABLE)
    if request.method == "POST":
        code = request.POST.get("code", "").strip()[:100]
        found = waiting.filter(
            Q(pk=ReturnRequest.pk_from_number(code) or 0) | Q(tracking_number=code)
        ).first()
        if found is not None:
            return redirect("returns:receive", number=found.number)
        messages.error(request, _("No return waiting here has the code %(code)s.") % {"code": code})
        return redirect("returns:receive_home")
    return render(
        request,
        "returns/receive_home.html",
        {"waiting": waiting.select_related("order", "warehouse").order_by("pk")[:50]},
    )


def _context(rr):
    lines = list(rr.lines.select_related("order_line__sku"))
    total = sum(line.quantity for line in lines) or 1
    counted = sum(line.quantity_received for line in lines)
    return {
        "rr": rr,
        "lines": lines,
        "counted": counted,
        "total": total,
        "progress": round(100 * counted / total),
        "receivable": rr.status in RECEIVABLE,
    }


@capability_required(RECEIVE)
@require_GET
@guarded
def receive_screen(request, number):
    rr = get_return(request, number)
    check_receiving(rr, actor=Actor.for_user(request.user))
    return render(request, "returns/receive.html", _context(rr))


@capability_required(RECEIVE)
@require_POST
@guarded
def receive_scan(request, number):
    rr = get_return(request, number)
    code = request.POST.get("code", "").strip()[:100]
    if not code:
        ok, message = False, _("Nothing scanned.")
    else:
        try:
            result = services.scan_return_unit(rr, code=code, actor=Actor.for_user(request.user))
            ok, message = result.ok, result.message
        except DomainError as exc:
            if exc.status == 403:
                raise
            ok, message = False, exc.message
    if _wants_json(request):
        rr.refresh_from_db()
        return JsonResponse(
            {
                "ok": ok,
                "message": message,
                "task_html": render_to_string("returns/_receive_task.html", _context(rr), request),
            },
            status=200 if ok else 422,
        )
    (messages.success if ok else messages.error)(request, message)
    return redirect("returns:receive", number=rr.number)


@capability_required(RECEIVE)
@require_POST
@guarded
def receive_finish(request, number):
    rr = get_return(request, number)
    try:
        rr = services.receive_return(rr, actor=Actor.for_user(request.user))
    except DomainError as exc:
        if exc.status == 403:
            raise
        report_domain_error(request, exc)
        return redirect("returns:receive", number=rr.number)
    messages.success(
        request, _("Return %(number)s received: inspect it now.") % {"number": rr.number}
    )
    if rr.status == ReturnStatus.RECEIVED:
        return redirect("returns:detail", number=rr.number)
    return redirect("returns:receive_home")
