"""Marketplace pages under /marketplaces/ and the marketplaces' webhook endpoints."""

from django.urls import path

from . import views

app_name = "marketplaces"

urlpatterns = [
    path("", views.health_list, name="health"),
    path("runs/<int:pk>/", views.run_detail, name="run"),
    path("failures/<int:pk>/replay/", views.failure_replay, name="failure_replay"),
    path("failures/<int:pk>/ignore/", views.failure_ignore, name="failure_ignore"),
    path("shipments/<int:pk>/retry/", views.shipment_retry, name="shipment_retry"),
    path("<slug:code>/", views.channel_detail, name="channel"),
    path("<slug:code>/sync/", views.sync_now, name="sync_now"),
    path("<slug:code>/credentials/", views.credentials, name="credentials"),
]
