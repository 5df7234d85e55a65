"""Inventory pages: stock, ledger, stock changes, routing settings, warehouses, bins,
suppliers, and CSV import and export.

Views are thin: forms check input, ``inventory.stock`` makes every stock change (with the
signed-in user as actor), ``inventory.services`` saves routing settings, and
``inventory.csv_io`` reads and writes CSV. A refused change (``DomainError``) is shown on
the form, never as a server error.
"""

from django.contrib import messages
from django.db.models import Count
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from oms_site.actors import Actor
from oms_site.errors import DomainError
from oms_site.pages import capability_required, report_domain_error
from oms_site.roles import Capability

from . import csv_io, import_jobs, selectors, services, stock
from .access import check_warehouse_access
from .forms import (
    RULE_DESCRIPTIONS,
    AdjustForm,
    BinForm,
    CountForm,
    ImportApplyForm,
    ImportUploadForm,
    LedgerFilterForm,
    ReceiveForm,
    RoutingSettingsForm,
    SafetyStockForm,
    StockFilterForm,
    SupplierForm,
    TransferForm,
    WarehouseForm,
)
from .models import ImportJob, RoutingRule, RoutingSettings, Supplier, Warehouse

GET_POST = ["GET", "POST"]
# Uploads waiting for their second step, per session: token -> {"kind", "name"}.
PENDING_IMPORTS = "inventory_pending_imports"
MAX_PENDING_IMPORTS = 5


def _with_query(request, **changes) -> str:
    """The current query string with some parameters replaced (None removes one)."""
    query = request.GET.copy()
    for name, value in changes.items():
        query.pop(name, None)
        if value is not None:
            query[name] = value
    return "?" + query.urlencode() if query else "?"


def stock_url_for(sku) -> str:
    return reverse("inventory:stock") + "?" + urlencode({"sku": sku.code})


# --- Stock and ledger ---------------------------------------------------------------------


@capability_required(Capability.STOCK_VIEW)
@require_GET
def stock_list(request):
    form = StockFilterForm(request.GET, user=request.user)
    form.is_valid()
    levels = selectors.stock_levels(user=request.user, **form.filters())
    page = selectors.keyset_page(levels, key=form.cleaned_data.get("after"))
    context = {
        "form": form,
        "page": page,
        "next_url": _with_query(request, after=page.next_key) if page.next_key else None,
        "first_url": _with_query(request, after=None) if request.GET.get("after") else None,
        "threshold": form.filters()["threshold"],
        "section": "stock",
    }
    return render(request, "inventory/stock_list.html", context)


@capability_required(Capability.STOCK_VIEW)
@require_GET
def ledger(request):
    form = LedgerFilterForm(request.GET, user=request.user)
    form.is_valid()
    movements = selectors.ledger(user=request.user, **form.filters())
    page = selectors.keyset_page(movements, key=form.cleaned_data.get("before"), descending=True)
    context = {
        "form": form,
        "page": page,
        "next_url": _with_query(request, before=page.next_key) if page.next_key else None,
        "first_url": _with_query(request, before=None) if request.GET.get("before") else None,
        "section": "ledger",
    }
    return render(request, "inventory/ledger.html", context)


# --- Stock changes ------------------------------------------------------------------------


def _stock_change(request, form_class, *, title, intro, submit, section, apply):
    """GET shows the form (prefilled from the query string); POST makes the change."""
    if request.method == "POST":
        form = form_class(request.POST, user=request.user)
        if form.is_valid():
            try:
                for warehouse in form.warehouses():
                    check_warehouse_access(request.user, warehouse)
                message = apply(form.cleaned_data, Actor.for_user(request.user))
            except DomainError as error:
                form.add_domain_error(error)
            else:
                messages.success(request, message)
                return redirect(stock_url_for(form.cleaned_data["sku"]))
    else:
        initial = {
            name: request.GET[name]
            for name in ("sku", "warehouse", "source", "destination")
            if request.GET.get(name)
        }
        form = form_class(initial=initial, user=request.user)
    context = {"form": form, "title": title, "intro": intro, "submit": submit, "section": section}
    return render(request, "inventory/stock_form.html", context)


@capability_required(Capability.STOCK_CHANGE)
@require_http_methods(GET_POST)
def receive(request):
    def apply(data, actor):
        stock.receive(
            sku=data["sku"],
            warehouse=data["warehouse"],
            quantity=data["quantity"],
            actor=actor,
            reference=data["reference"],
            note=data["note"],
        )
        return _("Received %(quantity)s × %(sku)s at %(warehouse)s.") % {
            "quantity": data["quantity"],
            "sku": data["sku"].code,
            "warehouse": data["warehouse"].code,
        }

    return _stock_change(
        request,
        ReceiveForm,
        title=gettext_lazy("Receive stock"),
        intro=gettext_lazy("Goods in: on hand grows, and backordered orders are served first."),
        submit=gettext_lazy("Receive"),
        section="receive",
        apply=apply,
    )


@capability_required(Capability.STOCK_CHANGE)
@require_http_methods(GET_POST)
def adjust(request):
    def apply(data, actor):
        stock.adjust(
            sku=data["sku"],
            warehouse=data["warehouse"],
            change=data["change"],
            actor=actor,
            note=data["note"],
            reference=data["reference"],
        )
        return _("Adjusted %(sku)s at %(warehouse)s by %(change)s.") % {
            "sku": data["sku"].code,
            "warehouse": data["warehouse"].code,
            "change": f"{data['change']:+}",
        }

    return _stock_change(
        request,
        AdjustForm,
        title=gettext_lazy("Adjust stock"),
        intro=gettext_lazy(
            "Correct on hand for damage, loss or found units. The reason goes in the ledger."
        ),
        submit=gettext_lazy("Adjust"),
        section="adjust",
        apply=apply,
    )


@capability_required(Capability.STOCK_CHANGE)
@require_http_methods(GET_POST)
def transfer(request):
    def apply(data, actor):
        stock.transfer(
            sku=data["sku"],
            source=data["source"],
            destination=data["destination"],
            quantity=data["quantity"],
            actor=actor,
            note=data["note"],
        )
        return _("Moved %(quantity)s × %(sku)s from %(source)s to %(destination)s.") % {
            "quantity": data["quantity"],
            "sku": data["sku"].code,
            "source": data["source"].code,
            "destination": data["destination"].code,
        }

    return _stock_change(
        request,
        TransferForm,
        title=gettext_lazy("Transfer stock"),
        intro=gettext_lazy("Move units from one warehouse to another."),
        submit=gettext_lazy("Transfer"),
        section="transfer",
        apply=apply,
    )


@capability_required(Capability.STOCK_CHANGE)
@require_http_methods(GET_POST)
def count(request):
    def apply(data, actor):
        movement = stock.count(
            sku=data["sku"],
            warehouse=data["warehouse"],
            counted=data["counted"],
            actor=actor,
            note=data["note"],
        )
        where = f"{data['sku'].code} at {data['warehouse'].code}"
        if movement is None:
            return _("Counted %(counted)s of %(where)s: matches on hand, nothing changed.") % {
                "counted": data["counted"],
                "where": where,
            }
        return _("Counted %(counted)s of %(where)s: on hand %(change)s.") % {
            "counted": data["counted"],
            "where": where,
            "change": f"{movement.on_hand_change:+}",
        }

    return _stock_change(
        request,
        CountForm,
        title=gettext_lazy("Cycle count"),
        intro=gettext_lazy("Type what is on the shelf; on hand becomes that number."),
        submit=gettext_lazy("Save count"),
        section="count",
        apply=apply,
    )


@capability_required(Capability.STOCK_CHANGE)
@require_http_methods(GET_POST)
def safety_stock(request):
    def apply(data, actor):
        stock.set_safety_stock(
            sku=data["sku"], warehouse=data["warehouse"], safety_stock=data["safety_stock"]
        )
        return (
            f"Safety stock of {data['sku'].code} at {data['warehouse'].code} "
            f"is now {data['safety_stock']}."
        )

    return _stock_change(
        request,
        SafetyStockForm,
        title=gettext_lazy("Safety stock"),
        intro=gettext_lazy(
            "Units routing keeps back from orders while the safety-stock setting is on."
        ),
        submit=gettext_lazy("Save"),
        section="safety_stock",
        apply=apply,
    )


# --- Routing settings ---------------------------------------------------------------------


@capability_required(Capability.CATALOG_MANAGE)
@require_http_methods(GET_POST)
def routing_settings(request):
    config = RoutingSettings.current()
    if request.method == "POST":
        form = RoutingSettingsForm(request.POST, config=config)
        if form.is_valid():
            try:
                services.update_routing_settings(
                    rule_chain=form.cleaned_data["rule_chain"],
                    respect_safety_stock=form.cleaned_data["respect_safety_stock"],
                    allow_split=form.cleaned_data["allow_split"],
                    allow_dropship=form.cleaned_data["allow_dropship"],
                )
            except DomainError as error:
                report_domain_error(request, error)
            else:
                messages.success(request, _("Routing settings saved."))
                return redirect("inventory:routing")
    else:
        form = RoutingSettingsForm(config=config)
    rules = {rule.value: rule for rule in RoutingRule}
    chain = [
        {"label": rules[value].label, "description": RULE_DESCRIPTIONS[rules[value]]}
        for value in config.rule_chain or []
        if value in rules
    ]
    context = {"form": form, "config": config, "chain": chain, "section": "routing"}
    return render(request, "inventory/routing.html", context)


# --- Warehouses, bins, suppliers ------------------------------------------------------------


@capability_required(Capability.CATALOG_MANAGE)
@require_GET
def warehouse_list(request):
    warehouses = Warehouse.objects.annotate(bin_count=Count("bins")).order_by("rank", "code")
    return render(
        request,
        "inventory/warehouse_list.html",
        {"warehouses": warehouses, "section": "warehouses"},
    )


def _report_geocoding(request, form: WarehouseForm, warehouse: Warehouse) -> None:
    location = form.geocoded
    if location is None:
        return
    if location is False:
        messages.warning(
            request,
            f"No coordinates were found for {warehouse.city}, {warehouse.country.code}: "
            "type them in, or the 'closest' rule ranks this warehouse last.",
        )
        return
    where = f"{location.latitude:.4f}, {location.longitude:.4f}"
    if location.precision == "city":
        messages.info(
            request,
            f"Coordinates filled from the city {location.place} ({where}; precision: city).",
        )
    else:
        messages.warning(
            request,
            f"The city '{warehouse.city}' was not found; coordinates of the capital "
            f"{location.place} were used instead ({where}; precision: country). Type the "
            "coordinates for exact distances.",
        )


def _warehouse_form(request, instance=None):
    if request.method == "POST":
        form = WarehouseForm(request.POST, instance=instance)
        if form.is_valid():
            warehouse = form.save()
            messages.success(request, _("Warehouse %(code)s saved.") % {"code": warehouse.code})
            _report_geocoding(request, form, warehouse)
            return redirect("inventory:warehouses")
    else:
        form = WarehouseForm(instance=instance)
    context = {"form": form, "warehouse": instance, "section": "warehouses"}
    return render(request, "inventory/warehouse_form.html", context)


@capability_required(Capability.CATALOG_MANAGE)
@require_http_methods(GET_POST)
def warehouse_create(request):
    return _warehouse_form(request)


@capability_required(Capability.CATALOG_MANAGE)
@require_http_methods(GET_POST)
def warehouse_edit(request, pk):
    return _warehouse_form(request, get_object_or_404(Warehouse, pk=pk))


@capability_required(Capability.CATALOG_MANAGE)
@require_http_methods(GET_POST)
def bins(request, pk):
    warehouse = get_object_or_404(Warehouse, pk=pk)
    if request.method == "POST":
        form = BinForm(request.POST, warehouse=warehouse)
        if form.is_valid():
            new_bin = form.save()
            messages.success(
                request,
                _("Bin %(bin)s added to %(warehouse)s.")
                % {"bin": new_bin.code, "warehouse": warehouse.code},
            )
            return redirect("inventory:bins", pk=warehouse.pk)
    else:
        form = BinForm(warehouse=warehouse)
    context = {
        "warehouse": warehouse,
        "bins": warehouse.bins.order_by("pick_sequence", "code"),
        "form": form,
        "section": "warehouses",
    }
    return render(request, "inventory/bins.html", context)


@capability_required(Capability.CATALOG_MANAGE)
@require_GET
def supplier_list(request):
    suppliers = Supplier.objects.annotate(sku_count=Count("skus")).order_by("name")
    return render(
        request, "inventory/supplier_list.html", {"suppliers": suppliers, "section": "suppliers"}
    )


def _supplier_form(request, instance=None):
    if request.method == "POST":
        form = SupplierForm(request.POST, instance=instance)
        if form.is_valid():
            supplier = form.save()
            messages.success(request, _("Supplier %(code)s saved.") % {"code": supplier.code})
            return redirect("inventory:suppliers")
    else:
        form = SupplierForm(instance=instance)
    context = {"form": form, "supplier": instance, "section": "suppliers"}
    return render(request, "inventory/supplier_form.html", context)


@capability_required(Capability.CATALOG_MANAGE)
@require_http_methods(GET_POST)
def supplier_create(request):
    return _supplier_form(request)


@capability_required(Capability.CATALOG_MANAGE)
@require_http_methods(GET_POST)
def supplier_edit(request, pk):
    return _supplier_form(request, get_object_or_404(Supplier, pk=pk))


# --- CSV ----------------------------------------------------------------------------------


def _csv_response(lines, filename):
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@capability_required(Capability.STOCK_VIEW)
@require_GET
def export_catalogue(request):
    return _csv_response(csv_io.export_catalogue(), "catalogue.csv")


@capability_required(Capability.STOCK_VIEW)
@require_GET
def export_stock(request):
    return _csv_response(csv_io.export_stock(user=request.user), "stock.csv")


def _remember_upload(request, token, kind, name) -> None:
    pending = dict(request.session.get(PENDING_IMPORTS, {}))
    pending[token] = {"kind": kind, "name": name[:200]}
    while len(pending) > MAX_PENDING_IMPORTS:
        oldest = next(iter(pending))
        csv_io.discard_upload(oldest)
        del pending[oldest]
    request.session[PENDING_IMPORTS] = pending


def _forget_upload(request, token) -> None:
    csv_io.discard_upload(token)
    pending = dict(request.session.get(PENDING_IMPORTS, {}))
    pending.pop(token, None)
    request.session[PENDING_IMPORTS] = pending


@capability_required(Capability.CATALOG_MANAGE)
@require_http_methods(GET_POST)
def import_upload(request):
    """Step 1: upload, then a preview of what the import would do. Nothing is written."""
    context = {"section": "import", "max_rows": csv_io.MAX_ROWS}
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > csv_io.MAX_BYTES:
                form.add_error(
                    "file", f"The file is larger than {csv_io.MAX_BYTES // (1024 * 1024)} MB."
                )
            else:
                content = b"".join(upload.chunks())
                plan = csv_io.plan_import(
                    content, kind=form.cleaned_data["kind"], user=request.user
                )
                token = None
                if not plan.fatal and plan.rows:
                    token = csv_io.store_upload(content)
                    _remember_upload(request, token, plan.kind, upload.name)
                context.update(
                    plan=plan,
                    counts=plan.counts(),
                    filename=upload.name,
                    apply_form=ImportApplyForm(initial={"token": token, "mode": "all"})
                    if token
                    else None,
                )
                return render(request, "inventory/import.html", context)
    else:
        form = ImportUploadForm()
    context["form"] = form
    return render(request, "inventory/import.html", context)


@capability_required(Capability.CATALOG_MANAGE)
@require_POST
def import_apply(request):
    """Step 2: queue the previewed file; a Celery worker imports it in one transaction."""
    form = ImportApplyForm(request.POST)
    pending = request.session.get(PENDING_IMPORTS, {})
    token = form.cleaned_data["token"] if form.is_valid() else None
    content = csv_io.load_upload(token) if token in pending else None
    if content is None:
        messages.error(
            request,
            _("This upload has expired or was already imported: upload the file again."),
        )
        return redirect("inventory:import")
    info = pending[token]
    job = import_jobs.queue_import(
        token=token,
        kind=info["kind"],
        filename=info["name"],
        user=request.user,
        valid_only=form.cleaned_data["mode"] == "valid_only",
    )
    return redirect("inventory:import_job", pk=job.pk)


@capability_required(Capability.CATALOG_MANAGE)
@require_GET
def import_job(request, pk):
    """Step 3: the import's progress, then its result (the page refreshes until done)."""
    job = get_object_or_404(ImportJob, pk=pk, user=request.user)
    context = {"section": "import", "job": job, "filename": job.filename}
    if job.status == ImportJob.Status.DONE:
        result = import_jobs.result_from_dict(job.result)
        context["result"] = result
        if result.applied:
            _forget_upload(request, job.token)
            messages.success(
                request,
                f"Imported {job.filename}: {result.created} created, {result.updated} updated, "
                f"{result.unchanged} unchanged"
                + (f", {len(result.skipped_lines)} rows skipped." if result.errors else "."),
            )
        elif job.token in request.session.get(PENDING_IMPORTS, {}):
            context["apply_form"] = ImportApplyForm(
                initial={"token": job.token, "mode": "valid_only"}
            )
    return render(request, "inventory/import.html", context)
