"""Forms of the order pages. They parse what a person typed; the services decide whether
it makes an order (and say why not, which ``attach_domain_errors`` puts beside the fields)."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from inventory.models import Warehouse
from oms_site.errors import ValidationFailed
from oms_site.money import CURRENCY_CHOICES
from oms_site.pages import DateInput

from .models import OrderStatus, SalesChannel

MAX_LINES = 10
VISIBLE_LINES = 3  # the rest sit in a "More lines" fold, open when used


class OrderFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Number, external id, email, name, SKU")}
        ),
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("Any status")), *OrderStatus.choices], required=False
    )
    channel = forms.ModelChoiceField(
        queryset=SalesChannel.objects.only("code", "name").order_by("name"),
        label=_("Channel"),
        to_field_name="code",
        required=False,
        empty_label=_("Any channel"),
    )
    created_from = forms.DateField(label=_("Created from"), required=False, widget=DateInput)
    created_to = forms.DateField(label=_("Created to"), required=False, widget=DateInput)
    warehouse = forms.ModelChoiceField(
        # "city" too: a warehouse's label shows it (a deferred field would cost a query each).
        queryset=Warehouse.objects.only("code", "name", "city").order_by("rank", "code"),
        label=_("Warehouse"),
        to_field_name="code",
        required=False,
        empty_label=_("Any warehouse"),
        help_text=_("Orders with units allocated there."),
    )
    mine = forms.BooleanField(label=_("My warehouses"), required=False)
    tag = forms.CharField(label=_("Tag"), required=False, max_length=40)
    late = forms.BooleanField(label=_("Late to ship"), required=False)
    customer = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[
            ("newest", _("Newest first")),
            ("oldest", _("Oldest first")),
            ("total_desc", _("Total, highest first")),
            ("total_asc", _("Total, lowest first")),
            ("status", _("Status")),
            ("country", _("Ship-to country")),
            ("email", _("Customer e-mail")),
        ],
    )
    # Not filters: how the list is shown (kept in saved views with the filters).
    NOT_FILTERS = ("sort", "cols")

    def __init__(self, *args, warehouse_limited=False, **kwargs):
        super().__init__(*args, **kwargs)
        if not warehouse_limited:
            # Only warehouse staff have "their" warehouses.
            del self.fields["mine"]

    def filters(self) -> dict:
        """The valid filters (an invalid one is shown as an error and ignored)."""
        self.is_valid()
        return {
            key: value
            for key, value in self.cleaned_data.items()
            if value not in ("", None, False) and key not in self.NOT_FILTERS
        }

    def chosen_sort(self) -> str:
        self.is_valid()
        return self.cleaned_data.get("sort") or "newest"

    def has_more_filters(self) -> bool:
        """Any filter beyond the search box is set (the fold opens to show it)."""
        return any(
            self.data.get(name) for name in self.fields if name not in ("q", "sort", "customer")
        )


def list_filters_for(user, params) -> tuple[OrderFilterForm, dict]:
    """The order list's filter form and its valid filters for ``user``, as every list tool
    reads them (the list, its counts, saved views, export and bulk jobs)."""
    from . import access

    form = OrderFilterForm(params, warehouse_limited=access.is_warehouse_limited(user))
    filters = form.filters()
    if filters.pop("mine", False):
        filters["warehouse_ids"] = access.user_warehouse_ids(user)
    return form, filters


# --- actions on one order -----------------------------------------------------------------


class HoldForm(forms.Form):
    reason = forms.CharField(required=False, max_length=300)


class CancelForm(forms.Form):
    reason = forms.CharField(required=False, max_length=300)


class NoteForm(forms.Form):
    text = forms.CharField(required=False, max_length=300, widget=forms.Textarea(attrs={"rows": 2}))


class TagsForm(forms.Form):
    tags = forms.CharField(label=_("Tags"), required=False, max_length=900)


class ShipForm(forms.Form):
    carrier = forms.CharField(required=False, max_length=50)
    tracking_number = forms.CharField(required=False, max_length=100)


class RerouteForm(forms.Form):
    warehouse = forms.ModelChoiceField(
        queryset=Warehouse.objects.all(),
        required=False,
        to_field_name="code",
        empty_label=_("By the routing rules"),
    )


# --- a new order ----------------------------------------------------------------------------


def _country_choices():
    return [("", _("Choose a country")), *((code, name) for code, name in countries)]


class OrderForm(forms.Form):
    channel = forms.ModelChoiceField(
        label=_("Channel"),
        queryset=SalesChannel.objects.filter(active=True).order_by("name"),
        empty_label=None,
    )
    currency = forms.ChoiceField(
        label=_("Currency"),
        choices=[("", _("The channel's currency")), *CURRENCY_CHOICES],
        required=False,
    )
    customer_email = forms.EmailField(label=_("Customer email"), required=False)
    customer_name = forms.CharField(label=_("Customer name"), required=False, max_length=200)
    ship_name = forms.CharField(label=_("Name"), max_length=200)
    line1 = forms.CharField(label=_("Address line 1"), max_length=200)
    line2 = forms.CharField(label=_("Address line 2"), required=False, max_length=200)
    city = forms.CharField(label=_("City"), max_length=100)
    postal_code = forms.CharField(label=_("Postal code"), required=False, max_length=20)
    country = forms.ChoiceField(label=_("Country"), choices=_country_choices)
    shipping_total = forms.DecimalField(
        label=_("Shipping"), required=False, max_digits=14, decimal_places=3, initial=0
    )
    discount = forms.DecimalField(
        label=_("Order discount"),
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=3,
        help_text=_("An amount off the whole order, spread over the lines."),
    )
    warehouse = forms.ModelChoiceField(
        queryset=Warehouse.objects.filter(active=True),
        required=False,
        empty_label=_("Route by the rules"),
        label=_("Warehouse"),
        help_text=_("Pick a warehouse to route the order there by hand."),
    )
    draft = forms.BooleanField(
        label=_("Save as draft"),
        required=False,
        help_text=_("A draft is not routed until submitted."),
    )
    payment_method = forms.ChoiceField(
        label="Payment",
        required=False,
        choices=[
            ("", "Not recorded"),
            ("bank_transfer", "Bank transfer (record when it arrives)"),
            ("invoice", "Invoice (pay later)"),
            ("cash_on_delivery", "Cash on delivery"),
            ("cash", "Paid at the till"),
        ],
    )

    # Where the service's field names land on this page.
    SERVICE_FIELDS = {
        "channel": "channel",
        "currency": "currency",
        "email": "customer_email",
        "shipping_total": "shipping_total",
        "discount": "discount",
        "warehouse": "warehouse",
        "shipping_address.name": "ship_name",
        "shipping_address.line1": "line1",
        "shipping_address.line2": "line2",
        "shipping_address.city": "city",
        "shipping_address.postal_code": "postal_code",
        "shipping_address.country": "country",
    }

    def place_order_arguments(self, formset) -> tuple[dict, list]:
        """Keyword arguments for ``place_order`` and the line forms in the order sent."""
        data = self.cleaned_data
        line_forms = [form for form in formset.forms if form.is_used()]
        lines = []
        for form in line_forms:
            line = {"sku": form.cleaned_data["sku"], "quantity": form.cleaned_data["quantity"]}
            if form.cleaned_data.get("unit_price") is not None:
                line["unit_price"] = form.cleaned_data["unit_price"]
            if form.cleaned_data.get("discount"):
                line["discount"] = form.cleaned_data["discount"]
            lines.append(line)
        email = data.get("customer_email") or ""
        arguments = {
            "channel": data["channel"],
            "currency": data.get("currency") or None,
            "customer": {"email": email, "name": data.get("customer_name") or ""}
            if email
            else None,
            "email": email,
            "shipping_address": {
                "name": data["ship_name"],
                "line1": data["line1"],
                "line2": data.get("line2") or "",
                "city": data["city"],
                "postal_code": data.get("postal_code") or "",
                "country": data["country"],
            },
            "shipping_total": data.get("shipping_total") or 0,
            "discount": data.get("discount") or 0,
            "lines": lines,
            "draft": data.get("draft", False),
            "warehouse": data.get("warehouse"),
            "payment": {"gateway": "manual", "method": data["payment_method"]}
            if data.get("payment_method")
            else None,
        }
        return arguments, line_forms


class LineForm(forms.Form):
    sku = forms.CharField(label=_("SKU"), required=False, max_length=64)
    quantity = forms.IntegerField(label=_("Quantity"), required=False, min_value=1)
    unit_price = forms.DecimalField(
        label=_("Unit price"),
        required=False,
        max_digits=14,
        decimal_places=3,
        help_text=_("Empty: the catalogue price."),
    )
    discount = forms.DecimalField(
        label=_("Discount"), required=False, min_value=0, max_digits=14, decimal_places=3
    )

    def is_used(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return bool(
            data.get("sku")
            or data.get("quantity")
            or data.get("unit_price") is not None
            or data.get("discount")
        )

    def clean(self):
        data = super().clean()
        if self.is_used():
            if not data.get("sku") and "sku" not in self.errors:
                self.add_error("sku", _("Required."))
            if data.get("quantity") is None and "quantity" not in self.errors:
                self.add_error("quantity", _("Required."))
        return data


LineFormSet = forms.formset_factory(
    LineForm, extra=MAX_LINES, max_num=MAX_LINES, absolute_max=MAX_LINES, validate_max=True
)

_LINE_FIELD = re.compile(r"lines\.(\d+)\.(\w+)")


def attach_domain_errors(form, line_forms, error: ValidationFailed) -> list[str]:
    """Put the service's field errors beside the fields they name ("lines.0.sku" on the
    first line's SKU); return the ones that have no field on the page."""
    leftovers = []
    for key, messages in (error.fields or {}).items():
        match = _LINE_FIELD.fullmatch(key)
        if match and int(match[1]) < len(line_forms):
            line_form = line_forms[int(match[1])]
            name = match[2] if match[2] in line_form.fields else None
            line_form.add_error(name, [f"{match[2]}: {m}" if name is None else m for m in messages])
        elif key in form.SERVICE_FIELDS:
            form.add_error(form.SERVICE_FIELDS[key], list(messages))
        else:
            label = key.replace("_", " ").replace(".", " ").capitalize()
            leftovers.append(f"{label}: {' '.join(messages)}")
    if not error.fields:
        leftovers.append(error.message)
    return leftovers


# --- customers --------------------------------------------------------------------------------


class CustomerFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("E-mail, name or phone")}),
    )
    blocked = forms.BooleanField(label=_("Blocked only"), required=False)


class CustomerNotesForm(forms.Form):
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class CustomerMergeForm(forms.Form):
    merge = forms.ModelChoiceField(
        label=_("Merge this customer into the one on this page"),
        queryset=None,
        empty_label=None,
    )

    def __init__(self, *args, candidates=(), **kwargs):
        super().__init__(*args, **kwargs)
        from .models import Customer

        self.fields["merge"].queryset = Customer.objects.filter(
            pk__in=[c.pk for c in candidates]
        ).select_related("channel")
        self.fields["merge"].label_from_instance = lambda c: (
            f"#{c.pk} {c.name or c.email} · {c.channel.name if c.channel else '—'}"
        )
