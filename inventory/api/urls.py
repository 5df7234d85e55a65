"""The inventory app's part of /api/v1/: SKUs, stock and checkout reservations."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("skus", views.SKUViewSet, basename="sku")
router.register("stock", views.StockViewSet, basename="stock")

urlpatterns = [
    path("reservations/", views.ReservationView.as_view(), name="reservations"),
    path(
        "reservations/<str:token>/",
        views.ReservationDetailView.as_view(),
        name="reservation-detail",
    ),
    *router.urls,
]
