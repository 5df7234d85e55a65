"""The customer's tracking page: /track/<token>/."""

from django.urls import path

from .views import tracking

app_name = "tracking"

urlpatterns = [
    path("<str:token>/", tracking.tracking_page, name="page"),
]
