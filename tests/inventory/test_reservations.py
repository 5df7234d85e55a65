"""Checkout holds: reserve, expire, release, and convert into an order's allocation."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from inventory import services
from inventory.models import Reservation, StockLevel
from inventory.tasks import release_expired_reservations
from orders.models import Order

from ..factories import stock
from ..helpers import order_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelf(channel, warehouse, sku):
    stock(sku, warehouse, 5)
    return sku


def hold(api, quantity=3, **extra):
    body = {"items": [{"sku": "TSHIRT-BLK-M", "quantity": quantity}], "minutes": 10} | extra
    return api.post("/api/v1/reservations/", data=json.dumps(body), content_type="application/json")


def test_hold_takes_units_out_of_availability(api, shelf):
    response = hold(api)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["items"] == [{"sku": "TSHIRT-BLK-M", "warehouse": "ber", "quantity": 3}]
    assert StockLevel.objects.get(sku=shelf).allocated == 3
    availability = api.get("/api/v1/stock/availability/", {"sku": "TSHIRT-BLK-M"}).json()
    assert availability["results"][0]["sellable"] == 2


def test_hold_more_than_available_is_a_409_and_holds_nothing(api, shelf):
    response = hold(api, quantity=6)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "insufficient_stock"
    assert Reservation.objects.count() == 0
    assert StockLevel.objects.get(sku=shelf).allocated == 0


def test_expired_holds_are_released_by_the_beat_task(api, shelf):
    hold(api)
    Reservation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert release_expired_reservations() == 1
    assert release_expired_reservations() == 0  # safe to run twice
    assert StockLevel.objects.get(sku=shelf).allocated == 0
    assert Reservation.objects.get().status == Reservation.Status.EXPIRED


def test_placing_the_order_turns_the_hold_into_its_allocation(api, shelf):
    token = hold(api, quantity=2).json()["token"]
    body = order_payload(reservation_token=token)
    response = api.post("/api/v1/orders/", data=json.dumps(body), content_type="application/json")

    assert response.status_code == 201, response.content
    assert response.json()["status"] == "allocated"
    level = StockLevel.objects.get(sku=shelf)
    assert level.allocated == 2  # the hold's units, not 2 more
    assert Reservation.objects.get().status == Reservation.Status.CONVERTED
    again = api.post("/api/v1/orders/", data=json.dumps(body), content_type="application/json")
    assert again.status_code == 422
    assert "reservation_token" in again.json()["error"]["fields"]
    assert Order.objects.count() == 1


def test_expired_token_is_refused_at_checkout(api, shelf):
    token = hold(api).json()["token"]
    Reservation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    body = order_payload(reservation_token=token)
    response = api.post("/api/v1/orders/", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 422
    assert Order.objects.count() == 0
    assert StockLevel.objects.get(sku=shelf).allocated == 3  # still held until beat expires it
    services.expire_reservations()


def test_release_by_the_cart(api, shelf):
    token = hold(api).json()["token"]
    assert api.delete(f"/api/v1/reservations/{token}/").status_code == 204
    assert api.delete(f"/api/v1/reservations/{token}/").status_code == 404
    assert StockLevel.objects.get(sku=shelf).allocated == 0


def test_bad_hold_requests_are_4xx(api, shelf):
    assert hold(api, quantity=0).status_code == 400
    assert hold(api, minutes=0).status_code == 400
    bad_sku = api.post(
        "/api/v1/reservations/",
        data=json.dumps({"items": [{"sku": "NOPE", "quantity": 1}]}),
        content_type="application/json",
    )
    assert bad_sku.status_code == 422  # well-formed, but no such SKU
    assert "items.0.sku" in bad_sku.json()["error"]["fields"]
    assert Reservation.objects.count() == 0


def test_idempotent_replay_is_byte_for_byte_the_first_answer(api, shelf):
    body = json.dumps({"items": [{"sku": "TSHIRT-BLK-M", "quantity": 1}]})
    first = api.post(
        "/api/v1/reservations/",
        data=body,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="cart-1",
    )
    second = api.post(
        "/api/v1/reservations/",
        data=body,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="cart-1",
    )
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert Reservation.objects.count() == 1
