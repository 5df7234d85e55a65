"""The customer's return pages behind the tracking link: /track/<token>/return/, and
/track/<token>/pay/ for what is left to pay (an exchange for dearer goods)."""

from django.urls import path

from .views import customer

app_name = "customer_returns"

urlpatterns = [
    path("<str:token>/return/", customer.request_return, name="request"),
    path("<str:token>/return/<str:number>/label.pdf", customer.customer_label, name="label"),
    path("<str:token>/pay/", customer.pay_due, name="pay"),
]
