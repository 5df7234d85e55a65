"""The customer's e-mails: shipped and delivered, once each, with the tracking link."""

import pytest
from django.core import mail

from fulfillment import services
from fulfillment.models import Shipment
from orders import services as order_services

from .conftest import SYSTEM

pytestmark = pytest.mark.django_db


def test_shipped_and_delivered_emails_carry_the_tracking_page(
    skus, berlin, place, django_capture_on_commit_callbacks
):
    order = place(("CAP-RED", 1))
    with django_capture_on_commit_callbacks(execute=True):
        order_services.ship_order(order, actor=SYSTEM, carrier="DHL", tracking_number="JD1")
    shipment = Shipment.objects.get(order=order)
    assert len(mail.outbox) == 1
    shipped = mail.outbox[0]
    assert shipped.to == ["erika@example.com"]
    assert order.number in shipped.subject and "on its way" in shipped.subject
    assert f"/track/{order.tracking_token}/" in shipped.body and "JD1" in shipped.body
    with django_capture_on_commit_callbacks(execute=True):
        services.mark_shipment_delivered(shipment, actor=SYSTEM)
    assert len(mail.outbox) == 2 and "delivered" in mail.outbox[1].subject
    # A retried task sends nothing twice.
    from fulfillment.tasks import send_shipment_email

    assert send_shipment_email(shipment.pk, "shipped") is False
    assert len(mail.outbox) == 2


def test_the_email_goes_out_in_the_orders_language(
    skus, berlin, place, django_capture_on_commit_callbacks
):
    oslo = {
        "name": "Kari Nordmann",
        "line1": "Karl Johans gate 1",
        "city": "Oslo",
        "postal_code": "0154",
        "country": "NO",
    }
    berlin.ships_to_countries = []
    berlin.save()
    order = place(("CAP-RED", 1), shipping_address=oslo)
    with django_capture_on_commit_callbacks(execute=True):
        order_services.ship_order(order, actor=SYSTEM)
    shipment = Shipment.objects.get(order=order)
    sent = shipment.events.get(details__email="shipped")
    assert sent.details["language"] == "nb"
