from django.contrib import admin
from rest_framework_api_key.admin import APIKeyModelAdmin

from .models import (
    ApiKey,
    ExchangeRate,
    OutboxEvent,
    StaffProfile,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "role"]
    list_filter = ["role"]


@admin.register(ApiKey)
class ApiKeyAdmin(APIKeyModelAdmin):
    list_display = [*APIKeyModelAdmin.list_display, "scopes", "channel_codes", "last_used_at"]


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "active"]


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    readonly_fields = ["attempted_at", "status_code", "error", "response_excerpt", "duration_ms"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["pk", "subscription", "event", "status", "attempt_count", "next_attempt_at"]
    list_filter = ["status"]
    inlines = [WebhookAttemptInline]


admin.site.register(OutboxEvent)
admin.site.register(ExchangeRate)
