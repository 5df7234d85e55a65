"""Order pages: /orders/."""

from django.urls import path

from . import edit_views, list_views, money_views, views

app_name = "orders"

urlpatterns = [
    path("", views.order_list, name="list"),
    path("new/", views.order_create, name="create"),
    path("export/", list_views.order_export, name="export"),
    path("views/", list_views.view_save, name="view_save"),
    path("views/<int:pk>/delete/", list_views.view_delete, name="view_delete"),
    path("bulk/", list_views.bulk_start, name="bulk_start"),
    path("bulk/<int:pk>/", list_views.bulk_job, name="bulk_job"),
    path("bulk/<int:pk>/status/", list_views.bulk_job_status, name="bulk_job_status"),
    path("<str:number>/", views.order_detail, name="detail"),
    path("<str:number>/hold/", views.order_hold, name="hold"),
    path("<str:number>/release/", views.order_release, name="release"),
    path("<str:number>/cancel/", views.order_cancel, name="cancel"),
    path("<str:number>/reroute/", views.order_reroute, name="reroute"),
    path("<str:number>/edit/", edit_views.order_edit, name="edit"),
    path("<str:number>/ship/", views.order_ship, name="ship"),
    path("<str:number>/deliver/", views.order_deliver, name="deliver"),
    path("<str:number>/submit/", views.order_submit, name="submit"),
    path("<str:number>/note/", views.order_note, name="note"),
    path("<str:number>/tags/", views.order_tags, name="tags"),
    path("<str:number>/payments/record/", money_views.record_payment, name="record_payment"),
    path("<str:number>/payments/capture/", money_views.capture, name="capture"),
    path("<str:number>/payments/void/", money_views.void, name="void"),
    path("<str:number>/refund/", money_views.refund_form, name="refund"),
    path(
        "<str:number>/refunds/<int:refund_id>/retry/",
        money_views.refund_retry,
        name="refund_retry",
    ),
    path("<str:number>/invoice/", money_views.issue_invoice, name="issue_invoice"),
]
