"""Forecasting and purchasing pages: the dashboard (stock at risk first, run progress),
one SKU's chart and figures, purchase suggestions (and their CSV), the accuracy
scoreboard, settings, and purchase orders. Every page shows only the warehouses the user
may see; every action checks its capability (``oms_site.roles``)."""

import csv
from datetime import timedelta

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from inventory.access import allowed_warehouses
from inventory.models import SKU, Supplier
from oms_site.actors import Actor
from oms_site.errors import DomainError
from oms_site.pages import capability_required, report_domain_error
from oms_site.roles import Capability, user_can

from . import history, selectors
from .chart import forecast_chart
from .forms import (
    ForecastFilterForm,
    ForecastSettingsForm,
    PurchaseOrderForm,
    PurchasingTermsForm,
    ReceiveForm,
)
from .models import ForecastRun, ForecastSettings, PurchaseOrder
from .services import purchasing, runs

PAGE_SIZE = 200
CHART_HISTORY_DAYS = 182


@capability_required(Capability.FORECAST_VIEW)
@require_GET
def dashboard(request):
    form = ForecastFilterForm(request.GET, user=request.user)
    form.is_valid()
    data = form.cleaned_data
    forecasts = selectors.forecasts_for(request.user)
    at_risk = forecasts.filter(at_risk=True).order_by("stockout_date", "sku__code")
    rows = forecasts
    if data.get("q"):
        rows = rows.filter(Q(sku__code__icontains=data["q"]) | Q(sku__name__icontains=data["q"]))
    if data.get("warehouse"):
        rows = rows.filter(warehouse=data["warehouse"])
    if data.get("model"):
        rows = rows.filter(model=data["model"])
    if data.get("at_risk"):
        rows = rows.filter(at_risk=True)
    try:
        offset = max(int(request.GET.get("offset", 0)), 0)
    except ValueError:
        offset = 0
    rows = rows.order_by("stockout_date", "sku__code", "warehouse__rank")
    page = list(rows[offset : offset + PAGE_SIZE + 1])
    run = selectors.current_run()
    progress = selectors.progress(run) if run else None
    context = {
        "form": form,
        "at_risk": at_risk[:100],
        "at_risk_count": at_risk.count(),
        "rows": page[:PAGE_SIZE],
        "next_offset": offset + PAGE_SIZE if len(page) > PAGE_SIZE else None,
        "previous_offset": max(offset - PAGE_SIZE, 0) if offset else None,
        "total": rows.count(),
        "run": run,
        "progress": progress,
        "recent_runs": ForecastRun.objects.select_related("sku")[:8],
        "settings": ForecastSettings.current(),
        "section": "forecast",
        "query": request.GET.copy(),
    }
    response = render(request, "forecasting/dashboard.html", context)
    return response


@capability_required(Capability.FORECAST_RUN)
@require_POST
def run_now(request):
    run = runs.start_run(trigger=ForecastRun.Trigger.MANUAL, actor=Actor.for_user(request.user))
    if run.status == ForecastRun.Status.RUNNING:
        messages.success(
            request,
            _("Forecast run %(run)s is working through %(n)s batch(es).")
            % {"run": run.pk, "n": run.batch_total},
        )
    else:
        messages.success(request, _("Forecast run %(run)s finished.") % {"run": run.pk})
    return redirect("forecasting:dashboard")


@capability_required(Capability.FORECAST_VIEW)
@require_GET
def run_progress(request, pk):
    """A small fragment the dashboard reloads while a run works (no script needed)."""
    run = get_object_or_404(ForecastRun, pk=pk)
    return render(
        request,
        "forecasting/_progress.html",
        {"run": run, "progress": selectors.progress(run), "standalone": True},
    )


def _sku_or_404(code) -> SKU:
    sku = SKU.objects.select_related("product", "supplier").filter(code=code).first()
    if sku is None:
        raise Http404("No such SKU.")
    return sku


@capability_required(Capability.FORECAST_VIEW)
@require_GET
def sku_detail(request, code):
    sku = _sku_or_404(code)
    forecasts = list(
        selectors.forecasts_for(request.user).filter(sku=sku).order_by("warehouse__rank")
    )
    settings = ForecastSettings.current()
    panels = []
    if forecasts:
        as_of = forecasts[0].as_of
        days = min(CHART_HISTORY_DAYS, settings.history_days)
        hist = history.demand_history(
            keys=[(f.sku_id, f.warehouse_id) for f in forecasts], as_of=as_of, days=days
        )
        for row, forecast in enumerate(forecasts):
            known = hist.known[row]
            chart = forecast_chart(
                history_dates=hist.dates,
                demand=[float(v) for v in hist.demand[row]],
                stockout=[bool(v) for v in hist.stockout[row]],
                available=[
                    float(v) if k else 0.0 for v, k in zip(hist.available[row], known, strict=True)
                ],
                forecast_start=forecast.as_of + timedelta(days=1),
                mean=forecast.mean,
                lower=forecast.lower,
                upper=forecast.upper,
                projected=forecast.projected,
                reorder_point=forecast.reorder_point,
                safety_stock=forecast.safety_stock,
                stockout_date=forecast.stockout_date,
                interval_level=forecast.interval_level,
                title=_("%(sku)s at %(warehouse)s: demand, forecast and stock")
                % {"sku": sku.code, "warehouse": forecast.warehouse.code},
            )
            backtest = sorted(
                forecast.backtest.items(),
                key=lambda item: (item[1].get("mase") is None, item[1].get("mase") or 0),
            )
            panels.append(
                {
                    "forecast": forecast,
                    "chart": chart,
                    "backtest": backtest,
                    "horizon_total": round(sum(forecast.mean)),
                    "recent_stockouts": int(hist.stockout[row].sum()),
                }
            )
    pending = ForecastRun.objects.filter(sku=sku, status=ForecastRun.Status.RUNNING).exists()
    terms_form = (
        PurchasingTermsForm(instance=sku)
        if user_can(request.user, Capability.CATALOG_MANAGE)
        else None
    )
    return render(
        request,
        "forecasting/sku.html",
        {
            "sku": sku,
            "panels": panels,
            "pending": pending,
            "terms_form": terms_form,
            "section": "forecast",
            "chart_days": CHART_HISTORY_DAYS,
        },
    )


@capability_required(Capability.FORECAST_RUN)
@require_POST
def sku_recompute(request, code):
    sku = _sku_or_404(code)
    try:
        run = runs.recompute_sku(sku=sku, actor=Actor.for_user(request.user))
    except DomainError as error:
        report_domain_error(request, error)
    else:
        run.refresh_from_db()
        if run.status == ForecastRun.Status.FINISHED:
            messages.success(request, _("Forecast of %(sku)s recomputed.") % {"sku": sku.code})
        else:
            messages.success(
                request,
                _("Forecast of %(sku)s is being recomputed by a worker; reload in a moment.")
                % {"sku": sku.code},
            )
    return redirect("forecasting:sku", code=sku.code)


@capability_required(Capability.CATALOG_MANAGE)
@require_POST
def sku_terms(request, code):
    sku = _sku_or_404(code)
    form = PurchasingTermsForm(request.POST, instance=sku)
    if form.is_valid():
        form.save()
        messages.success(
            request,
            _("Purchasing terms of %(sku)s saved; they count from the next forecast.")
            % {"sku": sku.code},
        )
    else:
        for field, errors in form.errors.items():
            messages.error(request, f"{field}: {' '.join(errors)}")
    return redirect("forecasting:sku", code=sku.code)


@capability_required(Capability.FORECAST_VIEW)
@require_GET
def suggestions(request):
    groups = selectors.suggestion_groups(request.user)
    return render(
        request,
        "forecasting/suggestions.html",
        {"groups": groups, "section": "suggestions"},
    )


CSV_HEADER = [
    "supplier",
    "supplier_name",
    "warehouse",
    "sku",
    "name",
    "suggested_quantity",
    "pack_size",
    "min_order_quantity",
    "on_hand",
    "allocated",
    "on_order",
    "reorder_point",
    "safety_stock",
    "daily_demand",
    "lead_time_days",
    "days_of_cover",
    "stockout_date",
    "at_risk",
    "model",
    "as_of",
]


@capability_required(Capability.FORECAST_VIEW)
@require_GET
def suggestions_csv(request):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="purchase-suggestions-{stamp}.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_HEADER)
    for group in selectors.suggestion_groups(request.user):
        for r in group.rows:
            minimum = r.sku.min_order_quantity
            if minimum is None:
                minimum = r.supplier.min_order_quantity
            writer.writerow(
                [
                    r.supplier.code,
                    r.supplier.name,
                    r.warehouse.code,
                    r.sku.code,
                    r.sku.display_name,
                    r.suggested_quantity,
                    r.sku.pack_size,
                    minimum,
                    r.on_hand,
                    r.allocated,
                    r.open_purchase,
                    r.reorder_point,
                    r.safety_stock,
                    f"{r.daily_demand:.3f}",
                    r.lead_time_days,
                    "" if r.days_of_cover is None else f"{r.days_of_cover:.1f}",
                    r.stockout_date.isoformat() if r.stockout_date else "",
                    "yes" if r.at_risk else "no",
                    r.model,
                    r.as_of.isoformat(),
                ]
            )
    return response


@capability_required(Capability.FORECAST_VIEW)
@require_GET
def accuracy(request):
    board, overall = selectors.scoreboard(request.user)
    worst = selectors.forecasts_for(request.user).filter(mase__isnull=False).order_by("-mase")[:50]
    best = selectors.forecasts_for(request.user).filter(mase__isnull=False).order_by("mase")[:20]
    return render(
        request,
        "forecasting/accuracy.html",
        {"board": board, "overall": overall, "worst": worst, "best": best, "section": "accuracy"},
    )


@capability_required(Capability.FORECAST_RUN)
@require_http_methods(["GET", "POST"])
def settings_page(request):
    current = ForecastSettings.current()
    form = ForecastSettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Forecast settings saved; they count from the next run."))
        return redirect("forecasting:settings")
    return render(request, "forecasting/settings.html", {"form": form, "section": "settings"})


# --- purchase orders ----------------------------------------------------------------------


@capability_required(Capability.PURCHASE_VIEW)
@require_GET
def purchase_list(request):
    orders = selectors.purchase_orders_for(request.user)
    status = request.GET.get("status", "")
    if status in PurchaseOrder.Status.values:
        orders = orders.filter(status=status)
    return render(
        request,
        "forecasting/purchase_list.html",
        {
            "orders": orders[:300],
            "status": status,
            "statuses": PurchaseOrder.Status.choices,
            "section": "purchases",
        },
    )


@capability_required(Capability.PURCHASE_MANAGE)
@require_http_methods(["GET", "POST"])
def purchase_create(request):
    form = PurchaseOrderForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            order = purchasing.create_purchase_order(
                supplier=data["supplier"],
                warehouse=data["warehouse"],
                lines=data["lines"],
                expected_date=data["expected_date"],
                supplier_reference=data["supplier_reference"],
                note=data["note"],
                actor=Actor.for_user(request.user),
            )
        except DomainError as error:
            report_domain_error(request, error)
        else:
            messages.success(request, _("Purchase order %(n)s drafted.") % {"n": order.number})
            return redirect("forecasting:purchase", number=order.number)
    return render(request, "forecasting/purchase_form.html", {"form": form, "section": "purchases"})


@capability_required(Capability.PURCHASE_MANAGE)
@require_POST
def purchase_from_suggestions(request):
    supplier = get_object_or_404(Supplier, pk=request.POST.get("supplier") or 0)
    warehouse = get_object_or_404(
        allowed_warehouses(request.user), pk=request.POST.get("warehouse") or 0
    )
    try:
        order = purchasing.draft_from_suggestions(
            supplier=supplier, warehouse=warehouse, actor=Actor.for_user(request.user)
        )
    except DomainError as error:
        report_domain_error(request, error)
        return redirect("forecasting:suggestions")
    messages.success(
        request,
        _("Purchase order %(n)s drafted from the suggestions: check it and place it.")
        % {"n": order.number},
    )
    return redirect("forecasting:purchase", number=order.number)


def _purchase_or_404(request, number) -> PurchaseOrder:
    return get_object_or_404(selectors.purchase_orders_for(request.user), number=number)


@capability_required(Capability.PURCHASE_VIEW)
@require_GET
def purchase_detail(request, number):
    order = _purchase_or_404(request, number)
    lines = list(order.lines.select_related("sku", "sku__product"))
    can_receive = (
        order.status in PurchaseOrder.OPEN
        and user_can(request.user, Capability.STOCK_CHANGE)
        and allowed_warehouses(request.user).filter(pk=order.warehouse_id).exists()
    )
    return render(
        request,
        "forecasting/purchase_detail.html",
        {
            "order": order,
            "lines": lines,
            "events": order.events.all(),
            "receive_form": ReceiveForm(lines=lines) if can_receive else None,
            "units": sum(line.quantity for line in lines),
            "received": sum(line.received_quantity for line in lines),
            "section": "purchases",
        },
    )


@capability_required(Capability.PURCHASE_MANAGE)
@require_POST
def purchase_place(request, number):
    order = _purchase_or_404(request, number)
    try:
        purchasing.place_purchase_order(order=order, actor=Actor.for_user(request.user))
    except DomainError as error:
        report_domain_error(request, error)
    else:
        messages.success(request, _("%(n)s placed with the supplier.") % {"n": order.number})
    return redirect("forecasting:purchase", number=order.number)


@capability_required(Capability.PURCHASE_MANAGE)
@require_POST
def purchase_cancel(request, number):
    order = _purchase_or_404(request, number)
    try:
        purchasing.cancel_purchase_order(
            order=order, actor=Actor.for_user(request.user), reason=request.POST.get("reason", "")
        )
    except DomainError as error:
        report_domain_error(request, error)
    else:
        messages.success(request, _("%(n)s cancelled.") % {"n": order.number})
    return redirect("forecasting:purchase", number=order.number)


@capability_required(Capability.STOCK_CHANGE)
@require_POST
def purchase_receive(request, number):
    order = _purchase_or_404(request, number)
    lines = list(order.lines.select_related("sku"))
    form = ReceiveForm(request.POST, lines=lines)
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{field}: {' '.join(errors)}")
        return redirect("forecasting:purchase", number=order.number)
    try:
        purchasing.receive_purchase_order(
            order=order,
            quantities=form.quantities(),
            close=form.cleaned_data["close"],
            actor=Actor.for_user(request.user),
        )
    except DomainError as error:
        report_domain_error(request, error)
    else:
        messages.success(request, _("Receipt of %(n)s booked into stock.") % {"n": order.number})
    return redirect(reverse("forecasting:purchase", kwargs={"number": order.number}))
