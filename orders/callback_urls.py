"""Callbacks from outside systems (payment providers), under /callbacks/."""

from django.urls import path

from .payments.views import provider_callback

app_name = "callbacks"

urlpatterns = [
    path("payments/<slug:gateway>/", provider_callback, name="payment"),
]
