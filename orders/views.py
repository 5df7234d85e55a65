"""Order pages: the list, one order with its actions, and the new-order form.

Views stay thin: they parse the request, call a service in ``orders.services`` and show
the result. A refused action becomes a message on the page, never a 500.
"""

from urllib.parse import quote

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import escape, format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from inventory.models import Warehouse
from inventory.routing import describe_rule
from oms_site.actors import Actor
from oms_site.errors import DomainError, ValidationFailed
from oms_site.money import format_money
from oms_site.pages import capability_required, report_domain_error
from oms_site.roles import Capability, user_can
from oms_site.templatetags.oms_format import format_moment

from . import actions as order_actions
from . import list_tools, page_sections, selectors, services
from .forms import (
    VISIBLE_LINES,
    CancelForm,
    HoldForm,
    LineFormSet,
    NoteForm,
    OrderFilterForm,
    OrderForm,
    RerouteForm,
    ShipForm,
    TagsForm,
    attach_domain_errors,
    list_filters_for,
)
from .models import Order, OrderStatus
from .money_views import money_context
from .services import pricing
from .services import tags as tag_services

STATUS_LABELS = dict(OrderStatus.choices)


def _query(params, **changes) -> str:
    params = params.copy()
    for key in ("after", "before", *changes):
        params.pop(key, None)
    for key, value in changes.items():
        if value not in (None, ""):
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


# Optional columns of the list (the order number and status are always shown).
COLUMNS = [
    ("channel", gettext_lazy("Channel")),
    ("customer", gettext_lazy("Customer")),
    ("ship_to", gettext_lazy("Ship to")),
    ("total", gettext_lazy("Total")),
    ("created", gettext_lazy("Created")),
    ("payment", gettext_lazy("Payment")),
    ("tags", gettext_lazy("Tags")),
]
DEFAULT_COLUMNS = ["channel", "customer", "ship_to", "total", "created"]
# Column -> (sort when clicked, sort when clicked again); None: not sortable.
SORTABLE = {
    "number": ("newest", "oldest"),
    "status": ("status", "status"),
    "customer": ("email", "email"),
    "ship_to": ("country", "country"),
    "total": ("total_desc", "total_asc"),
}


def chosen_columns(params) -> list[str]:
    known = [key for key, _label in COLUMNS]
    # The filter form's tick boxes (col=...), else the list's own setting (cols=a,b).
    chosen = params.getlist("col") or (params.get("cols") or "").split(",")
    wanted = [c for c in known if c in chosen]
    return wanted or list(DEFAULT_COLUMNS)


def _cells(order, columns, list_url) -> list[tuple[str, str]]:
    """The optional cells of one row, built here rather than in the template: fifty rows
    of template conditions cost more than the list's queries."""
    cells = []
    for column in columns:
        if column == "channel":
            cells.append(("hide-sm", escape(order.channel.name)))
        elif column == "customer":
            if order.customer_id:
                customer = order.customer
                html = format_html(
                    '<a href="{}">{}</a>',
                    reverse("customers:detail", args=[order.customer_id]),
                    order.customer_name or customer.name or customer.email,
                )
            else:
                html = escape(order.email or "—")
            cells.append(("break", html))
        elif column == "ship_to":
            city = (order.shipping_address or {}).get("city", "")
            cells.append(("hide-sm", escape(f"{city} {order.ship_to_country}".strip())))
        elif column == "total":
            cells.append(("num", escape(format_money(order.grand_total, order.currency))))
        elif column == "created":
            cells.append(("hide-sm", escape(format_moment(order.created_at))))
        elif column == "payment":
            cells.append(
                (
                    "hide-sm",
                    format_html(
                        '<span class="badge st-{}">{}</span>',
                        order.payment_status,
                        order.get_payment_status_display(),
                    ),
                )
            )
        elif column == "tags":
            cells.append(
                (
                    "hide-sm",
                    format_html_join(
                        " ",
                        '<a class="tag" href="{}?tag={}">{}</a>',
                        ((list_url, quote(tag), tag) for tag in order.tags or []),
                    ),
                )
            )
    return cells


def list_filters(request) -> tuple[OrderFilterForm, dict]:
    """The order list's filter form and its valid filters, as every list tool reads them
    (the list, its counts, saved views, export and bulk actions)."""
    return list_filters_for(request.user, request.GET)


def _header(request, key, label, sort):
    if key not in SORTABLE:
        return {"key": key, "label": label}
    first, second = SORTABLE[key]
    active = sort in (first, second)
    target = second if sort == first and first != second else first
    direction = None
    if active:
        direction = "descending" if sort in ("newest", "total_desc") else "ascending"
    return {
        "key": key,
        "label": label,
        "url": _query(request.GET, sort=None if target == "newest" else target),
        "sort": direction,
    }


@capability_required(Capability.ORDER_VIEW)
@require_GET
def order_list(request):
    form, filters = list_filters(request)
    sort = form.chosen_sort()
    page = selectors.order_list(
        filters=filters,
        after=request.GET.get("after") or None,
        before=request.GET.get("before") or None,
        sort=sort,
    )
    counts = selectors.status_counts(filters=filters)
    status = filters.get("status", "")
    status_links = [
        {
            "label": _("All"),
            "count": sum(counts.values()),
            "url": _query(request.GET, status=None),
            "active": not status,
        }
    ] + [
        {
            "label": label,
            "value": value,
            "count": counts[value],
            "url": _query(request.GET, status=value),
            "active": status == value,
        }
        for value, label in OrderStatus.choices
    ]
    columns = chosen_columns(request.GET)
    list_url = reverse("orders:list")
    for order in page.orders:
        order.url = reverse("orders:detail", args=[order.number])
        order.cells = _cells(order, columns, list_url)
    labels = dict(COLUMNS)
    headers = [
        _header(request, "number", _("Order"), sort),
        _header(request, "status", _("Status"), sort),
    ]
    headers += [_header(request, key, labels[key], sort) for key in columns]
    query = _query(request.GET)[1:]
    return render(
        request,
        "orders/order_list.html",
        {
            "form": form,
            "page": page,
            "status_links": status_links,
            "counts_capped": counts.capped,
            "counts_cap": counts.cap,
            "by_time": sort == "newest",
            "total_count": sum(counts.values()),
            "columns": columns,
            "all_columns": COLUMNS,
            "headers": headers,
            "query": query,
            "saved_views": list_tools.visible_views(request.user),
            "bulk_actions": list_tools.bulk_actions_for(request.user),
            "newer_url": _query(request.GET, before=page.newer_cursor)
            if page.newer_cursor
            else None,
            "older_url": _query(request.GET, after=page.older_cursor)
            if page.older_cursor
            else None,
            "first_url": _query(request.GET),
            "can_export": user_can(request.user, Capability.ORDER_EXPORT),
            "warehouses": Warehouse.objects.filter(active=True).order_by("rank", "code"),
        },
    )


def _available_actions(request, order) -> dict:
    """The buttons to show: name -> whether this user may take that action now."""
    allowed = set(order_actions.allowed_actions(order, actor=Actor.for_user(request.user)))
    return {name: name in allowed for name in order_actions.ACTIONS}


def _decorate_for_display(order):
    def show(amount):
        return format_money(amount, order.currency)

    for name in ("subtotal", "discount_total", "tax_total", "shipping_total", "grand_total"):
        setattr(order, f"{name}_display", show(getattr(order, name)))
    if order.base_grand_total is not None and order.base_currency != order.currency:
        order.base_grand_total_display = format_money(order.base_grand_total, order.base_currency)
    for line in order.lines.all():
        line.unit_price_display = show(line.unit_price)
        line.discount_display = show(line.discount_amount)
        line.tax_display = show(line.tax_amount)
        line.line_total_display = show(line.line_total)
    for event in order.events.all():
        event.from_label = STATUS_LABELS.get(event.from_status, event.from_status)
        event.to_label = STATUS_LABELS.get(event.to_status, event.to_status)


@capability_required(Capability.ORDER_VIEW)
@require_GET
def order_detail(request, number):
    order = selectors.order_detail(number=number)
    if order is None:
        raise Http404(_("No order %(number)s.") % {"number": number})
    _decorate_for_display(order)
    taxes = [
        {
            "label": line.label,
            "net_display": format_money(line.net_amount, order.currency),
            "tax_display": format_money(line.tax_amount, order.currency),
        }
        for line in pricing.tax_lines(order, order.lines.all())
        if line.tax_amount or line.rate
    ]
    actions = _available_actions(request, order)
    decision = order.routing_decision or {}
    return render(
        request,
        "orders/order_detail.html",
        {
            **money_context(request, order),
            "order": order,
            "tax_lines": taxes,
            "actions": actions,
            "any_action": any(actions.values()),
            "decision": decision,
            "decided_by": describe_rule(decision.get("decided_by") or ""),
            "candidates": decision.get("candidates") or [],
            "warehouses": Warehouse.objects.filter(active=True) if actions["reroute"] else [],
            "sections": page_sections.render_sections(request, order),
        },
    )


def _act(request, number, form_class, perform, done):
    """Run one action on an order and go back to its page, with what happened as a message."""
    order = get_object_or_404(Order.objects.only("pk", "number"), number=number)
    form = form_class(request.POST) if form_class else None
    if form is not None and not form.is_valid():
        problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
        messages.error(request, _("Nothing was changed (%(problems)s).") % {"problems": problems})
    else:
        try:
            perform(order, Actor.for_user(request.user), form.cleaned_data if form else {})
        except DomainError as exc:
            report_domain_error(request, exc)
        else:
            messages.success(request, str(done) % {"number": number})
    return redirect("orders:detail", number=number)


@capability_required(Capability.ORDER_MANAGE)
@require_POST
def order_hold(request, number):
    return _act(
        request,
        number,
        HoldForm,
        lambda order, actor, data: services.hold_order(order, reason=data["reason"], actor=actor),
        gettext_lazy("Order %(number)s is on hold."),
    )


@capability_required(Capability.ORDER_MANAGE)
@require_POST
def order_release(request, number):
    return _act(
        request,
        number,
        None,
        lambda order, actor, data: services.release_order(order, actor=actor),
        gettext_lazy("Order %(number)s is released."),
    )


@capability_required(Capability.ORDER_MANAGE)
@require_POST
def order_cancel(request, number):
    return _act(
        request,
        number,
        CancelForm,
        lambda order, actor, data: services.cancel_order(order, reason=data["reason"], actor=actor),
        gettext_lazy("Order %(number)s is cancelled."),
    )


@capability_required(Capability.ORDER_MANAGE)
@require_POST
def order_submit(request, number):
    return _act(
        request,
        number,
        None,
        lambda order, actor, data: services.submit_draft(order, actor=actor),
        gettext_lazy("Draft %(number)s is submitted."),
    )


@capability_required(Capability.ORDER_MANAGE)
@require_POST
def order_note(request, number):
    return _act(
        request,
        number,
        NoteForm,
        lambda order, actor, data: services.add_note(order, text=data["text"], actor=actor),
        gettext_lazy("Note added to %(number)s."),
    )


@capability_required(Capability.ORDER_MANAGE)
@require_POST
def order_tags(request, number):
    return _act(
        request,
        number,
        TagsForm,
        lambda order, actor, data: tag_services.set_tags(
            order, tags=tag_services.clean_tags(data["tags"]), actor=actor
        ),
        gettext_lazy("Tags of %(number)s are saved."),
    )


@capability_required(Capability.ORDER_ROUTE)
@require_POST
def order_reroute(request, number):
    return _act(
        request,
        number,
        RerouteForm,
        lambda order, actor, data: services.reroute_order(
            order, warehouse=data.get("warehouse"), actor=actor
        ),
        gettext_lazy("Order %(number)s is routed again."),
    )


@capability_required(Capability.ORDER_SHIP)
@require_POST
def order_ship(request, number):
    return _act(
        request,
        number,
        ShipForm,
        lambda order, actor, data: services.ship_order(
            order, carrier=data["carrier"], tracking_number=data["tracking_number"], actor=actor
        ),
        gettext_lazy("Order %(number)s is marked shipped."),
    )


@capability_required(Capability.ORDER_SHIP)
@require_POST
def order_deliver(request, number):
    return _act(
        request,
        number,
        None,
        lambda order, actor, data: services.deliver_order(order, actor=actor),
        gettext_lazy("Order %(number)s is marked delivered."),
    )


@capability_required(Capability.ORDER_CREATE)
def order_create(request):
    general_errors = []
    if request.method == "POST":
        form = OrderForm(request.POST)
        formset = LineFormSet(request.POST, prefix="lines")
        if form.is_valid() and formset.is_valid():
            arguments, line_forms = form.place_order_arguments(formset)
            try:
                order = services.place_order(**arguments, actor=Actor.for_user(request.user))
            except ValidationFailed as exc:
                general_errors = attach_domain_errors(form, line_forms, exc)
            except DomainError as exc:
                report_domain_error(request, exc)
            else:
                messages.success(
                    request,
                    _("Order %(number)s is created (%(status)s).")
                    % {"number": order.number, "status": order.get_status_display()},
                )
                return redirect(reverse("orders:detail", args=[order.number]))
    else:
        form = OrderForm()
        formset = LineFormSet(prefix="lines")
    line_forms = list(formset.forms)
    more_lines = line_forms[VISIBLE_LINES:]
    return render(
        request,
        "orders/order_form.html",
        {
            "form": form,
            "formset": formset,
            "first_lines": line_forms[:VISIBLE_LINES],
            "more_lines": more_lines,
            "line_offset": VISIBLE_LINES,
            # Keep the fold open when a line in it has been typed into or has an error.
            "more_open": any(f.is_bound and (f.has_changed() or f.errors) for f in more_lines),
            "general_errors": general_errors,
        },
    )
