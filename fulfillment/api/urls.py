"""The fulfillment app's part of /api/v1/: shipments and pick lists."""

from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("shipments", views.ShipmentViewSet, basename="shipment")
router.register("pick-lists", views.PickListViewSet, basename="pick-list")

urlpatterns = router.urls
