"""The orders app's part of /api/v1/: orders and sales channels, and their money:
payments, refunds and invoices."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import money_views, views

router = SimpleRouter()
router.register("orders", views.OrderViewSet, basename="order")
router.register("channels", views.SalesChannelViewSet, basename="channel")

router.register("refunds", money_views.RefundViewSet, basename="refund")
router.register("invoices", money_views.InvoiceViewSet, basename="invoice")

ORDER = "orders/<str:number>"
payments = money_views.OrderPaymentViewSet
refunds = money_views.OrderRefundViewSet

urlpatterns = [
    path(
        f"{ORDER}/payments/",
        payments.as_view({"get": "list", "post": "create"}),
        name="order-payments",
    ),
    path(f"{ORDER}/payments/capture/", payments.as_view({"post": "capture"}), name="order-capture"),
    path(f"{ORDER}/payments/void/", payments.as_view({"post": "void"}), name="order-void"),
    path(
        f"{ORDER}/refunds/",
        refunds.as_view({"get": "list", "post": "create"}),
        name="order-refunds",
    ),
    path(
        f"{ORDER}/invoices/",
        money_views.OrderInvoiceViewSet.as_view({"post": "create"}),
        name="order-invoices",
    ),
    path(
        "refunds/<int:pk>/retry/",
        money_views.RefundViewSet.as_view({"post": "retry"}),
        name="refund-retry",
    ),
    path(
        "invoices/<str:number>/pdf/",
        money_views.InvoiceViewSet.as_view({"get": "pdf"}),
        name="invoice-pdf",
    ),
] + router.urls
