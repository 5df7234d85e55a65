"""Customer pages: the list (search, blocked filter) and one customer with their orders,
lifetime value in the base currency, addresses, notes, block/unblock and merging."""

from django.conf import settings
from django.contrib import messages
from django.db.models import Count, OuterRef, Q, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from oms_site.actors import Actor
from oms_site.errors import DomainError
from oms_site.pages import capability_required, report_domain_error
from oms_site.roles import Capability, user_can

from .forms import CustomerFilterForm, CustomerMergeForm, CustomerNotesForm
from .models import Customer, Order, OrderStatus
from .services import customers as customer_services
from .services.reporting import RateBook

PAGE_SIZE = 50
RECENT_ORDERS = 20


def _order_count():
    counts = (
        Order.objects.filter(customer=OuterRef("pk"))
        .order_by()
        .values("customer")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Subquery(counts)


@capability_required(Capability.CUSTOMER_VIEW)
@require_GET
def customer_list(request):
    form = CustomerFilterForm(request.GET)
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    customers = Customer.objects.select_related("channel").filter(merged_into__isnull=True)
    text = (data.get("q") or "").strip()
    if text:
        customers = customers.filter(
            Q(email__istartswith=text) | Q(name__icontains=text) | Q(phone__icontains=text)
        )
    if data.get("blocked"):
        customers = customers.filter(blocked=True)
    try:
        after = int(request.GET.get("after", ""))
    except ValueError:
        after = None
    if after:
        customers = customers.filter(pk__lt=after)
    rows = list(customers.annotate(order_count=_order_count()).order_by("-pk")[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    params = request.GET.copy()
    params.pop("after", None)
    if more:
        params["after"] = rows[-1].pk
    return render(
        request,
        "orders/customers/list.html",
        {
            "form": form,
            "customers": rows,
            "next_url": f"?{params.urlencode()}" if more else None,
            "paged": after is not None,
        },
    )


def lifetime_value(customer) -> dict:
    """Non-cancelled orders' totals in the base currency (each converted with the rate of
    its day, as stored on the order), and per currency as charged."""
    base = settings.OMS_BASE_CURRENCY
    rates = RateBook(base)
    total, unconverted, per_currency = 0, 0, {}
    rows = (
        Order.objects.filter(customer=customer, placed_at__isnull=False)
        .exclude(status=OrderStatus.CANCELLED)
        .values_list("placed_at", "currency", "grand_total", "base_currency", "base_grand_total")
    )
    for placed_at, currency, amount, base_currency, base_total in rows:
        per_currency[currency] = per_currency.get(currency, 0) + amount
        if base_currency == base and base_total is not None:
            total += base_total
            continue
        converted = rates.to_base(amount, currency, placed_at.date())
        if converted is None:
            unconverted += 1
        else:
            total += converted
    return {
        "base_currency": base,
        "total": total,
        "unconverted": unconverted,
        "per_currency": sorted(per_currency.items()),
    }


def _addresses(customer) -> list[dict]:
    seen, addresses = set(), []
    recent = Order.objects.filter(customer=customer).order_by("-pk")
    for address in recent.values_list("shipping_address", flat=True)[:100]:
        key = tuple(sorted((address or {}).items()))
        if address and key not in seen:
            seen.add(key)
            addresses.append(address)
    return addresses[:10]


@capability_required(Capability.CUSTOMER_VIEW)
@require_GET
def customer_detail(request, pk):
    customer = Customer.objects.select_related("channel", "merged_into").filter(pk=pk).first()
    if customer is None:
        raise Http404(_("No customer %(id)s.") % {"id": pk})
    orders = Order.objects.filter(customer=customer)
    stats = orders.aggregate(
        count=Count("pk"),
        cancelled=Count("pk", filter=Q(status=OrderStatus.CANCELLED)),
        returned=Count(
            "pk", filter=Q(status__in=[OrderStatus.RETURNED, OrderStatus.PARTIALLY_RETURNED])
        ),
    )
    recent = list(orders.select_related("channel").order_by("-pk")[:RECENT_ORDERS])
    first_last = orders.order_by("pk").values_list("placed_at", flat=True)
    can_manage = user_can(request.user, Capability.CUSTOMER_MANAGE)
    can_merge = user_can(request.user, Capability.CUSTOMER_MERGE)
    candidates = customer_services.merge_candidates(customer) if can_merge else []
    return render(
        request,
        "orders/customers/detail.html",
        {
            "customer": customer,
            "stats": stats,
            "value": lifetime_value(customer),
            "recent": recent,
            "first_order": first_last.first(),
            "last_order": orders.order_by("-pk").values_list("placed_at", flat=True).first(),
            "addresses": _addresses(customer),
            "all_orders_url": reverse("orders:list") + f"?customer={customer.pk}",
            "can_manage": can_manage,
            "can_merge": can_merge,
            "notes_form": CustomerNotesForm(initial={"notes": customer.notes}),
            "merge_form": CustomerMergeForm(candidates=candidates) if candidates else None,
        },
    )


def _customer_action(request, pk, perform, done):
    customer = get_object_or_404(Customer, pk=pk)
    try:
        result = perform(customer, Actor.for_user(request.user))
    except DomainError as exc:
        report_domain_error(request, exc)
        return redirect("customers:detail", pk=pk)
    messages.success(request, done % {"customer": result})
    return redirect("customers:detail", pk=result.pk)


@capability_required(Capability.CUSTOMER_MANAGE)
@require_POST
def customer_notes(request, pk):
    form = CustomerNotesForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            _("The notes were not saved: %(errors)s")
            % {"errors": " ".join(e for errors in form.errors.values() for e in errors)},
        )
        return redirect("customers:detail", pk=pk)
    return _customer_action(
        request,
        pk,
        lambda customer, actor: customer_services.set_customer_notes(
            customer, notes=form.cleaned_data["notes"], actor=actor
        ),
        _("Notes of %(customer)s are saved."),
    )


@capability_required(Capability.CUSTOMER_MANAGE)
@require_POST
def customer_block(request, pk):
    reason = (request.POST.get("reason") or "")[:300]
    return _customer_action(
        request,
        pk,
        lambda customer, actor: customer_services.block_customer(
            customer, actor=actor, reason=reason
        ),
        _("%(customer)s is blocked: new orders are held."),
    )


@capability_required(Capability.CUSTOMER_MANAGE)
@require_POST
def customer_unblock(request, pk):
    return _customer_action(
        request,
        pk,
        lambda customer, actor: customer_services.unblock_customer(customer, actor=actor),
        _("%(customer)s is unblocked."),
    )


@capability_required(Capability.CUSTOMER_MERGE)
@require_POST
def customer_merge(request, pk):
    keep = get_object_or_404(Customer, pk=pk)
    form = CustomerMergeForm(request.POST, candidates=customer_services.merge_candidates(keep))
    if not form.is_valid():
        messages.error(request, _("Choose a customer with the same e-mail to merge."))
        return redirect("customers:detail", pk=pk)
    return _customer_action(
        request,
        pk,
        lambda customer, actor: customer_services.merge_customers(
            keep=customer, merge=form.cleaned_data["merge"], actor=actor
        ),
        _("Merged into %(customer)s: its orders are here now."),
    )
