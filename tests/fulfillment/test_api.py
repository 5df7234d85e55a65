"""Shipments and pick lists in the API: list by order/status/warehouse, detail with
packages and tracking, create for outside fulfilment (idempotent), deliver, warehouse
scoping, and the shipment.* webhooks."""

import pytest

from fulfillment import services
from fulfillment.models import Shipment, ShipmentStatus
from oms_site.models import OutboxEvent, WebhookSubscription
from orders.models import OrderStatus

from .conftest import SYSTEM, shelve

pytestmark = pytest.mark.django_db


@pytest.fixture
def shipped(skus, berlin, place):
    order = place(("MUG-WHT", 2), ("CAP-RED", 1))
    return services.create_external_shipment(
        order=order, actor=SYSTEM, carrier_name="DHL", tracking_number="JD0001"
    )


def test_list_and_filter_shipments(api, shipped, skus, berlin, place):
    services.create_pick_lists(warehouse=berlin, actor=SYSTEM)  # nothing left: no list
    other = place(("CAP-RED", 1))
    services.create_pick_lists(warehouse=berlin, actor=SYSTEM)
    body = api.get("/api/v1/shipments/").json()
    assert {r["number"] for r in body["results"]} == {
        shipped.number,
        Shipment.objects.get(order=other).number,
    }
    body = api.get("/api/v1/shipments/", {"status": "shipped"}).json()
    assert [r["number"] for r in body["results"]] == [shipped.number]
    body = api.get("/api/v1/shipments/", {"order": other.number}).json()
    assert [r["status"] for r in body["results"]] == ["picking"]
    assert api.get("/api/v1/shipments/", {"warehouse": "lds"}).json()["results"] == []
    bad = api.get("/api/v1/shipments/", {"status": "lost"})
    assert bad.status_code == 400 and "status" in bad.json()["error"]["fields"]


def test_detail_has_lines_packages_and_tracking(api, shipped):
    body = api.get(f"/api/v1/shipments/{shipped.number}/").json()
    assert body["order"] == shipped.order.number
    assert body["carrier"] == "DHL" and body["tracking_number"] == "JD0001"
    assert {(line["sku"], line["quantity"]) for line in body["lines"]} == {
        ("MUG-WHT", 2),
        ("CAP-RED", 1),
    }
    assert body["events"][0]["kind"] == "created"
    assert body["packages"] == [] and body["warehouse"] == "ber"
    assert api.get("/api/v1/shipments/SH-9999999/").status_code == 404
    assert api.get("/api/v1/shipments/nonsense/").status_code == 404


def test_create_for_outside_fulfilment_is_idempotent(api, skus, berlin, place):
    order = place(("MUG-WHT", 2), ("CAP-RED", 1))
    body = {
        "order": order.number,
        "carrier": "Amazon Logistics",
        "tracking_number": "TBA99",
        "lines": [{"sku": "MUG-WHT", "quantity": 2}],
    }
    first = api.post("/api/v1/shipments/", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == 201, first.json()
    again = api.post("/api/v1/shipments/", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Shipment.objects.filter(order=order).count() == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_SHIPPED
    # The rest: everything still allocated.
    rest = api.post("/api/v1/shipments/", {"order": order.number}, format="json")
    assert rest.status_code == 201
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    # Nothing left: a clean 409, nothing written.
    none_left = api.post("/api/v1/shipments/", {"order": order.number}, format="json")
    assert none_left.status_code == 409
    assert Shipment.objects.filter(order=order).count() == 2


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        # Well-formed but naming what does not exist: 422.
        ({"order": "SO-404"}, 422, "order"),
        ({"order": "{n}", "warehouse": "nowhere"}, 422, "warehouse"),
        ({"order": "{n}", "lines": [{"sku": "NOPE", "quantity": 1}]}, 422, "lines"),
        ({"order": "{n}", "lines": [{"quantity": 1}]}, 422, "lines"),
        # Not what the schema allows: 400.
        ({"order": "{n}", "lines": [{"sku": "MUG-WHT", "quantity": 0}]}, 400, "lines.0.quantity"),
        ({"order": "{n}", "colour": "red"}, 400, "colour"),
        ({"order": 5}, 400, "order"),
        ({"order": "{n}", "tracking_url": "ftp://x"}, 400, "tracking_url"),
        ({"order": "{n}", "tracking_url": "https://a b"}, 400, "tracking_url"),
        ({"order": "{n}", "tracking_url": "https://a\x1fb"}, 400, "tracking_url"),
    ],
)
def test_bad_input_is_refused_naming_the_field(api, skus, berlin, place, body, status, field):
    order = place(("MUG-WHT", 1))
    body = {k: (v.format(n=order.number) if isinstance(v, str) else v) for k, v in body.items()}
    response = api.post("/api/v1/shipments/", body, format="json")
    assert response.status_code == status, response.json()
    assert field in response.json()["error"]["fields"], response.json()
    assert not Shipment.objects.exists()


def test_deliver_through_the_api(api, shipped):
    response = api.post(f"/api/v1/shipments/{shipped.number}/deliver/")
    assert response.status_code == 200
    assert response.json()["status"] == "delivered"
    shipped.order.refresh_from_db()
    assert shipped.order.status == OrderStatus.DELIVERED
    assert api.post(f"/api/v1/shipments/{shipped.number}/deliver/").status_code == 409


def test_pick_lists_are_readable(api, skus, berlin, place):
    order = place(("MUG-WHT", 1), ("CAP-RED", 2))
    [pick_list] = services.create_pick_lists(warehouse=berlin, actor=SYSTEM)
    body = api.get(f"/api/v1/pick-lists/{pick_list.number}/").json()
    assert body["warehouse"] == "ber" and body["status"] == "open"
    assert body["orders"][0]["order"] == order.number and body["orders"][0]["tote_slot"] == 1
    assert [line["bin_code"] for line in body["lines"]] == ["A-01", "C-05"]
    assert body["lines"][0]["gtin"] == skus["mug"].barcode
    listing = api.get("/api/v1/pick-lists/", {"status": "open"}).json()
    assert [r["number"] for r in listing["results"]] == [pick_list.number]
    assert api.get("/api/v1/pick-lists/PL-999999/").status_code == 404


def test_warehouse_users_see_and_act_only_in_their_warehouses(
    api_for, warehouse_user, skus, berlin, leeds, place
):
    shelve(skus["mug"], leeds, 5, "L-01")
    leeds.ships_to_countries = []
    leeds.save()
    leeds_order = place(("MUG-WHT", 1), warehouse=leeds)
    berlin_order = place(("MUG-WHT", 1))
    [leeds_list] = services.create_pick_lists(warehouse=leeds, actor=SYSTEM)
    services.create_pick_lists(warehouse=berlin, actor=SYSTEM)
    client = api_for("warehouse")
    numbers = {r["order"] for r in client.get("/api/v1/shipments/").json()["results"]}
    assert numbers == {berlin_order.number}
    leeds_shipment = Shipment.objects.get(order=leeds_order)
    assert client.get(f"/api/v1/shipments/{leeds_shipment.number}/").status_code == 404
    assert client.get(f"/api/v1/pick-lists/{leeds_list.number}/").status_code == 404
    assert len(client.get("/api/v1/pick-lists/").json()["results"]) == 1
    # Shipping a Leeds order from outside the flow is refused for a Berlin user.
    refused = client.post(
        "/api/v1/shipments/", {"order": leeds_order.number, "warehouse": "lds"}, format="json"
    )
    assert refused.status_code == 403
    refused = client.post("/api/v1/shipments/", {"order": leeds_order.number}, format="json")
    assert refused.status_code == 403
    assert Shipment.objects.filter(order=leeds_order).count() == 1
    assert api_for("manager").get(f"/api/v1/shipments/{leeds_shipment.number}/").status_code == 200


def test_shipment_webhooks_go_to_subscribers(
    skus, berlin, place, django_capture_on_commit_callbacks
):
    WebhookSubscription.objects.create(
        name="erp", url="http://127.0.0.1:9/hooks", secret="s", event_types=["shipment.shipped"]
    )
    order = place(("CAP-RED", 1))
    services.create_external_shipment(order=order, actor=SYSTEM, tracking_number="Z1")
    event = OutboxEvent.objects.get(event_type="shipment.shipped")
    assert event.payload["order"] == order.number
    assert event.payload["tracking_number"] == "Z1"
    assert event.payload["status"] == ShipmentStatus.SHIPPED
    assert event.deliveries.count() == 1
