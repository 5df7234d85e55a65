"""Returns pages: /returns/."""

from django.urls import path

from .views import staff, warehouse

app_name = "returns"

urlpatterns = [
    path("", staff.queue, name="queue"),
    path("new/", staff.create, name="create"),
    path("receive/", warehouse.receive_home, name="receive_home"),
    path("<str:number>/", staff.detail, name="detail"),
    path("<str:number>/approve/", staff.approve, name="approve"),
    path("<str:number>/reject/", staff.reject, name="reject"),
    path("<str:number>/inspect/", staff.inspect, name="inspect"),
    path("<str:number>/close/", staff.close, name="close"),
    path("<str:number>/exchange/", staff.exchange, name="exchange"),
    path("<str:number>/label.pdf", staff.label_pdf, name="label_pdf"),
    path("<str:number>/receive/", warehouse.receive_screen, name="receive"),
    path("<str:number>/receive/scan/", warehouse.receive_scan, name="receive_scan"),
    path("<str:number>/receive/finish/", warehouse.receive_finish, name="receive_finish"),
]
