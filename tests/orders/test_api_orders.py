"""The order API as an integrator uses it."""

import json

import pytest

from inventory.models import StockLevel
from oms_site.models import OutboxEvent
from orders.models import Order, OrderEvent

from ..factories import ChannelFactory, SKUFactory, WarehouseFactory, stock
from ..helpers import order_payload, row_counts

pytestmark = pytest.mark.django_db

URL = "/api/v1/orders/"


@pytest.fixture
def stocked(channel, warehouse, sku):
    stock(sku, warehouse, 10)
    return sku


def post(api, body, **headers):
    return api.post(URL, data=json.dumps(body), content_type="application/json", **headers)


def test_create_order_routes_and_allocates(api, stocked):
    response = post(api, order_payload(external_id="web-1001"))

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "allocated"
    assert body["number"].startswith("SO-")
    assert body["grand_total"] == "39.800"
    assert body["lines"][0]["allocations"] == [
        {"warehouse": "ber", "supplier": None, "quantity": 2}
    ]
    assert body["routing"]["decided_by"] == "only_candidate"
    level = StockLevel.objects.get(sku=stocked)
    assert (level.on_hand, level.allocated) == (10, 2)
    kinds = list(
        OrderEvent.objects.filter(order__number=body["number"]).values_list("kind", flat=True)
    )
    assert kinds == ["created", "status_changed", "status_changed", "routed"]
    assert OutboxEvent.objects.filter(event_type="order.created").count() == 1


def test_totals_are_computed_from_lines_and_checked(api, stocked):
    body = order_payload(
        lines=[],
        shipping_total="4.90",
        grand_total="999.00",
    )
    body["lines"] = [
        {
            "sku": stocked.code,
            "quantity": 3,
            "unit_price": "10.00",
            "discount": "5.00",
            "tax": "4.75",
        }
    ]
    response = post(api, body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "totals_mismatch"
    assert "grand_total" in response.json()["error"]["fields"]

    body["grand_total"] = "34.650"
    response = post(api, body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["subtotal"], data["discount_total"], data["tax_total"], data["grand_total"]) == (
        "30.000",
        "5.000",
        "4.750",
        "34.650",
    )


def test_same_idempotency_key_and_body_returns_first_result(api, stocked):
    body = order_payload(external_id="web-2001")
    first = post(api, body, HTTP_IDEMPOTENCY_KEY="key-1")
    second = post(api, body, HTTP_IDEMPOTENCY_KEY="key-1")

    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1


def test_same_idempotency_key_with_other_body_is_refused(api, stocked):
    post(api, order_payload(external_id="web-3001"), HTTP_IDEMPOTENCY_KEY="key-2")
    before = row_counts()
    response = post(api, order_payload(external_id="web-3002"), HTTP_IDEMPOTENCY_KEY="key-2")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert row_counts() == before


def test_failed_create_does_not_burn_the_idempotency_key(api, stocked):
    bad = order_payload(lines=(("NOPE", 1),))
    assert post(api, bad, HTTP_IDEMPOTENCY_KEY="key-3").status_code == 422
    good = order_payload()
    assert post(api, good, HTTP_IDEMPOTENCY_KEY="key-3").status_code == 201


def test_same_external_id_twice_is_refused_naming_the_order(api, stocked):
    first = post(api, order_payload(external_id="amz-1"))
    before = row_counts()
    second = post(api, order_payload(external_id="amz-1"))

    assert second.status_code == 409
    error = second.json()["error"]
    assert error["code"] == "duplicate_external_id"
    assert first.json()["number"] in error["message"]
    assert row_counts() == before


def test_same_external_id_in_another_channel_is_a_new_order(api, stocked):
    ChannelFactory(code="ebay", name="eBay", kind="ebay", currency="EUR")
    assert post(api, order_payload(external_id="X-1")).status_code == 201
    assert post(api, order_payload(channel="ebay", external_id="X-1")).status_code == 201


BAD_INPUTS = {
    "unknown sku": (lambda b: b["lines"][0].update(sku="NOPE"), "lines.0.sku"),
    "zero quantity": (lambda b: b["lines"][0].update(quantity=0), "lines"),
    "negative quantity": (lambda b: b["lines"][0].update(quantity=-3), "lines"),
    "fractional quantity": (lambda b: b["lines"][0].update(quantity=1.5), "lines"),
    "quantity as text": (lambda b: b["lines"][0].update(quantity="two"), "lines"),
    "boolean quantity": (lambda b: b["lines"][0].update(quantity=True), "lines"),
    "unknown currency": (lambda b: b.update(currency="XYZ"), "currency"),
    "currency as number": (lambda b: b.update(currency=978), "currency"),
    "no lines": (lambda b: b.update(lines=[]), "lines"),
    "lines not a list": (lambda b: b.update(lines="TSHIRT"), "lines"),
    "address not an object": (lambda b: b.update(shipping_address="Köln"), "shipping_address"),
    "address without city": (lambda b: b["shipping_address"].pop("city"), "shipping_address"),
    "address with bad country": (
        lambda b: b["shipping_address"].update(country="QQ"),
        "shipping_address.country",
    ),
    "address with unknown key": (
        lambda b: b["shipping_address"].update(planet="Mars"),
        "shipping_address",
    ),
    "negative price": (lambda b: b["lines"][0].update(unit_price="-1.00"), "lines"),
    "price not a number": (lambda b: b["lines"][0].update(unit_price="cheap"), "lines"),
    "too many decimals for EUR": (
        lambda b: b["lines"][0].update(unit_price="1.999"),
        "lines.0.unit_price",
    ),
    "unknown channel": (lambda b: b.update(channel="nowhere"), "channel"),
    "unknown field": (lambda b: b.update(colour="red"), "colour"),
    "bad email": (lambda b: b["customer"].update(email="not-an-email"), "customer"),
    "discount above price": (lambda b: b["lines"][0].update(discount="100.00"), "lines.0.discount"),
    "line total beyond the money column": (
        lambda b: b["lines"][0].update(quantity=100000, unit_price="99999999.99"),
        "lines.0.quantity",
    ),
    "order total beyond the money column": (
        lambda b: b.update(
            lines=[{"sku": "TSHIRT-BLK-M", "quantity": 9, "unit_price": "9999999999.99"}] * 3
        ),
        "lines",
    ),
    "email longer than the column": (
        lambda b: (
            b.pop("customer"),
            b.update(
                email="a" * 60 + "." + "b" * 60 + "." + "c" * 60 + "." + "d" * 60 + "@example.com"
            ),
        ),
        "email",
    ),
    "draft with a stock hold": (
        lambda b: b.update(draft=True, reservation_token="abc"),
        "reservation_token",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_a_4xx_naming_the_field_and_writes_nothing(api, stocked, case):
    mutate, field = BAD_INPUTS[case]
    body = order_payload()
    mutate(body)
    before = row_counts()

    response = post(api, body)

    assert 400 <= response.status_code < 500, response.content
    error = response.json()["error"]
    assert error["code"] and error["message"]
    assert any(key.startswith(field) for key in error["fields"]), error
    assert row_counts() == before


def test_oversized_payload_is_refused(api, stocked, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = order_payload(notes="x" * 20_000)
    before = row_counts()
    response = post(api, body)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert row_counts() == before


def test_malformed_json_is_a_400(api, stocked):
    response = api.post(URL, data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_list_filters_and_cursor_pagination(api, stocked):
    for i in range(5):
        post(api, order_payload(external_id=f"p-{i}", lines=((stocked.code, 1),)))
    first = api.get(URL, {"page_size": 2}).json()
    assert [o["external_id"] for o in first["results"]] == ["p-4", "p-3"]
    second = api.get(first["next"]).json()
    assert [o["external_id"] for o in second["results"]] == ["p-2", "p-1"]

    assert api.get(URL, {"external_id": "p-3"}).json()["results"][0]["external_id"] == "p-3"
    assert len(api.get(URL, {"status": "allocated"}).json()["results"]) == 5
    assert api.get(URL, {"status": "cancelled"}).json()["results"] == []
    assert len(api.get(URL, {"sku": stocked.code}).json()["results"]) == 5
    assert len(api.get(URL, {"q": "erika@example"}).json()["results"]) == 5
    assert (
        len(api.get(URL, {"channel": "web", "email": "ERIKA@example.com"}).json()["results"]) == 5
    )


def test_list_free_text_search_is_the_dashboards(api, stocked):
    post(api, order_payload(external_id="s-1"))
    other = order_payload(external_id="s-2")
    other["shipping_address"] |= {"name": "Ingrid Bergman", "postal_code": "0150"}
    number = post(api, other).json()["number"]

    def found(text):
        return [o["number"] for o in api.get(URL, {"q": text}).json()["results"]]

    assert found("bergman") == [number]  # the recipient's name, any case
    assert found("0150") == [number]  # a postal code
    assert found(number) == [number]
    assert found(stocked.code[:4]) != []  # a SKU code's beginning
    assert found("nobody-at-all") == []


def test_list_runs_a_fixed_number_of_queries(api, stocked, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    other = SKUFactory(code="MUG-1")
    stock(other, WarehouseFactory(code="lyo", city="Lyon", country="FR"), 50)
    for i in range(12):
        post(api, order_payload(external_id=f"q-{i}", lines=((stocked.code, 0 + 1), ("MUG-1", 2))))
    counts = []
    for size in (2, 12):
        with CaptureQueriesContext(connection) as ctx:
            assert api.get(URL, {"page_size": size}).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_hold_release_cancel_through_the_api(api, stocked):
    number = post(api, order_payload()).json()["number"]

    held = api.post(f"{URL}{number}/hold/", {"reason": "customer called"}, format="json")
    assert held.status_code == 200 and held.json()["status"] == "on_hold"
    assert held.json()["hold_reason"] == "customer called"

    released = api.post(f"{URL}{number}/release/", {}, format="json")
    assert released.json()["status"] == "allocated"

    cancelled = api.post(f"{URL}{number}/cancel/", {"reason": "fraud"}, format="json")
    assert cancelled.json()["status"] == "cancelled"
    assert StockLevel.objects.get(sku=stocked).allocated == 0

    again = api.post(f"{URL}{number}/cancel/", {}, format="json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "transition_not_allowed"


def test_hold_needs_a_reason(api, stocked):
    number = post(api, order_payload()).json()["number"]
    response = api.post(f"{URL}{number}/hold/", {}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()["error"]["fields"]
    assert Order.objects.get(number=number).status == "allocated"


def test_ship_then_deliver_moves_stock_out(api, stocked):
    number = post(api, order_payload()).json()["number"]
    shipped = api.post(
        f"{URL}{number}/ship/", {"carrier": "DHL", "tracking_number": "JJD01"}, format="json"
    )
    assert shipped.json()["status"] == "shipped"
    level = StockLevel.objects.get(sku=stocked)
    assert (level.on_hand, level.allocated) == (8, 0)
    assert api.post(f"{URL}{number}/deliver/", {}, format="json").json()["status"] == "delivered"
    refused = api.post(f"{URL}{number}/cancel/", {}, format="json")
    assert refused.status_code == 409


def test_events_endpoint_lists_the_trail(api, stocked):
    number = post(api, order_payload()).json()["number"]
    events = api.get(f"{URL}{number}/events/").json()
    assert [e["kind"] for e in events][:2] == ["created", "status_changed"]
    assert events[1]["from_status"] == "draft" and events[1]["to_status"] == "pending"
    assert events[0]["actor"] == "api-key:integration"


def test_unknown_order_is_a_404_json(api):
    response = api.get(f"{URL}SO-9999999/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_key_without_write_scope_cannot_create(make_api_key, stocked):
    client, _, _ = make_api_key(scopes=["orders:read"])
    response = post(client, order_payload())
    assert response.status_code == 403
    assert Order.objects.count() == 0


def test_key_scoped_to_a_channel_sees_and_creates_only_there(make_api_key, api, stocked):
    ChannelFactory(code="ebay", name="eBay", kind="ebay", currency="EUR")
    post(api, order_payload(channel="ebay"))
    client, _, _ = make_api_key(channel_codes=["web"])
    assert post(client, order_payload(channel="ebay")).status_code == 403
    assert post(client, order_payload(channel="web")).status_code == 201
    listed = client.get(URL).json()["results"]
    assert {o["channel"] for o in listed} == {"web"}


def test_revoked_or_wrong_key_is_refused(make_api_key, stocked):
    client, api_key, _ = make_api_key()
    api_key.revoked = True
    api_key.save()
    assert client.get(URL).status_code in (401, 403)
    from rest_framework.test import APIClient

    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION="Api-Key abc.def")
    assert stranger.get(URL).status_code in (401, 403)


def test_a_key_in_use_stops_working_when_revoked(make_api_key, stocked):
    # The key is looked up once and kept by the process; revoking it must still count
    # from the next request on.
    client, api_key, _ = make_api_key()
    assert client.get(URL).status_code == 200
    api_key.revoked = True
    api_key.save()
    assert client.get(URL).status_code == 401


def test_a_revocation_by_another_process_is_seen_at_the_next_check(
    make_api_key, stocked, monkeypatch
):
    from oms_site import process_cache
    from oms_site.models import ApiKey, CacheVersion

    client, api_key, _ = make_api_key()
    monkeypatch.setattr(process_cache, "CHECK_SECONDS", 3600)
    assert client.get(URL).status_code == 200
    # Another process revokes it: its row and the cache's token change, this process's
    # copy does not.
    ApiKey.objects.filter(pk=api_key.pk).update(revoked=True)
    CacheVersion.objects.update_or_create(name="oms_site.api_keys", defaults={"version": 7})
    assert client.get(URL).status_code == 200  # until the next check the copy is used
    monkeypatch.setattr(process_cache, "CHECK_SECONDS", 0)
    assert client.get(URL).status_code == 401


def test_key_use_is_recorded(make_api_key, stocked):
    client, api_key, _ = make_api_key()
    client.get(URL)
    api_key.refresh_from_db()
    assert api_key.last_used_at is not None


def test_schema_and_offline_docs_are_served(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/orders/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    # Swagger UI comes from the sidecar package, served by the app itself: no CDN.
    assert b"cdn" not in docs.content.lower()
    assert b"/static/drf_spectacular_sidecar/" in docs.content
