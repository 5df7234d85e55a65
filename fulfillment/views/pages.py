"""The warehouse pages, phone first (390 px wide, gloves, a keyboard-wedge scanner that
types the barcode and Enter): my pick lists, the pick screen, the pack screen and the
ship screen, plus the shipment list and detail for the desk.

Views stay thin: they check the role and the warehouse, call a service, and show what
happened. The scan endpoints answer JSON to the page's script (one round trip per scan)
and fall back to a redirect with a message without JavaScript.
"""

from django.contrib import messages
from django.db.models import Count, F, Q, Sum
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from oms_site.actors import Actor
from oms_site.errors import DomainError
from oms_site.money import format_money
from oms_site.pages import capability_required, report_domain_error
from oms_site.roles import Capability, user_can

from .. import documents, services
from ..access import check_access, scope_by_warehouse
from ..forms import PackageForm, ScanForm, ShipForm, ShortForm, WaveForm, WeightForm
from ..models import (
    Package,
    PackageType,
    PickList,
    PickListStatus,
    Shipment,
    ShipmentStatus,
)
from ..services.booking import quote_rates
from ..services.packing import picking_done
from ..services.picking import WaveRules, open_lines_query

VIEW, WORK = Capability.FULFILLMENT_VIEW, Capability.FULFILLMENT_WORK


def _forbidden(request):
    return render(request, "403.html", status=403)


def _get_pick_list(request, number) -> PickList:
    pk = PickList.pk_from_number(number)
    pick_list = PickList.objects.select_related("warehouse", "assigned_to").filter(pk=pk).first()
    if pick_list is None:
        raise Http404(f"No pick list {number}.")
    check_access(request.user, pick_list.warehouse, what=f"Pick list {number}")
    return pick_list


def _get_shipment(request, number) -> Shipment:
    pk = Shipment.pk_from_number(number)
    shipment = (
        Shipment.objects.select_related("order__channel", "warehouse", "carrier", "service")
        .filter(pk=pk)
        .first()
    )
    if shipment is None:
        raise Http404(f"No shipment {number}.")
    check_access(request.user, shipment.warehouse, what=f"Shipment {number}")
    return shipment


def guarded(view):
    """Turn a refused warehouse (PermissionDenied) into the 403 page."""

    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            if exc.status == 403:
                return _forbidden(request)
            if exc.status == 404:
                raise Http404(exc.message)
            raise

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


# --- home: my pick lists, what waits for packing and shipping ----------------------------


@capability_required(VIEW)
@require_GET
def home(request):
    lists = scope_by_warehouse(
        PickList.objects.filter(status__in=[PickListStatus.OPEN, PickListStatus.PICKING]),
        request.user,
    ).filter(Q(assigned_to=request.user) | Q(assigned_to__isnull=True))
    lists = (
        lists.select_related("warehouse", "assigned_to")
        .annotate(
            order_count=Count("orders", distinct=True),
            units=Sum("lines__quantity"),
            done_units=Sum(F("lines__quantity_picked") + F("lines__quantity_short")),
        )
        .order_by("-assigned_to", "pk")[:50]
    )
    shipments = scope_by_warehouse(Shipment.objects.all(), request.user)
    to_pack = [
        s
        for s in shipments.filter(status=ShipmentStatus.PICKING)
        .select_related("order", "warehouse", "pick_list_entry")
        .order_by("pk")[:200]
        if picking_done(s)
    ][:30]
    to_ship = shipments.filter(status=ShipmentStatus.PACKED).select_related("order").order_by("pk")
    return render(
        request,
        "fulfillment/home.html",
        {
            "pick_lists": lists,
            "to_pack": to_pack,
            "to_ship": to_ship[:30],
            "wave_form": WaveForm(user=request.user) if user_can(request.user, WORK) else None,
        },
    )


@capability_required(WORK)
@require_POST
@guarded
def pick_list_create(request):
    form = WaveForm(request.POST, user=request.user)
    if not form.is_valid():
        problems = "; ".join(f"{name}: {' '.join(errs)}" for name, errs in form.errors.items())
        messages.error(request, _("No pick list was made (%(problems)s).") % {"problems": problems})
        return redirect("fulfillment:home")
    data = form.cleaned_data
    rules = WaveRules(
        order_numbers=form.order_numbers(),
        ship_by=data.get("ship_by"),
        priority_only=data["priority_only"],
        carrier=data.get("carrier"),
        max_orders=data["max_orders"],
        max_lines=data["max_lines"],
        max_lists=data["max_lists"],
        single_line_together=data["single_line_together"],
    )
    check_access(request.user, data["warehouse"])
    try:
        lists = services.create_pick_lists(
            warehouse=data["warehouse"],
            actor=Actor.for_user(request.user),
            rules=rules,
            assign_to=request.user if data["assign_to_me"] else None,
        )
    except DomainError as exc:
        report_domain_error(request, exc)
        return redirect("fulfillment:home")
    if not lists:
        messages.info(request, _("No allocated orders match: nothing to pick."))
        return redirect("fulfillment:home")
    messages.success(
        request,
        _("%(count)s pick list(s) made: %(numbers)s")
        % {"count": len(lists), "numbers": ", ".join(pl.number for pl in lists[:10])},
    )
    if len(lists) == 1:
        return redirect("fulfillment:pick", number=lists[0].number)
    return redirect("fulfillment:pick_lists")


@capability_required(VIEW)
@require_GET
def pick_list_index(request):
    lists = scope_by_warehouse(PickList.objects.all(), request.user)
    status = request.GET.get("status", "")
    if status in PickListStatus.values:
        lists = lists.filter(status=status)
    lists = lists.select_related("warehouse", "assigned_to").annotate(
        order_count=Count("orders", distinct=True)
    )[:200]
    return render(
        request,
        "fulfillment/pick_lists.html",
        {"pick_lists": lists, "status": status, "statuses": PickListStatus.choices},
    )


# --- the pick screen -------------------------------------------------------------------------


# The pick screen shows the task at hand and the next few stops; the whole list is in the
# PDF. Each scan re-renders only this much, so a 200-order wave scans as fast as a small one.
UPCOMING_LINES = 8


def _pick_context(pick_list, open_lines=None):
    """What the task panel shows; ``open_lines`` when the scan just read them."""
    cancelled = Q(pick_order__shipment__status=ShipmentStatus.CANCELLED)
    # One pass for the progress and whether anything must be put back.
    totals = pick_list.lines.aggregate(
        total=Sum("quantity", filter=~cancelled),
        done=Sum(F("quantity_picked") + F("quantity_short"), filter=~cancelled),
        void=Count("pk", filter=cancelled & Q(quantity_picked__gt=0)),
    )
    total, done = totals["total"] or 0, totals["done"] or 0
    if open_lines is None:
        open_lines = open_lines_query(pick_list)[: UPCOMING_LINES + 1]
    upcoming = list(open_lines[: UPCOMING_LINES + 1])
    void = []
    if totals["void"]:
        void = list(pick_list.lines.filter(cancelled, quantity_picked__gt=0).select_related("sku"))
    return {
        "pick_list": pick_list,
        "lines": upcoming[:UPCOMING_LINES],
        "more_lines": len(upcoming) > UPCOMING_LINES,
        "current": upcoming[0] if upcoming else None,
        "void_lines": void,
        "progress": round(100 * done / (total or 1)),
        "done_units": done,
        "total_units": total,
    }


@capability_required(VIEW)
@require_GET
@guarded
def pick_screen(request, number):
    pick_list = _get_pick_list(request, number)
    return render(
        request,
        "fulfillment/pick.html",
        _pick_context(pick_list) | {"may_work": user_can(request.user, WORK)},
    )


@capability_required(WORK)
@require_POST
@guarded
def pick_scan(request, number):
    pick_list = _get_pick_list(request, number)
    form = ScanForm(request.POST)
    result = None
    if not form.is_valid():
        result_ok, message = False, _("Nothing scanned.")
    else:
        try:
            result = services.scan_pick(
                pick_list, code=form.cleaned_data["code"], actor=Actor.for_user(request.user)
            )
            result_ok, message = result.ok, result.message
        except DomainError as exc:
            result_ok, message = False, exc.message
    if _wants_json(request):
        if result is not None and result.pick_list is not None:
            pick_list, context = (
                result.pick_list,
                _pick_context(result.pick_list, result.open_lines),
            )
        else:
            pick_list.refresh_from_db()
            context = _pick_context(pick_list)
        return JsonResponse(
            {
                "ok": result_ok,
                "message": message,
                "status": pick_list.status,
                "progress": context["progress"],
                "task_html": render_to_string("fulfillment/_pick_task.html", context, request),
            },
            status=200 if result_ok else 422,
        )
    (messages.success if result_ok else messages.error)(request, message)
    return redirect("fulfillment:pick", number=number)


@capability_required(WORK)
@require_POST
@guarded
def pick_short(request, number):
    pick_list = _get_pick_list(request, number)
    form = ShortForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say how many units are missing."))
    else:
        try:
            services.short_pick(
                pick_list,
                line_id=form.cleaned_data["line"],
                missing=form.cleaned_data["missing"],
                actor=Actor.for_user(request.user),
            )
        except DomainError as exc:
            report_domain_error(request, exc)
        else:
            messages.warning(
                request,
                _("%(missing)s unit(s) reported missing; the order goes back to routing.")
                % {"missing": form.cleaned_data["missing"]},
            )
    return redirect("fulfillment:pick", number=number)


@capability_required(WORK)
@require_POST
@guarded
def pick_take(request, number):
    pick_list = _get_pick_list(request, number)
    try:
        services.assign_pick_list(pick_list, user=request.user, actor=Actor.for_user(request.user))
    except DomainError as exc:
        report_domain_error(request, exc)
    return redirect("fulfillment:pick", number=number)


@capability_required(WORK)
@require_POST
@guarded
def pick_cancel(request, number):
    pick_list = _get_pick_list(request, number)
    try:
        services.cancel_pick_list(pick_list, actor=Actor.for_user(request.user))
    except DomainError as exc:
        report_domain_error(request, exc)
    else:
        messages.success(request, _("Pick list %(number)s is cancelled.") % {"number": number})
    return redirect("fulfillment:home")


@capability_required(VIEW)
@require_GET
@guarded
def pick_list_pdf(request, number):
    pick_list = _get_pick_list(request, number)
    return _pdf(documents.pick_list_pdf(pick_list), f"{pick_list.number}.pdf")


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


# --- shipments: list, detail, pack, ship -------------------------------------------------


@capability_required(VIEW)
@require_GET
def shipment_index(request):
    shipments = scope_by_warehouse(Shipment.objects.all(), request.user).select_related(
        "order", "warehouse"
    )
    status = request.GET.get("status", "")
    if status in ShipmentStatus.values:
        shipments = shipments.filter(status=status)
    query = request.GET.get("q", "").strip()[:100]
    if query:
        shipments = shipments.filter(
            Q(tracking_number=query)
            | Q(order__number=query.upper())
            | Q(pk=Shipment.pk_from_number(query) or 0)
        )
    return render(
        request,
        "fulfillment/shipments.html",
        {
            "shipments": shipments[:200],
            "status": status,
            "statuses": ShipmentStatus.choices,
            "query": query,
        },
    )


@capability_required(VIEW)
@require_GET
@guarded
def shipment_detail(request, number):
    shipment = _get_shipment(request, number)
    return render(
        request,
        "fulfillment/shipment.html",
        {
            "shipment": shipment,
            "lines": shipment.lines.select_related("order_line"),
            "packages": shipment.packages.select_related("package_type").prefetch_related(
                "lines__shipment_line__order_line"
            ),
            "events": shipment.events.order_by("-occurred_at", "-id"),
            "may_work": user_can(request.user, WORK),
            "may_deliver": shipment.is_underway and user_can(request.user, WORK),
        },
    )


def _pack_context(shipment):
    lines = list(shipment.lines.select_related("order_line__sku"))
    packages = list(
        shipment.packages.select_related("package_type").prefetch_related(
            "lines__shipment_line__order_line"
        )
    )
    total = sum(line.quantity for line in lines) or 1
    packed = sum(line.quantity_packed for line in lines)
    return {
        "shipment": shipment,
        "lines": lines,
        "packages": packages,
        "package_types": PackageType.objects.filter(active=True),
        "all_packed": packed == total,
        "progress": round(100 * packed / total),
        "packable": shipment.status in (ShipmentStatus.DRAFT, ShipmentStatus.PICKING)
        and picking_done(shipment),
    }


@capability_required(VIEW)
@require_GET
@guarded
def pack_screen(request, number):
    shipment = _get_shipment(request, number)
    if shipment.status == ShipmentStatus.PACKED:
        return redirect("fulfillment:ship", number=number)
    return render(
        request,
        "fulfillment/pack.html",
        _pack_context(shipment) | {"may_work": user_can(request.user, WORK)},
    )


@capability_required(WORK)
@require_POST
@guarded
def pack_scan(request, number):
    shipment = _get_shipment(request, number)
    form = ScanForm(request.POST)
    if not form.is_valid():
        ok, message = False, _("Nothing scanned.")
    else:
        try:
            result = services.scan_pack(
                shipment, code=form.cleaned_data["code"], actor=Actor.for_user(request.user)
            )
            ok, message = result.ok, result.message
        except DomainError as exc:
            ok, message = False, exc.message
    if _wants_json(request):
        shipment.refresh_from_db()
        context = _pack_context(shipment)
        return JsonResponse(
            {
                "ok": ok,
                "message": message,
                "progress": context["progress"],
                "task_html": render_to_string("fulfillment/_pack_task.html", context, request),
            },
            status=200 if ok else 422,
        )
    (messages.success if ok else messages.error)(request, message)
    return redirect("fulfillment:pack", number=number)


@capability_required(WORK)
@require_POST
@guarded
def pack_package(request, number):
    """Add a package, or set a package's box and weight."""
    shipment = _get_shipment(request, number)
    actor = Actor.for_user(request.user)
    try:
        if "weight_grams" in request.POST:
            form = WeightForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("Give the weight in whole grams."))
                return redirect("fulfillment:pack", number=number)
            package = Package.objects.filter(
                pk=form.cleaned_data["package"], shipment=shipment
            ).first()
            if package is None:
                raise Http404("No such package.")
            services.update_package(
                package,
                actor=actor,
                weight_grams=form.cleaned_data["weight_grams"],
                package_type=form.cleaned_data.get("package_type"),
            )
        else:
            form = PackageForm(request.POST)
            form.is_valid()
            services.add_package(
                shipment, package_type=form.cleaned_data.get("package_type"), actor=actor
            )
            messages.success(request, _("New package: scan the next items into it."))
    except DomainError as exc:
        report_domain_error(request, exc)
    return redirect("fulfillment:pack", number=number)


@capability_required(WORK)
@require_POST
@guarded
def pack_finish(request, number):
    shipment = _get_shipment(request, number)
    try:
        services.finish_packing(shipment, actor=Actor.for_user(request.user))
    except DomainError as exc:
        report_domain_error(request, exc)
        return redirect("fulfillment:pack", number=number)
    return redirect("fulfillment:ship", number=number)


@capability_required(WORK)
@require_POST
@guarded
def pack_reopen(request, number):
    shipment = _get_shipment(request, number)
    try:
        services.reopen_packing(shipment, actor=Actor.for_user(request.user))
    except DomainError as exc:
        report_domain_error(request, exc)
        return redirect("fulfillment:ship", number=number)
    return redirect("fulfillment:pack", number=number)


@capability_required(VIEW)
@require_GET
@guarded
def ship_screen(request, number):
    shipment = _get_shipment(request, number)
    if shipment.status in (ShipmentStatus.DRAFT, ShipmentStatus.PICKING):
        return redirect("fulfillment:pack", number=number)
    form = ShipForm(initial={"service": shipment.service_id})
    quotes = []
    if shipment.status == ShipmentStatus.PACKED and user_can(request.user, WORK):
        quotes = [
            {
                "quote": quote,
                "price": format_money(quote.rate.amount, quote.rate.currency) if quote.rate else "",
            }
            for quote in quote_rates(shipment)
        ]
    return render(
        request,
        "fulfillment/ship.html",
        {
            "quotes": quotes,
            "shipment": shipment,
            "form": form,
            "packages": shipment.packages.select_related("package_type"),
            "may_work": user_can(request.user, WORK),
        },
    )


@capability_required(WORK)
@require_POST
@guarded
def ship_book(request, number):
    """Book the label with the chosen carrier and hand the parcel over: shipped."""
    shipment = _get_shipment(request, number)
    form = ShipForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a carrier and service."))
        return redirect("fulfillment:ship", number=number)
    service = form.cleaned_data["service"]
    actor = Actor.for_user(request.user)
    try:
        shipment = services.book_shipment(
            shipment,
            carrier=service.carrier,
            service=service,
            actor=actor,
            tracking_number=form.cleaned_data["tracking_number"],
        )
        shipment = services.ship_shipment(shipment, actor=actor)
    except DomainError as exc:
        report_domain_error(request, exc)
    else:
        messages.success(
            request,
            _("Shipped with %(carrier)s: %(number)s")
            % {"carrier": shipment.carrier_name, "number": shipment.tracking_number},
        )
    return redirect("fulfillment:ship", number=number)


@capability_required(WORK)
@require_POST
@guarded
def shipment_deliver(request, number):
    shipment = _get_shipment(request, number)
    try:
        services.mark_shipment_delivered(
            shipment, actor=Actor.for_user(request.user), message="Marked delivered by hand"
        )
    except DomainError as exc:
        report_domain_error(request, exc)
    return redirect("fulfillment:shipment", number=number)


@capability_required(VIEW)
@require_GET
@guarded
def label_pdf(request, number):
    shipment = _get_shipment(request, number)
    if not shipment.label_pdf:
        raise Http404("No label yet.")
    return _pdf(bytes(shipment.label_pdf), f"label-{shipment.number}.pdf")


@capability_required(VIEW)
@require_GET
@guarded
def label_zpl(request, number):
    shipment = _get_shipment(request, number)
    if not shipment.label_zpl:
        raise Http404("No ZPL label for this carrier.")
    response = HttpResponse(shipment.label_zpl, content_type="application/zpl; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="label-{shipment.number}.zpl"'
    return response


@capability_required(VIEW)
@require_GET
@guarded
def packing_slip(request, number):
    shipment = _get_shipment(request, number)
    return _pdf(documents.packing_slip_pdf(shipment), f"packing-slip-{shipment.number}.pdf")


@capability_required(VIEW)
@require_GET
@guarded
def bulk_packing_slips(request, job_id):
    """The packing slips of a finished "print packing slips" bulk job, drawn on request
    from its orders' shipments (nothing is stored; a reprint shows the current state)."""
    from orders.dashboard_models import BulkJob, BulkJobItem

    from ..bulk_actions import shipments_for_slips

    job = BulkJob.objects.filter(pk=job_id, action="packing_slips", status="done").first()
    if job is None:
        raise Http404("No such finished packing-slip job.")
    order_ids = job.items.filter(outcome=BulkJobItem.Outcome.DONE).values_list(
        "order_id", flat=True
    )
    shipments = list(shipments_for_slips(order_ids, request.user))
    if not shipments:
        raise Http404("No packing slip to print.")
    content = documents.packing_slips_pdf(shipments, title=f"Packing slips, bulk job {job.pk}")
    return _pdf(content, f"packing-slips-{job.pk}.pdf")
