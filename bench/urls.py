"""The product's URLs plus the bare baseline view (/bench/bare-orders/), for benchmarks only."""

from django.urls import include, path

from . import bare_view

urlpatterns = [
    path("bench/bare-orders/", bare_view.bare_create_order),
    path("", include("oms_site.urls")),
]
