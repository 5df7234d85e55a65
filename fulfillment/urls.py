"""Warehouse pages: /fulfillment/."""

from django.urls import path

from .views import pages

app_name = "fulfillment"

urlpatterns = [
    path("", pages.home, name="home"),
    path("pick-lists/", pages.pick_list_index, name="pick_lists"),
    path("pick-lists/new/", pages.pick_list_create, name="pick_list_create"),
    path("pick-lists/<str:number>/", pages.pick_screen, name="pick"),
    path("pick-lists/<str:number>/scan/", pages.pick_scan, name="pick_scan"),
    path("pick-lists/<str:number>/short/", pages.pick_short, name="pick_short"),
    path("pick-lists/<str:number>/take/", pages.pick_take, name="pick_take"),
    path("pick-lists/<str:number>/cancel/", pages.pick_cancel, name="pick_cancel"),
    path("pick-lists/<str:number>/pdf/", pages.pick_list_pdf, name="pick_pdf"),
    path("shipments/", pages.shipment_index, name="shipments"),
    path("shipments/<str:number>/", pages.shipment_detail, name="shipment"),
    path("shipments/<str:number>/pack/", pages.pack_screen, name="pack"),
    path("shipments/<str:number>/pack/scan/", pages.pack_scan, name="pack_scan"),
    path("shipments/<str:number>/pack/package/", pages.pack_package, name="pack_package"),
    path("shipments/<str:number>/pack/finish/", pages.pack_finish, name="pack_finish"),
    path("shipments/<str:number>/pack/reopen/", pages.pack_reopen, name="pack_reopen"),
    path("shipments/<str:number>/ship/", pages.ship_screen, name="ship"),
    path("shipments/<str:number>/ship/book/", pages.ship_book, name="ship_book"),
    path("shipments/<str:number>/deliver/", pages.shipment_deliver, name="deliver"),
    path("shipments/<str:number>/label.pdf", pages.label_pdf, name="label_pdf"),
    path("shipments/<str:number>/label.zpl", pages.label_zpl, name="label_zpl"),
    path("shipments/<str:number>/packing-slip.pdf", pages.packing_slip, name="packing_slip"),
    path(
        "bulk/<int:job_id>/packing-slips.pdf",
        pages.bulk_packing_slips,
        name="bulk_packing_slips",
    ),
]
