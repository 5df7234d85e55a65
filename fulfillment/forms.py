"""Forms of the warehouse pages. They check shapes; the services own the rules."""

from django import forms
from django.utils.translation import gettext_lazy as _

from inventory.access import allowed_warehouses

from .models import CarrierAccount, CarrierService, PackageType
from .services.picking import MAX_ORDERS_PER_LIST


class WaveForm(forms.Form):
    warehouse = forms.ModelChoiceField(queryset=None, label=_("Warehouse"))
    max_orders = forms.IntegerField(
        label=_("Orders per list"), min_value=1, max_value=MAX_ORDERS_PER_LIST, initial=20
    )
    max_lines = forms.IntegerField(
        label=_("Lines per list (0: any)"), min_value=0, max_value=10_000, initial=0
    )
    max_lists = forms.IntegerField(
        label=_("Lists to make (0: all)"), min_value=0, max_value=500, initial=1
    )
    ship_by = forms.DateField(
        label=_("Due to ship by"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Orders placed after the warehouse's cut-off are due the next day."),
    )
    priority_only = forms.BooleanField(label=_("Priority / express only"), required=False)
    carrier = forms.ModelChoiceField(
        queryset=CarrierAccount.objects.filter(active=True), required=False, label=_("Carrier")
    )
    single_line_together = forms.BooleanField(
        label=_("Single-line orders on their own lists"), required=False, initial=True
    )
    orders = forms.CharField(
        label=_("Only these orders"),
        required=False,
        max_length=2000,
        help_text=_("Order numbers, separated by spaces or commas."),
    )
    assign_to_me = forms.BooleanField(label=_("Assign to me"), required=False, initial=True)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        warehouses = allowed_warehouses(user).filter(active=True)
        self.fields["warehouse"].queryset = warehouses
        if warehouses.count() == 1:
            self.fields["warehouse"].initial = warehouses.first()

    def order_numbers(self) -> list[str]:
        text = self.cleaned_data.get("orders") or ""
        return [part for part in text.replace(",", " ").split() if part][:500]


class ScanForm(forms.Form):
    code = forms.CharField(max_length=100, strip=True)


class ShortForm(forms.Form):
    line = forms.IntegerField(min_value=1)
    missing = forms.IntegerField(label=_("Units missing"), min_value=1, max_value=100_000)


class PackageForm(forms.Form):
    package_type = forms.ModelChoiceField(
        queryset=PackageType.objects.filter(active=True), required=False, label=_("Box")
    )


class WeightForm(forms.Form):
    package = forms.IntegerField(min_value=1)
    weight_grams = forms.IntegerField(label=_("Weight (g)"), min_value=1, max_value=1_000_000)
    package_type = forms.ModelChoiceField(
        queryset=PackageType.objects.filter(active=True), required=False, label=_("Box")
    )


class ShipForm(forms.Form):
    service = forms.ModelChoiceField(
        queryset=CarrierService.objects.filter(active=True, carrier__active=True).select_related(
            "carrier"
        ),
        label=_("Carrier and service"),
    )
    tracking_number = forms.CharField(
        label=_("Tracking number (own courier)"), required=False, max_length=100
    )
