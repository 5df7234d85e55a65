from django.urls import path

from . import views

app_name = "forecasting"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("run/", views.run_now, name="run"),
    path("runs/<int:pk>/progress/", views.run_progress, name="progress"),
    path("sku/<str:code>/", views.sku_detail, name="sku"),
    path("sku/<str:code>/recompute/", views.sku_recompute, name="sku_recompute"),
    path("sku/<str:code>/terms/", views.sku_terms, name="sku_terms"),
    path("suggestions/", views.suggestions, name="suggestions"),
    path("suggestions.csv", views.suggestions_csv, name="suggestions_csv"),
    path("accuracy/", views.accuracy, name="accuracy"),
    path("settings/", views.settings_page, name="settings"),
    path("purchase-orders/", views.purchase_list, name="purchases"),
    path("purchase-orders/new/", views.purchase_create, name="purchase_create"),
    path(
        "purchase-orders/from-suggestions/",
        views.purchase_from_suggestions,
        name="purchase_from_suggestions",
    ),
    path("purchase-orders/<str:number>/", views.purchase_detail, name="purchase"),
    path("purchase-orders/<str:number>/place/", views.purchase_place, name="purchase_place"),
    path("purchase-orders/<str:number>/cancel/", views.purchase_cancel, name="purchase_cancel"),
    path("purchase-orders/<str:number>/receive/", views.purchase_receive, name="purchase_receive"),
]
