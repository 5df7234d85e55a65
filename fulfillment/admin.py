"""Admin: carriers, their services and box types are set up here; pick lists and
shipments are read-only (they change through the warehouse pages' services)."""

from django.contrib import admin

from .models import (
    CarrierAccount,
    CarrierService,
    PackageType,
    PickList,
    Shipment,
    ShipmentEvent,
    ShipmentLine,
)


class CarrierServiceInline(admin.TabularInline):
    model = CarrierService
    extra = 1


@admin.register(CarrierAccount)
class CarrierAccountAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "active", "test_mode", "poll_tracking"]
    inlines = [CarrierServiceInline]


@admin.register(PackageType)
class PackageTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "length_mm", "width_mm", "height_mm", "tare_weight_grams"]


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ShipmentLineInline(admin.TabularInline):
    model = ShipmentLine
    extra = 0
    can_delete = False
    readonly_fields = ["order_line", "quantity", "quantity_packed"]


class ShipmentEventInline(admin.TabularInline):
    model = ShipmentEvent
    extra = 0
    can_delete = False
    fields = readonly_fields = ["occurred_at", "kind", "to_status", "carrier_status", "message"]


@admin.register(Shipment)
class ShipmentAdmin(ReadOnly):
    list_display = ["number", "order", "status", "warehouse", "carrier_name", "tracking_number"]
    list_filter = ["status", "warehouse", "external"]
    search_fields = ["tracking_number", "order__number"]
    exclude = ["label_pdf"]
    inlines = [ShipmentLineInline, ShipmentEventInline]


@admin.register(PickList)
class PickListAdmin(ReadOnly):
    list_display = ["number", "warehouse", "status", "assigned_to", "created_at"]
    list_filter = ["status", "warehouse"]
