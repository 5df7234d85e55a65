from django.contrib import admin

from .models import Customer, HoldRule, Order, OrderEvent, OrderLine, SalesChannel


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    readonly_fields = [f.name for f in OrderLine._meta.fields]


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    readonly_fields = ["created_at", "kind", "from_status", "to_status", "message", "actor_label"]
    fields = readonly_fields


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """Read-only view for admins: changes go through the dashboard's services."""

    list_display = [
        "number",
        "channel",
        "status",
        "payment_status",
        "grand_total",
        "currency",
        "created_at",
    ]
    list_filter = ["status", "channel"]
    search_fields = ["number", "external_id", "email"]
    inlines = [OrderLineInline, OrderEventInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


admin.site.register([SalesChannel, Customer, HoldRule])
