from django.urls import path

from . import views

app_name = "inventory"
urlpatterns = [
    path("stock/", views.stock_list, name="stock"),
    path("ledger/", views.ledger, name="ledger"),
    path("receive/", views.receive, name="receive"),
    path("adjust/", views.adjust, name="adjust"),
    path("transfer/", views.transfer, name="transfer"),
    path("count/", views.count, name="count"),
    path("safety-stock/", views.safety_stock, name="safety_stock"),
    path("routing/", views.routing_settings, name="routing"),
    path("warehouses/", views.warehouse_list, name="warehouses"),
    path("warehouses/new/", views.warehouse_create, name="warehouse_create"),
    path("warehouses/<int:pk>/", views.warehouse_edit, name="warehouse_edit"),
    path("warehouses/<int:pk>/bins/", views.bins, name="bins"),
    path("suppliers/", views.supplier_list, name="suppliers"),
    path("suppliers/new/", views.supplier_create, name="supplier_create"),
    path("suppliers/<int:pk>/", views.supplier_edit, name="supplier_edit"),
    path("export/catalogue.csv", views.export_catalogue, name="export_catalogue"),
    path("export/stock.csv", views.export_stock, name="export_stock"),
    path("import/", views.import_upload, name="import"),
    path("import/apply/", views.import_apply, name="import_apply"),
    path("import/jobs/<int:pk>/", views.import_job, name="import_job"),
]
