"""Money pages outside one order: /invoices/ and /payments/."""

from django.urls import path

from . import money_views

app_name = "money"

urlpatterns = [
    path("invoices/", money_views.invoice_list, name="invoices"),
    path("invoices/<str:number>.pdf", money_views.invoice_pdf, name="invoice_pdf"),
    path("payments/", money_views.payments_overview, name="payments"),
    path(
        "payments/transactions/<int:pk>/retry/",
        money_views.transaction_retry,
        name="transaction_retry",
    ),
]
