"""/api/v1/: each app mounts its own API here (included by name, so the base layer never
imports the apps above it)."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from .api_webhooks import WebhookSubscriptionViewSet

router = SimpleRouter()
router.register("webhooks", WebhookSubscriptionViewSet, basename="webhook")

urlpatterns = [
    # Orders first: the busiest endpoint should not walk the others' patterns.
    path("", include("orders.api.urls")),
    *router.urls,
    path("", include("inventory.api.urls")),
    path("", include("fulfillment.api.urls")),
    path("", include("returns.api.urls")),
]
