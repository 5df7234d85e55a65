"""The order editor: change quantities, add or remove lines and change the shipping
address of an order until picking starts (``orders.services.editing.edit_order``)."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from oms_site.actors import Actor
from oms_site.errors import DomainError, ValidationFailed
from oms_site.money import format_money
from oms_site.pages import capability_required, report_domain_error
from oms_site.roles import Capability

from .access import may_act_on
from .models import Order
from .services import editing
from .services.placement import ADDRESS_FIELDS

NEW_LINE_ROWS = 3
ADDRESS_LABELS = {
    "name": gettext_lazy("Name"),
    "company": gettext_lazy("Company"),
    "line1": gettext_lazy("Address line 1"),
    "line2": gettext_lazy("Address line 2"),
    "city": gettext_lazy("City"),
    "region": gettext_lazy("Region"),
    "postal_code": gettext_lazy("Postal code"),
    "country": gettext_lazy("Country (ISO code)"),
    "phone": gettext_lazy("Phone"),
}


def _whole(text: str):
    text = (text or "").strip()
    return int(text) if text.isdigit() else text


def _changes(post, lines) -> tuple[list, dict | None]:
    """The edit as the service takes it, read from the form; only what was changed."""
    changes = []
    for line in lines:
        raw = post.get(f"qty-{line.pk}", "")
        if not raw.strip():
            continue
        quantity = _whole(raw)
        if quantity != line.quantity:
            changes.append({"line": line.pk, "quantity": quantity})
    for index in range(NEW_LINE_ROWS):
        code = post.get(f"new-sku-{index}", "").strip()
        if code:
            quantity = post.get(f"new-qty-{index}", "").strip() or "1"
            changes.append({"sku": code, "quantity": _whole(quantity)})
    address = {key: post.get(f"addr-{key}", "") for key in ADDRESS_FIELDS}
    return changes, address


@capability_required(Capability.ORDER_EDIT)
def order_edit(request, number):
    order = Order.objects.select_related("channel").filter(number=number).first()
    if order is None:
        raise Http404(_("No order %(number)s.") % {"number": number})
    reason = editing.not_editable_reason(order)
    if reason is None and not may_act_on(request.user, order):
        reason = _("Order %(number)s is not in your warehouses.") % {"number": number}
    if reason is not None:
        messages.error(request, reason)
        return redirect("orders:detail", number=number)
    lines = [line for line in order.lines.order_by("pk") if not editing.is_removed(line)]
    problems, posted = {}, None
    if request.method == "POST":
        posted = request.POST
        changes, address = _changes(request.POST, lines)
        try:
            editing.edit_order(
                order,
                lines=changes,
                shipping_address=address,
                reason=request.POST.get("reason", ""),
                actor=Actor.for_user(request.user),
            )
        except ValidationFailed as exc:
            problems = exc.fields or {"non_field_errors": [exc.message]}
        except DomainError as exc:
            report_domain_error(request, exc)
            return redirect("orders:detail", number=number)
        else:
            messages.success(request, _("Order %(number)s is changed.") % {"number": number})
            return redirect("orders:detail", number=number)
    for line in lines:
        line.unit_price_display = format_money(line.unit_price, order.currency)
        line.line_total_display = format_money(line.line_total, order.currency)
        line.form_quantity = posted.get(f"qty-{line.pk}") if posted else line.quantity
    address = order.shipping_address or {}
    return render(
        request,
        "orders/order_edit.html",
        {
            "order": order,
            "lines": lines,
            "new_rows": [
                {
                    "index": i,
                    "sku": posted.get(f"new-sku-{i}", "") if posted else "",
                    "quantity": posted.get(f"new-qty-{i}", "") if posted else "",
                }
                for i in range(NEW_LINE_ROWS)
            ],
            "address_fields": [
                {
                    "key": key,
                    "label": ADDRESS_LABELS[key],
                    "value": posted.get(f"addr-{key}", "") if posted else address.get(key, ""),
                    "max_length": max_length,
                }
                for key, max_length in ADDRESS_FIELDS.items()
            ],
            "reason": posted.get("reason", "") if posted else "",
            "problems": sorted(problems.items()),
            "grand_total_display": format_money(order.grand_total, order.currency),
        },
    )
