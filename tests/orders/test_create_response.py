"""The create response is built from the objects placement wrote (no read-back): it must
say exactly what a later GET of the same order says, in every way placement can end."""

import json

import pytest

from orders.models import HoldRule

from ..factories import SKUFactory, SupplierFactory, WarehouseFactory, stock
from ..helpers import order_payload

pytestmark = pytest.mark.django_db

URL = "/api/v1/orders/"


def create_then_get(api, body):
    created = api.post(URL, data=json.dumps(body), content_type="application/json")
    assert created.status_code == 201, created.content
    fetched = api.get(f"{URL}{created.json()['number']}/")
    assert fetched.status_code == 200
    return created.json(), fetched.json()


@pytest.fixture
def places(channel, warehouse, sku):
    lyon = WarehouseFactory(code="lyo", city="Lyon", latitude=45.76, longitude=4.84)
    stock(sku, warehouse, 2)
    stock(sku, lyon, 1)
    return warehouse, lyon


def test_allocated_split_across_warehouses(api, places, sku):
    other = SKUFactory(code="MUG-WHT")
    stock(other, places[1], 5)
    created, fetched = create_then_get(
        api,
        order_payload(
            lines=((sku.code, 3), (other.code, 1)),
            external_id="in-hand-1",
            billing_address={"name": "E", "line1": "x", "city": "Köln", "country": "DE"},
            tags=["vip"],
            shipping_total="4.90",
        ),
    )
    assert created["status"] == "allocated"
    assert created == fetched


def test_backordered_with_a_partial_allocation(api, places, sku):
    created, fetched = create_then_get(api, order_payload(lines=((sku.code, 5),)))
    assert created["status"] == "backordered"
    assert created == fetched


def test_nothing_in_stock(api, channel, warehouse):
    empty = SKUFactory(code="EMPTY-1")
    created, fetched = create_then_get(api, order_payload(lines=((empty.code, 1),)))
    assert created["status"] == "backordered"
    assert created == fetched


def test_drop_shipped_line(api, channel, warehouse):
    supplier = SupplierFactory(code="acme", drop_ships=True)
    dropped = SKUFactory(code="DROP-1", supplier=supplier)
    created, fetched = create_then_get(api, order_payload(lines=((dropped.code, 2),)))
    assert created["lines"][0]["allocations"][0]["supplier"] == "acme"
    assert created == fetched


def test_held_by_a_hold_rule(api, places, sku):
    HoldRule.objects.create(kind=HoldRule.Kind.ADDRESS_MISMATCH)
    body = order_payload(
        billing_address={"name": "E", "line1": "x", "city": "Paris", "country": "FR"}
    )
    created, fetched = create_then_get(api, body)
    assert created["status"] == "on_hold"
    assert created == fetched


def test_draft(api, places):
    created, fetched = create_then_get(api, order_payload(draft=True))
    assert created["status"] == "draft"
    assert created == fetched


def test_manual_warehouse(api, places):
    created, fetched = create_then_get(
        api, order_payload(warehouse="lyo", lines=(("TSHIRT-BLK-M", 1),))
    )
    assert created["routing"]["manual_warehouse"] == "lyo"
    assert created == fetched


def test_converted_checkout_hold(api, places, sku):
    hold = api.post(
        "/api/v1/reservations/",
        data=json.dumps({"items": [{"sku": sku.code, "quantity": 1}], "minutes": 5}),
        content_type="application/json",
    )
    assert hold.status_code == 201, hold.content
    created, fetched = create_then_get(
        api, order_payload(lines=((sku.code, 2),), reservation_token=hold.json()["token"])
    )
    assert created["status"] == "allocated"
    assert created == fetched
