"""The returns app's part of /api/v1/."""

from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("returns", views.ReturnViewSet, basename="return")

urlpatterns = router.urls
