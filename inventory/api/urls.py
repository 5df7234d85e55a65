"""The inventory app's part of /api/v1/: SKUs, stock and checkout reservations."""

from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("skus", views.SKUViewSet, basename="sku")
router.register("products", views.ProductViewSet, basename="product")
router.register("stock", views.StockViewSet, basename="stock")

urlpatterns = [
    path("reservations/", views.ReservationView.as_view(), name="reservations"),
    re_path(
        r"^reservations/(?P<token>[A-Za-z0-9_-]{1,64})/$",
        views.ReservationDetailView.as_view(),
        name="reservation-detail",
    ),
    *router.urls,
]
