"""The order list's tools: saved views, bulk actions (start, progress, results) and export.
Views stay thin: the list's filters come from ``forms.list_filters_for`` (so every tool
acts on exactly the orders the list shows) and the work is in services."""

from django.contrib import messages
from django.http import FileResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from oms_site.errors import DomainError
from oms_site.pages import capability_required, report_domain_error
from oms_site.roles import Capability

from . import export, list_tools
from .dashboard_models import BulkJob, BulkJobItem, SavedView
from .forms import list_filters_for
from .selectors import _filtered
from .services import bulk_jobs

RESULTS_PAGE = 200


def _back_to_list(request, query: str = ""):
    return redirect(reverse("orders:list") + (f"?{query}" if query else ""))


@capability_required(Capability.ORDER_VIEW)
@require_POST
def view_save(request):
    query = request.POST.get("query", "")
    try:
        view = list_tools.save_view(
            owner=request.user,
            name=request.POST.get("name", ""),
            query=query,
            shared=bool(request.POST.get("shared")),
        )
    except DomainError as exc:
        report_domain_error(request, exc)
        return _back_to_list(request, list_tools.clean_query(query))
    messages.success(request, _("View “%(name)s” is saved.") % {"name": view.name})
    return _back_to_list(request, view.query)


@capability_required(Capability.ORDER_VIEW)
@require_POST
def view_delete(request, pk):
    view = get_object_or_404(SavedView.objects.select_related("owner"), pk=pk)
    try:
        list_tools.delete_view(view=view, user=request.user)
    except DomainError as exc:
        report_domain_error(request, exc)
    else:
        messages.success(request, _("View “%(name)s” is deleted.") % {"name": view.name})
    return _back_to_list(request)


@capability_required(Capability.ORDER_VIEW)
@require_POST
def bulk_start(request):
    """Start a bulk action on the ticked orders, or on every order the filter matches."""
    query = request.POST.get("query", "")
    scope = request.POST.get("scope", "selected")
    try:
        ids = None
        if scope == "selected":
            try:
                ids = [int(i) for i in request.POST.getlist("ids")]
            except ValueError:
                ids = []
        job = bulk_jobs.start_bulk_job(
            action_key=request.POST.get("action", ""),
            raw_params=request.POST,
            user=request.user,
            order_ids=ids,
            query=list_tools.clean_query(query) if ids is None else None,
        )
    except DomainError as exc:
        report_domain_error(request, exc)
        return _back_to_list(request, list_tools.clean_query(query))
    return redirect("orders:bulk_job", pk=job.pk)


def _job_for(request, pk) -> BulkJob:
    job = get_object_or_404(BulkJob.objects.select_related("created_by"), pk=pk)
    return job


def _job_state(job) -> dict:
    return {
        "id": job.pk,
        "status": job.status,
        "status_label": job.get_status_display(),
        "total": job.total,
        "processed": job.processed,
        "succeeded": job.succeeded,
        "refused": job.refused,
        "percent": job.percent,
        "finished": job.finished,
        "message": job.error,
    }


@capability_required(Capability.ORDER_VIEW)
@require_GET
def bulk_job(request, pk):
    job = _job_for(request, pk)
    show = request.GET.get("show", "")
    items = job.items.select_related("order").order_by("pk")
    if show in (BulkJobItem.Outcome.DONE, BulkJobItem.Outcome.REFUSED):
        items = items.filter(outcome=show)
    return render(
        request,
        "orders/bulk_job.html",
        {
            "job": job,
            "state": _job_state(job),
            "label": _action_label(job.action),
            "items": list(items[:RESULTS_PAGE]),
            "more_items": items.count() > RESULTS_PAGE if job.total > RESULTS_PAGE else False,
            "show": show,
        },
    )


def _action_label(key: str) -> str:
    from . import bulk

    try:
        return str(bulk.get(key).label)
    except DomainError:
        return key


@capability_required(Capability.ORDER_VIEW)
@require_GET
def bulk_job_status(request, pk):
    return JsonResponse(_job_state(_job_for(request, pk)))


@capability_required(Capability.ORDER_EXPORT)
@require_GET
def order_export(request):
    """The list as it is filtered: ?format=csv|xlsx&rows=orders|lines plus the filters.
    With ids (from the bulk form) only those orders."""
    _form, filters = list_filters_for(request.user, request.GET)
    orders = _filtered(filters)
    ids = [int(i) for i in request.GET.getlist("ids") if i.isdigit()]
    if ids:
        orders = orders.filter(pk__in=ids)
    per_line = request.GET.get("rows") == "lines"
    if request.GET.get("format") == "xlsx":
        handle = export.xlsx_file(orders, per_line=per_line)
        return FileResponse(
            handle,
            as_attachment=True,
            filename=export.filename(per_line, "xlsx"),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response = StreamingHttpResponse(
        export.csv_stream(orders, per_line=per_line), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{export.filename(per_line, "csv")}"'
    return response
