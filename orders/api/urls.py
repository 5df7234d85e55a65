"""The orders app's part of /api/v1/: orders and sales channels."""

from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("orders", views.OrderViewSet, basename="order")
router.register("channels", views.SalesChannelViewSet, basename="channel")

urlpatterns = router.urls
