"""Forms of the inventory pages. They check input and resolve codes to objects; the stock
changes themselves happen in ``inventory.stock``, called by the views."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from oms_site.errors import DomainError
from oms_site.pages import DateInput

from . import geocoding
from .models import (
    SKU,
    Bin,
    MovementReason,
    RoutingRule,
    RoutingSettings,
    Supplier,
    Warehouse,
)
from .selectors import LOW_STOCK_THRESHOLD, visible_warehouses

# What each routing rule means, for the merchant reading the settings page.
RULE_DESCRIPTIONS = {
    RoutingRule.SHIP_COMPLETE: (
        "A warehouse that can ship every unit still needed beats one that cannot; between "
        "partial ones, the one with more units wins, so orders are split as little as possible."
    ),
    RoutingRule.CLOSEST: (
        "The warehouse nearest to the delivery address (straight-line distance) wins; "
        "warehouses without coordinates come last."
    ),
    RoutingRule.RANK: "The warehouse with the lower rank number (set on each warehouse) wins.",
    RoutingRule.MOST_AVAILABLE: "The warehouse with more of the needed units on the shelf wins.",
}


class SKUCodeField(forms.CharField):
    """A SKU typed or scanned by its code; cleans to the ``SKU``."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("label", "SKU code")
        kwargs.setdefault(
            "widget",
            forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
        )
        super().__init__(**kwargs)

    def clean(self, value):
        code = super().clean(value)
        if not code:
            return None
        sku = SKU.objects.select_related("product").filter(code=code).first()
        if sku is None:
            sku = SKU.objects.select_related("product").filter(code__iexact=code).first()
        if sku is None:
            raise ValidationError("Unknown SKU code '%(code)s'.", params={"code": code})
        return sku


class WarehouseChoiceField(forms.ModelChoiceField):
    default_error_messages = {
        "invalid_choice": "Unknown warehouse, or not one of your warehouses.",
    }

    def label_from_instance(self, obj):
        return f"{obj.code} — {obj.name}"


class StockChangeForm(forms.Form):
    """Base of the stock forms: the SKU and the warehouse choices the user may act on."""

    # Domain error fields that a form shows under another name (e.g. quantity -> change).
    error_field_aliases: dict = {}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        choices = visible_warehouses(user)
        only = list(choices[:2])
        for name, field in self.fields.items():
            if isinstance(field, WarehouseChoiceField):
                field.queryset = choices
                # Someone with one warehouse should not have to choose it every time.
                if len(only) == 1 and name != "destination" and not self.is_bound:
                    self.initial.setdefault(name, only[0].pk)

    def warehouses(self) -> list[Warehouse]:
        """The warehouses the change touches (each is access-checked by the view)."""
        return [value for value in self.cleaned_data.values() if isinstance(value, Warehouse)]

    def add_domain_error(self, error: DomainError) -> None:
        """Show a refused change: its message at the top, its field messages in place."""
        self.add_error(None, error.message)
        for name, messages in (error.fields or {}).items():
            name = self.error_field_aliases.get(name, name)
            if name in self.fields:
                for message in messages:
                    self.add_error(name, message)


class ReceiveForm(StockChangeForm):
    sku = SKUCodeField()
    warehouse = WarehouseChoiceField(queryset=Warehouse.objects.none())
    quantity = forms.IntegerField(min_value=1, help_text=_("Units received."))
    reference = forms.CharField(
        max_length=100, required=False, help_text=_("e.g. the purchase order, PO-77.")
    )
    note = forms.CharField(max_length=300, required=False)


class AdjustForm(StockChangeForm):
    error_field_aliases = {"quantity": "change"}

    sku = SKUCodeField()
    warehouse = WarehouseChoiceField(queryset=Warehouse.objects.none())
    change = forms.IntegerField(
        help_text=_("Units to add (e.g. 3) or remove (e.g. -2) from on hand."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    note = forms.CharField(
        max_length=300, label=_("Reason"), help_text=_("Why: damaged, found, miscounted...")
    )
    reference = forms.CharField(max_length=100, required=False)

    def clean_change(self):
        change = self.cleaned_data["change"]
        if change == 0:
            raise ValidationError(_("Must not be zero."))
        return change

    def clean_note(self):
        note = self.cleaned_data["note"].strip()
        if not note:
            raise ValidationError(_("Say why stock is adjusted."))
        return note


class TransferForm(StockChangeForm):
    error_field_aliases = {"sku": "source"}

    sku = SKUCodeField()
    source = WarehouseChoiceField(queryset=Warehouse.objects.none(), label=_("From"))
    destination = WarehouseChoiceField(queryset=Warehouse.objects.none(), label=_("To"))
    quantity = forms.IntegerField(min_value=1)
    note = forms.CharField(max_length=300, required=False)

    def clean(self):
        cleaned = super().clean()
        source, destination = cleaned.get("source"), cleaned.get("destination")
        if source is not None and source == destination:
            self.add_error("destination", _("Must differ from the source warehouse."))
        return cleaned


class CountForm(StockChangeForm):
    sku = SKUCodeField()
    warehouse = WarehouseChoiceField(queryset=Warehouse.objects.none())
    counted = forms.IntegerField(min_value=0, help_text=_("Units on the shelf right now."))
    note = forms.CharField(max_length=300, required=False)


class SafetyStockForm(StockChangeForm):
    sku = SKUCodeField()
    warehouse = WarehouseChoiceField(queryset=Warehouse.objects.none())
    safety_stock = forms.IntegerField(
        min_value=0, help_text=_("Units routing keeps back when the safety-stock rule is on.")
    )


# --- Lists --------------------------------------------------------------------------------


class StockFilterForm(forms.Form):
    q = forms.CharField(required=False, label=_("SKU code or name"))
    sku = forms.CharField(required=False, widget=forms.HiddenInput)
    warehouse = WarehouseChoiceField(
        queryset=Warehouse.objects.none(), required=False, empty_label=_("All warehouses")
    )
    product = forms.CharField(required=False)
    low_stock = forms.BooleanField(required=False, label=_("Low stock only"))
    threshold = forms.IntegerField(
        required=False,
        min_value=0,
        label=_("Low at or below"),
        widget=forms.NumberInput(attrs={"placeholder": LOW_STOCK_THRESHOLD, "size": 4}),
    )
    active = forms.BooleanField(required=False, label=_("Active SKUs only"))
    after = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["warehouse"].queryset = visible_warehouses(user)

    def filters(self) -> dict:
        """Selector arguments from the fields that are valid (a bad one is just left out)."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        threshold = data.get("threshold")
        return {
            "search": (data.get("q") or "").strip(),
            "sku_code": (data.get("sku") or "").strip(),
            "warehouse": data.get("warehouse"),
            "product": (data.get("product") or "").strip(),
            "low_stock": bool(data.get("low_stock")),
            "threshold": LOW_STOCK_THRESHOLD if threshold is None else threshold,
            "active_only": bool(data.get("active")),
        }


class LedgerFilterForm(forms.Form):
    sku = forms.CharField(required=False, label=_("SKU code"))
    warehouse = WarehouseChoiceField(
        queryset=Warehouse.objects.none(), required=False, empty_label=_("All warehouses")
    )
    reason = forms.ChoiceField(
        required=False, choices=[("", "any reason"), *MovementReason.choices]
    )
    reference = forms.CharField(required=False)
    date_from = forms.DateField(required=False, label=_("From"), widget=DateInput)
    date_to = forms.DateField(required=False, label=_("To"), widget=DateInput)
    before = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["warehouse"].queryset = visible_warehouses(user)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("Must not be before the start date."))
            cleaned.pop("date_to", None)
        return cleaned

    def filters(self) -> dict:
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return {
            "sku_code": (data.get("sku") or "").strip(),
            "warehouse": data.get("warehouse"),
            "reason": data.get("reason") or "",
            "reference": (data.get("reference") or "").strip(),
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
        }


# --- Routing ------------------------------------------------------------------------------


class RoutingSettingsForm(forms.Form):
    """One position and one on/off switch per rule; the chain is the enabled rules by
    position."""

    respect_safety_stock = forms.BooleanField(
        required=False, help_text=_("Keep each warehouse's safety stock back from orders.")
    )
    allow_split = forms.BooleanField(
        required=False, help_text=_("Split an order across warehouses when none has everything.")
    )
    allow_dropship = forms.BooleanField(
        required=False, help_text=_("Let a drop-shipping supplier ship what no warehouse can.")
    )

    def __init__(self, *args, config: RoutingSettings, **kwargs):
        super().__init__(*args, **kwargs)
        chain = list(config.rule_chain or [])
        rules = list(RoutingRule)
        for rule in rules:
            enabled = rule.value in chain
            position = chain.index(rule.value) + 1 if enabled else len(chain) + 1
            self.fields[f"position_{rule.value}"] = forms.IntegerField(
                min_value=1,
                max_value=len(rules),
                initial=position,
                label=_("Position"),
                widget=forms.NumberInput(attrs={"size": 3}),
            )
            self.fields[f"enabled_{rule.value}"] = forms.BooleanField(
                required=False, initial=enabled, label=_("Enabled")
            )
        self.initial.setdefault("respect_safety_stock", config.respect_safety_stock)
        self.initial.setdefault("allow_split", config.allow_split)
        self.initial.setdefault("allow_dropship", config.allow_dropship)

    def rule_rows(self):
        """Per rule: the rule, its description and its two bound fields, for the template."""
        return [
            {
                "value": rule.value,
                "label": rule.label,
                "description": RULE_DESCRIPTIONS[rule],
                "position": self[f"position_{rule.value}"],
                "enabled": self[f"enabled_{rule.value}"],
            }
            for rule in RoutingRule
        ]

    def clean(self):
        cleaned = super().clean()
        chosen = []
        for rule in RoutingRule:
            position = cleaned.get(f"position_{rule.value}")
            if cleaned.get(f"enabled_{rule.value}") and position is not None:
                chosen.append((position, rule.value))
        if not chosen:
            raise ValidationError(_("Enable at least one rule."))
        positions = [position for position, _ in chosen]
        if len(set(positions)) != len(positions):
            raise ValidationError(_("Give each enabled rule its own position."))
        cleaned["rule_chain"] = [rule for _, rule in sorted(chosen)]
        return cleaned


# --- Places and suppliers ------------------------------------------------------------------


class WarehouseForm(forms.ModelForm):
    ships_to_countries = forms.CharField(
        required=False,
        label=_("Ships to countries"),
        help_text=_("Comma-separated ISO codes, e.g. DE, AT, CH. Empty means everywhere."),
    )

    class Meta:
        model = Warehouse
        fields = [
            "code",
            "name",
            "address_line1",
            "city",
            "postal_code",
            "country",
            "rank",
            "ships_to_countries",
            "cutoff_time",
            "accepts_returns",
            "active",
            "latitude",
            "longitude",
        ]
        labels = {"address_line1": "Address line", "cutoff_time": "Cut-off time"}
        help_texts = {
            "latitude": "Leave latitude and longitude empty to look them up from the city.",
        }
        widgets = {
            "cutoff_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "latitude": forms.NumberInput(attrs={"step": "any"}),
            "longitude": forms.NumberInput(attrs={"step": "any"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Filled by clean() when the coordinates were looked up: a geocoding.Location, or
        # False when nothing was found.
        self.geocoded = None
        self.initial["ships_to_countries"] = ", ".join(self.instance.ships_to_countries or [])

    def clean_ships_to_countries(self):
        raw = self.cleaned_data.get("ships_to_countries") or ""
        codes = []
        for part in raw.replace(";", ",").replace(" ", ",").split(","):
            code = part.strip().upper()
            if code and code not in codes:
                codes.append(code)
        unknown = [code for code in codes if code not in countries]
        if unknown:
            raise ValidationError(
                "Not ISO country codes: %(codes)s.", params={"codes": ", ".join(unknown)}
            )
        return codes

    def clean(self):
        cleaned = super().clean()
        latitude, longitude = cleaned.get("latitude"), cleaned.get("longitude")
        if self.errors.get("latitude") or self.errors.get("longitude"):
            return cleaned
        if (latitude is None) != (longitude is None):
            raise ValidationError(_("Enter both latitude and longitude, or leave both empty."))
        country = cleaned.get("country")
        if latitude is None and country:
            location = geocoding.locate(str(country), cleaned.get("city") or "")
            self.geocoded = location or False
            if location:
                cleaned["latitude"], cleaned["longitude"] = location.latitude, location.longitude
        return cleaned


class BinForm(forms.ModelForm):
    class Meta:
        model = Bin
        fields = ["code", "pick_sequence"]
        help_texts = {"pick_sequence": "Pickers walk bins in this order (lowest first)."}

    def __init__(self, *args, warehouse: Warehouse, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.warehouse = warehouse
        self.fields["pick_sequence"].required = False

    def clean_pick_sequence(self):
        sequence = self.cleaned_data.get("pick_sequence")
        return 0 if sequence is None else sequence

    def clean_code(self):
        code = self.cleaned_data["code"].strip()
        if Bin.objects.filter(warehouse=self.instance.warehouse, code=code).exists():
            raise ValidationError(
                "This warehouse already has a bin '%(code)s'.", params={"code": code}
            )
        return code


class SupplierForm(forms.ModelForm):
    class Meta:
        model = Supplier
        fields = [
            "code",
            "name",
            "email",
            "drop_ships",
            "lead_time_days",
            "lead_time_std_days",
            "min_order_quantity",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Purchasing terms are optional on the form: blank keeps the model's default.
        self.fields["lead_time_std_days"].required = False
        self.fields["min_order_quantity"].required = False

    def clean_lead_time_std_days(self):
        value = self.cleaned_data.get("lead_time_std_days")
        return (
            value if value is not None else Supplier._meta.get_field("lead_time_std_days").default
        )

    def clean_min_order_quantity(self):
        value = self.cleaned_data.get("min_order_quantity")
        return (
            value if value is not None else Supplier._meta.get_field("min_order_quantity").default
        )


# --- CSV import ---------------------------------------------------------------------------


class ImportUploadForm(forms.Form):
    file = forms.FileField(label=_("CSV file"), help_text=_("UTF-8, comma or semicolon separated."))
    kind = forms.ChoiceField(
        label=_("Contents"),
        choices=[
            ("auto", "Detect from the header"),
            ("catalogue", "Catalogue (products and SKUs)"),
            ("stock", "Stock levels"),
        ],
        initial="auto",
    )


class ImportApplyForm(forms.Form):
    token = forms.RegexField(regex=r"^[A-Za-z0-9_-]{20,64}$", widget=forms.HiddenInput)
    mode = forms.ChoiceField(
        choices=[
            ("all", "Import only if every row is valid"),
            ("valid_only", "Import the valid rows only, skip the bad ones"),
        ],
        initial="all",
        widget=forms.RadioSelect,
    )
