from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from . import i18n, views

urlpatterns = [
    # The API first: Django tries the patterns in order, and every include mounted at ""
    # that a path falls through costs the resolver a walk of its patterns.
    path("api/v1/", include("oms_site.api_urls")),
    # The home page, customers and the order list's tools are the orders app's pages.
    path("", include("orders.dashboard_urls")),
    path("login/", auth_views.LoginView.as_view(template_name="login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("language/", i18n.set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    path("settings/", include("oms_site.settings_urls")),
    path("settings/", include("orders.settings_urls")),
    path("orders/", include("orders.urls")),
    path("inventory/forecast/", include("inventory.forecasting.urls")),
    path("", include("orders.money_urls")),
    path("inventory/", include("inventory.urls")),
    path("fulfillment/", include("fulfillment.urls")),
    path("track/", include("fulfillment.tracking_urls")),
    path("track/", include("returns.customer_urls")),
    path("returns/", include("returns.urls")),
    path("hooks/", include("fulfillment.hook_urls")),
    path("marketplaces/", include("marketplaces.urls")),
    path("integrations/", include("marketplaces.webhook_urls")),
    path("callbacks/", include("orders.callback_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
]

handler400 = "oms_site.views.bad_request"
handler403 = "oms_site.views.permission_denied"
handler404 = "oms_site.views.page_not_found"
handler500 = "oms_site.views.server_error"
