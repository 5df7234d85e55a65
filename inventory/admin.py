from django.contrib import admin

from .models import (
    SKU,
    Bin,
    Product,
    Reservation,
    RoutingSettings,
    StockLevel,
    StockMovement,
    Supplier,
    TaxClass,
    Warehouse,
    WarehouseAccess,
)


class SKUInline(admin.TabularInline):
    model = SKU
    extra = 0


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    search_fields = ["name"]
    list_display = ["name", "brand", "tax_class"]
    list_filter = ["tax_class"]
    inlines = [SKUInline]


@admin.register(SKU)
class SKUAdmin(admin.ModelAdmin):
    list_display = ["code", "product", "name", "price", "currency", "active"]
    search_fields = ["code", "barcode", "product__name"]
    list_filter = ["active"]


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "city", "country", "rank", "active"]


@admin.register(StockLevel)
class StockLevelAdmin(admin.ModelAdmin):
    """Read-only: stock changes only through the services that write the ledger."""

    list_display = ["sku", "warehouse", "on_hand", "allocated", "safety_stock"]
    search_fields = ["sku__code"]
    list_filter = ["warehouse"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StockMovement)
class StockMovementAdmin(StockLevelAdmin):
    list_display = [
        "created_at",
        "sku",
        "warehouse",
        "on_hand_change",
        "allocated_change",
        "reason",
        "reference",
        "actor_label",
    ]
    list_filter = ["reason", "warehouse"]


admin.site.register([TaxClass, Bin, Supplier, Reservation, RoutingSettings, WarehouseAccess])
