"""The role matrix for the API: each role gets exactly what it should, nothing more."""

import pytest

from ..factories import stock
from ..helpers import order_payload

pytestmark = pytest.mark.django_db

ALL = {"owner", "manager", "support", "warehouse", "readonly"}
# endpoint -> roles allowed. Everything else must get 403.
MATRIX = [
    ("GET", "/api/v1/orders/", None, ALL),
    ("GET", "/api/v1/products/", None, ALL),
    ("POST", "/api/v1/skus/", {"sku": "NEW-1", "product": "New"}, {"owner", "manager"}),
    ("POST", "/api/v1/skus/TSHIRT-BLK-M/deactivate/", {}, {"owner", "manager"}),
    ("POST", "/api/v1/products/", {"name": "Lamp"}, {"owner", "manager"}),
    ("GET", "/api/v1/webhooks/", None, {"owner", "manager"}),
    (
        "POST",
        "/api/v1/webhooks/",
        {"name": "ERP", "url": "https://erp.example.com/hook"},
        {"owner", "manager"},
    ),
    ("GET", "/api/v1/orders/{number}/", None, ALL),
    ("GET", "/api/v1/orders/{number}/events/", None, ALL),
    ("POST", "/api/v1/orders/", "new_order", {"owner", "manager", "support"}),
    ("POST", "/api/v1/orders/{number}/hold/", {"reason": "check"}, {"owner", "manager", "support"}),
    ("POST", "/api/v1/orders/{number}/cancel/", {}, {"owner", "manager", "support"}),
    ("POST", "/api/v1/orders/{number}/notes/", {"text": "hi"}, {"owner", "manager", "support"}),
    ("POST", "/api/v1/orders/{number}/reroute/", {}, {"owner", "manager"}),
    (
        "POST",
        "/api/v1/orders/{number}/edit/",
        {"lines": [{"sku": "TSHIRT-BLK-M", "quantity": 1}]},
        {"owner", "manager", "support"},
    ),
    ("POST", "/api/v1/orders/{number}/ship/", {}, {"owner", "manager", "warehouse"}),
    ("GET", "/api/v1/shipments/", None, ALL),
    ("GET", "/api/v1/pick-lists/", None, ALL),
    ("POST", "/api/v1/shipments/", "new_shipment", {"owner", "manager", "warehouse"}),
    ("GET", "/api/v1/channels/", None, ALL),
    ("GET", "/api/v1/skus/", None, ALL),
    ("GET", "/api/v1/stock/", None, ALL),
    ("GET", "/api/v1/stock/movements/", None, ALL),
    ("GET", "/api/v1/stock/availability/?sku=TSHIRT-BLK-M", None, ALL),
    (
        "POST",
        "/api/v1/stock/receive/",
        {"sku": "TSHIRT-BLK-M", "warehouse": "ber", "quantity": 1},
        {"owner", "manager", "warehouse"},
    ),
    (
        "POST",
        "/api/v1/stock/adjust/",
        {"sku": "TSHIRT-BLK-M", "warehouse": "ber", "change": 1, "note": "found"},
        {"owner", "manager", "warehouse"},
    ),
    (
        "POST",
        "/api/v1/reservations/",
        {"items": [{"sku": "TSHIRT-BLK-M", "quantity": 1}]},
        {"owner", "manager", "support"},
    ),
]
CASES = [
    (m, url, body, role, role in allowed)
    for m, url, body, allowed in MATRIX
    for role in sorted(ALL)
]


@pytest.fixture
def world(channel, warehouse, sku, users):
    from inventory.models import WarehouseAccess

    WarehouseAccess.objects.create(user=users["warehouse"], warehouse=warehouse)
    stock(sku, warehouse, 50)
    from oms_site.actors import Actor
    from orders.services import place_order

    body = order_payload()
    return place_order(
        channel=channel,
        lines=body["lines"],
        shipping_address=body["shipping_address"],
        actor=Actor.system("t"),
    )


@pytest.mark.parametrize(
    ("method", "url", "body", "role", "allowed"),
    CASES,
    ids=[f"{c[0]} {c[1]} as {c[3]}" for c in CASES],
)
def test_role_matrix(api_for, world, method, url, body, role, allowed):
    client = api_for(role)
    url = url.format(number=world.number)
    if body == "new_order":
        body = order_payload()
    if body == "new_shipment":
        body = {"order": world.number, "carrier": "DHL", "tracking_number": "J1"}
    if method == "GET":
        response = client.get(url)
    else:
        response = client.post(url, body, format="json")
    if allowed:
        assert response.status_code in (200, 201), (role, url, response.content)
    else:
        assert response.status_code == 403, (role, url, response.status_code)
        assert response.json()["error"]["code"] == "permission_denied"


def test_anonymous_gets_401_or_403(client, world):
    assert client.get("/api/v1/orders/").status_code in (401, 403)


def test_user_without_a_role_gets_nothing(db, world):
    from rest_framework.test import APIClient

    from ..factories import UserFactory

    client = APIClient()
    client.force_authenticate(UserFactory(username="nobody"))
    assert client.get("/api/v1/orders/").status_code == 403


def test_warehouse_staff_change_stock_only_in_their_warehouses(api_for, world):
    from ..factories import WarehouseFactory

    WarehouseFactory(code="lyo", city="Lyon", country="FR")
    response = api_for("warehouse").post(
        "/api/v1/stock/receive/",
        {"sku": "TSHIRT-BLK-M", "warehouse": "lyo", "quantity": 1},
        format="json",
    )
    assert response.status_code == 403
    assert "warehouse" in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    ("scopes", "method", "url", "allowed"),
    [
        (["orders:read"], "GET", "/api/v1/orders/", True),
        (["orders:read"], "POST", "/api/v1/orders/{number}/cancel/", False),
        (["orders:write"], "GET", "/api/v1/orders/", False),
        (["orders:write"], "POST", "/api/v1/orders/{number}/cancel/", True),
        (["stock:read"], "GET", "/api/v1/stock/", True),
        (["stock:read"], "POST", "/api/v1/stock/receive/", False),
        (["stock:write"], "POST", "/api/v1/stock/receive/", True),
        (["orders:read"], "GET", "/api/v1/stock/", False),
        (["reservations:write"], "POST", "/api/v1/reservations/", True),
        (["stock:write"], "POST", "/api/v1/reservations/", False),
        (["catalog:write"], "POST", "/api/v1/skus/", True),
        (["stock:write"], "POST", "/api/v1/skus/", False),
        (["webhooks:manage"], "GET", "/api/v1/webhooks/", True),
        (["webhooks:manage"], "POST", "/api/v1/webhooks/", True),
        (["orders:write", "stock:write"], "GET", "/api/v1/webhooks/", False),
        (["catalog:write"], "POST", "/api/v1/webhooks/", False),
        (["fulfillment:read"], "GET", "/api/v1/shipments/", True),
        (["orders:read"], "GET", "/api/v1/shipments/", False),
        (["fulfillment:read"], "GET", "/api/v1/pick-lists/", True),
        (["fulfillment:read"], "POST", "/api/v1/shipments/", False),
        (["fulfillment:write"], "POST", "/api/v1/shipments/", True),
    ],
)
def test_api_key_scopes(make_api_key, world, scopes, method, url, allowed):
    client, _, _ = make_api_key(scopes=scopes)
    url = url.format(number=world.number)
    bodies = {
        "/api/v1/stock/receive/": {"sku": "TSHIRT-BLK-M", "warehouse": "ber", "quantity": 1},
        "/api/v1/reservations/": {"items": [{"sku": "TSHIRT-BLK-M", "quantity": 1}]},
        "/api/v1/skus/": {"sku": "NEW-1", "product": "New"},
        "/api/v1/webhooks/": {"name": "ERP", "url": "https://erp.example.com/hook"},
        "/api/v1/shipments/": {"order": world.number, "carrier": "DHL"},
    }
    if method == "GET":
        response = client.get(url)
    else:
        response = client.post(url, bodies.get(url, {}), format="json")
    assert (response.status_code in (200, 201)) == allowed, response.content
    if not allowed:
        assert response.status_code == 403
