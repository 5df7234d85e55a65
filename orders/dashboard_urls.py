"""The dashboard's pages beyond single orders: the home page and the customers."""

from django.urls import include, path

from . import customer_views, home_views

customer_patterns = (
    [
        path("", customer_views.customer_list, name="list"),
        path("<int:pk>/", customer_views.customer_detail, name="detail"),
        path("<int:pk>/notes/", customer_views.customer_notes, name="notes"),
        path("<int:pk>/block/", customer_views.customer_block, name="block"),
        path("<int:pk>/unblock/", customer_views.customer_unblock, name="unblock"),
        path("<int:pk>/merge/", customer_views.customer_merge, name="merge"),
    ],
    "customers",
)

urlpatterns = [
    path("", home_views.home, name="home"),
    path("customers/", include(customer_patterns)),
]
