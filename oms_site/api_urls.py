"""/api/v1/: one router for every app's API."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from inventory.api import views as inventory_api
from orders.api import views as orders_api

router = DefaultRouter()
router.register("orders", orders_api.OrderViewSet, basename="order")
router.register("channels", orders_api.SalesChannelViewSet, basename="channel")
router.register("skus", inventory_api.SKUViewSet, basename="sku")
router.register("stock", inventory_api.StockViewSet, basename="stock")

urlpatterns = [
    path("reservations/", inventory_api.ReservationView.as_view(), name="reservations"),
    path(
        "reservations/<str:token>/",
        inventory_api.ReservationDetailView.as_view(),
        name="reservation-detail",
    ),
    *router.urls,
]
