"""Incoming carrier webhooks: /hooks/carriers/<code>/tracking/."""

from django.urls import path

from .views import hooks

app_name = "hooks"

urlpatterns = [
    path("carriers/<slug:code>/tracking/", hooks.carrier_tracking_webhook, name="carrier_tracking"),
]
