"""Endpoints the marketplaces call (signed by them, no session): /integrations/..."""

from django.urls import path

from . import views

app_name = "marketplace_webhooks"

urlpatterns = [
    path("shopify/<slug:code>/webhooks", views.shopify_webhook, name="shopify"),
]
