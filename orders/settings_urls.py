"""The orders app's settings pages, mounted under /settings/ beside the base layer's."""

from django.urls import path

from . import money_views
from . import settings_views as views

app_name = "order_settings"

urlpatterns = [
    path("channels/", views.channel_list, name="channels"),
    path("channels/new/", views.channel_edit, name="channel_create"),
    path("channels/<int:pk>/", views.channel_edit, name="channel_edit"),
    path("hold-rules/", views.hold_rules, name="hold_rules"),
    path("tax/", views.tax_rules, name="tax"),
    path("invoicing/", money_views.invoice_settings, name="invoicing"),
    path("tax/rates/<int:pk>/delete/", views.tax_rate_delete, name="tax_rate_delete"),
]
