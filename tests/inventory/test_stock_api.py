"""The stock API as a shop, a marketplace connector or a WMS uses it."""

import pytest

from inventory.models import StockLevel, StockMovement

from ..factories import SKUFactory, WarehouseFactory, stock
from ..helpers import row_counts

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelf(warehouse, sku):
    stock(sku, warehouse, 10, safety_stock=2)
    return sku


def test_availability_per_sku_and_warehouse(api, shelf):
    lyon = WarehouseFactory(code="lyo", city="Lyon", country="FR")
    stock(shelf, lyon, 4)
    SKUFactory(code="EMPTY-1")
    body = api.get("/api/v1/stock/availability/", {"sku": "TSHIRT-BLK-M,EMPTY-1,NOPE"}).json()
    by_sku = {row["sku"]: row for row in body["results"]}
    assert by_sku["TSHIRT-BLK-M"]["sellable"] == 12  # 8 (10 - 2 safety) + 4
    assert by_sku["TSHIRT-BLK-M"]["warehouses"] == {"ber": 8, "lyo": 4}
    assert by_sku["EMPTY-1"] == {"sku": "EMPTY-1", "sellable": 0, "warehouses": {}, "known": True}
    assert by_sku["NOPE"]["known"] is False


def test_availability_needs_a_sku(api):
    response = api.get("/api/v1/stock/availability/")
    assert response.status_code == 400
    assert "sku" in response.json()["error"]["fields"]


def test_receive_adjust_transfer_count(api, shelf, warehouse):
    WarehouseFactory(code="lyo", city="Lyon", country="FR")
    received = api.post(
        "/api/v1/stock/receive/",
        {"sku": shelf.code, "warehouse": "ber", "quantity": 5, "reference": "PO-1"},
        format="json",
    )
    assert received.status_code == 201 and received.json()["on_hand"] == 15
    adjusted = api.post(
        "/api/v1/stock/adjust/",
        {"sku": shelf.code, "warehouse": "ber", "change": -3, "note": "water damage"},
        format="json",
    )
    assert adjusted.json()["on_hand"] == 12
    moved = api.post(
        "/api/v1/stock/transfer/",
        {"sku": shelf.code, "source": "ber", "destination": "lyo", "quantity": 2},
        format="json",
    )
    assert {r["warehouse"]: r["on_hand"] for r in moved.json()} == {"ber": 10, "lyo": 2}
    counted = api.post(
        "/api/v1/stock/count/", {"sku": shelf.code, "warehouse": "lyo", "counted": 1}, format="json"
    )
    assert counted.json()["on_hand"] == 1
    reasons = [
        m["reason"]
        for m in api.get("/api/v1/stock/movements/", {"sku": shelf.code}).json()["results"]
    ]
    assert reasons[:5] == ["cycle_count", "transfer_in", "transfer_out", "adjustment", "receipt"]


def test_receipt_with_idempotency_key_counts_once(api, shelf):
    body = {"sku": shelf.code, "warehouse": "ber", "quantity": 5, "reference": "PO-9"}
    for _ in range(2):
        response = api.post(
            "/api/v1/stock/receive/", body, format="json", HTTP_IDEMPOTENCY_KEY="po-9"
        )
        assert response.status_code == 201
    assert StockLevel.objects.get(sku=shelf).on_hand == 15


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("receive", {"sku": "NOPE", "warehouse": "ber", "quantity": 1}, "sku"),
        ("receive", {"sku": "TSHIRT-BLK-M", "warehouse": "nope", "quantity": 1}, "warehouse"),
        ("receive", {"sku": "TSHIRT-BLK-M", "warehouse": "ber", "quantity": 0}, "quantity"),
        ("receive", {"sku": "TSHIRT-BLK-M", "warehouse": "ber", "quantity": "5"}, "quantity"),
        ("adjust", {"sku": "TSHIRT-BLK-M", "warehouse": "ber", "change": 1}, "note"),
        (
            "adjust",
            {"sku": "TSHIRT-BLK-M", "warehouse": "ber", "change": -11, "note": "x"},
            "quantity",
        ),
        (
            "transfer",
            {"sku": "TSHIRT-BLK-M", "source": "ber", "destination": "ber", "quantity": 1},
            "destination",
        ),
        ("count", {"sku": "TSHIRT-BLK-M", "warehouse": "ber", "counted": -1}, "counted"),
    ],
)
def test_bad_stock_requests_are_4xx_and_change_nothing(api, shelf, url, body, field):
    before = row_counts()
    response = api.post(f"/api/v1/stock/{url}/", body, format="json")
    assert 400 <= response.status_code < 500
    assert field in response.json()["error"]["fields"], response.json()
    assert row_counts() == before
    assert StockMovement.objects.filter(sku=shelf).count() == 1


def test_catalogue_read(api, shelf):
    body = api.get(f"/api/v1/skus/{shelf.code}/").json()
    assert body["code"] == "TSHIRT-BLK-M" and body["price"] == "19.900"


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/stock/availability/?sku=a%00b",
        "/api/v1/stock/movements/?sku=a%00b",
        "/api/v1/stock/movements/?reference=x%00",
    ],
)
def test_nul_characters_in_parameters_match_nothing(api, url):
    # PostgreSQL text can't hold NUL, so no stored row has it: an empty answer, not a 500.
    response = api.get(url)
    assert response.status_code == 200
    body = response.json()
    assert all(not entry.get("known", False) for entry in body["results"])
    assert all(entry.get("sellable", 0) == 0 for entry in body["results"])
