"""/api/v1/: each app mounts its own API here (included by name, so the base layer never
imports the apps above it)."""

from django.urls import include, path

urlpatterns = [
    path("", include("inventory.api.urls")),
    path("", include("orders.api.urls")),
]
