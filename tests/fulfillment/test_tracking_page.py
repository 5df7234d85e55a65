"""The customer's tracking page behind the order's secret link."""

import pytest
from django.urls import reverse

from fulfillment import services
from fulfillment.carriers import TrackingStatus, TrackingUpdate
from fulfillment.models import Shipment
from orders import services as order_services

from .conftest import SYSTEM

pytestmark = pytest.mark.django_db


def test_the_page_shows_the_carriers_updates_and_nothing_personal(client, skus, berlin, place):
    order = place(("CAP-RED", 1))
    order_services.ship_order(order, actor=SYSTEM, carrier="Bring", tracking_number="70700001")
    shipment = Shipment.objects.get(order=order)
    services.apply_tracking_updates(
        shipment,
        [
            TrackingUpdate(
                "70700001",
                TrackingStatus.IN_TRANSIT,
                "IN_TRANSIT",
                "The shipment is on its way to Oslo",
                order.placed_at,
                location="Oslo, NO",
            )
        ],
        actor=SYSTEM,
    )
    response = client.get(reverse("tracking:page", args=[order.tracking_token]))
    assert response.status_code == 200
    html = response.content.decode()
    assert order.number in html
    assert "70700001" in html and "on its way to Oslo" in html and "Oslo, NO" in html
    assert "Köln, DE" in html
    for private in ("erika@example.com", "Heidestrasse", "+49 221"):
        assert private not in html
    assert response["Cache-Control"].startswith("max-age=0")


def test_a_wrong_token_shows_nothing(client, skus, berlin, place):
    order = place(("CAP-RED", 1))
    response = client.get(reverse("tracking:page", args=["not-the-token"]))
    assert response.status_code == 404
    assert order.number not in response.content.decode()
    assert "not valid" in response.content.decode()
