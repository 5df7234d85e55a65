"""What an integrator needs besides orders: webhook envelopes they can order and
de-duplicate, the order's own customer snapshot, and API endpoints for the catalogue and
for webhook subscriptions."""

import json

import pytest

from inventory.models import SKU, Product
from oms_site import webhooks
from oms_site.models import OutboxEvent, WebhookDelivery, WebhookSubscription
from orders.models import Customer, Order

from ..factories import SupplierFactory, stock
from ..helpers import order_payload
from ..stub_http import StubServer

pytestmark = pytest.mark.django_db


# --- Webhook envelope ----------------------------------------------------------------------


def test_every_event_has_an_id_a_time_and_a_sequence_per_subject(
    api, channel, warehouse, sku, django_capture_on_commit_callbacks
):
    stock(sku, warehouse, 10)
    with StubServer([200] * 10) as stub:
        WebhookSubscription.objects.create(name="erp", url=stub.url, secret="s", event_types=[])
        with django_capture_on_commit_callbacks(execute=True):
            number = api.post("/api/v1/orders/", order_payload(), format="json").json()["number"]
        with django_capture_on_commit_callbacks(execute=True):
            api.post(f"/api/v1/orders/{number}/hold/", {"reason": "check"}, format="json")
        with django_capture_on_commit_callbacks(execute=True):
            api.post(f"/api/v1/orders/{number}/cancel/", {}, format="json")
        bodies = [json.loads(request["body"]) for request in stub.requests]
    orders = [b for b in bodies if b["subject"] == f"order:{number}"]
    assert [b["type"] for b in orders] == [
        "order.created",
        "order.status_changed",
        "order.status_changed",
        "order.cancelled",
    ]
    assert [b["sequence"] for b in orders] == [1, 2, 3, 4]
    assert len({b["id"] for b in bodies}) == len(bodies)
    assert all(b["created_at"] for b in bodies)
    headers = stub.requests[0]["headers"]
    assert headers["X-OMS-Event-Id"] == str(bodies[0]["id"])


def test_sequences_count_per_subject():
    first = webhooks.publish("order.created", {"number": "SO-1"})
    other = webhooks.publish("order.created", {"number": "SO-2"})
    second = webhooks.publish("order.status_changed", {"number": "SO-1"})
    assert (first.sequence, other.sequence, second.sequence) == (1, 1, 2)
    level = webhooks.publish("stock.changed", {"sku": "A", "warehouse": "ber"})
    assert level.subject == "stock:A@ber" and level.sequence == 1


# --- Customer snapshot -----------------------------------------------------------------


def test_an_order_keeps_the_customer_name_it_was_given(api, channel, warehouse, sku):
    stock(sku, warehouse, 10)
    first = order_payload()
    first["customer"] = {"email": "kari@example.com", "name": "Kari Nordmann"}
    assert api.post("/api/v1/orders/", first, format="json").status_code == 201
    second = order_payload()
    second["customer"] = {"email": "kari@example.com", "name": "Kari N.", "phone": "+47 1234"}
    body = api.post("/api/v1/orders/", second, format="json").json()

    assert body["customer"] == {
        "email": "kari@example.com",
        "name": "Kari N.",
        "phone": "+47 1234",
    }
    customer = Customer.objects.get(email="kari@example.com")
    # The record keeps its name; a phone it lacked is filled in.
    assert (customer.name, customer.phone) == ("Kari Nordmann", "+47 1234")
    names = list(Order.objects.order_by("pk").values_list("customer_name", flat=True))
    assert names == ["Kari Nordmann", "Kari N."]


# --- Catalogue API ---------------------------------------------------------------------


def catalogue_client(make_api_key):
    client, _, _ = make_api_key(scopes=["catalog:write", "stock:read"])
    return client


def test_create_update_and_deactivate_an_sku(make_api_key, db):
    client = catalogue_client(make_api_key)
    SupplierFactory(code="acme")
    created = client.post(
        "/api/v1/skus/",
        {
            "sku": "MUG-RED",
            "product": "Mug",
            "name": "Red",
            "price": "9.90",
            "barcode": "4006381333931",
            "supplier": "acme",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["supplier"] == "acme" and created.json()["price"] == "9.900"

    changed = client.patch("/api/v1/skus/MUG-RED/", {"price": "11.00"}, format="json")
    assert changed.status_code == 200 and changed.json()["price"] == "11.000"
    assert changed.json()["name"] == "Red"

    gone = client.post("/api/v1/skus/MUG-RED/deactivate/")
    assert gone.status_code == 200 and gone.json()["active"] is False
    assert SKU.objects.get(code="MUG-RED").active is False


def test_the_api_refuses_what_the_csv_import_refuses(make_api_key, db):
    client = catalogue_client(make_api_key)
    response = client.post(
        "/api/v1/skus/",
        {"sku": "X", "product": "P", "barcode": "4006381333932", "currency": "XXY"},
        format="json",
    )
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"barcode", "currency"}
    assert not SKU.objects.exists()
    duplicate = {"sku": "DUP", "product": "P"}
    assert client.post("/api/v1/skus/", duplicate, format="json").status_code == 201
    again = client.post("/api/v1/skus/", duplicate, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "duplicate_sku"


def test_products_create_update_and_deactivate_their_skus(make_api_key, db):
    client = catalogue_client(make_api_key)
    product = client.post("/api/v1/products/", {"name": "Lamp"}, format="json").json()
    client.post("/api/v1/skus/", {"sku": "LAMP-1", "product": "Lamp"}, format="json")
    renamed = client.patch(f"/api/v1/products/{product['id']}/", {"brand": "Lux"}, format="json")
    assert renamed.json()["brand"] == "Lux" and renamed.json()["skus"] == ["LAMP-1"]
    response = client.post(f"/api/v1/products/{product['id']}/deactivate/")
    assert response.json() == {"deactivated_skus": 1}
    assert Product.objects.get().skus.get().active is False


def test_catalogue_writes_need_their_scope(make_api_key, db):
    client, _, _ = make_api_key(scopes=["stock:read", "stock:write", "orders:write"])
    response = client.post("/api/v1/skus/", {"sku": "A", "product": "P"}, format="json")
    assert response.status_code == 403
    assert client.get("/api/v1/skus/").status_code == 200


# --- Webhook subscriptions API -------------------------------------------------------------


def test_webhook_subscription_lifecycle(make_api_key, settings, db):
    settings.OMS_WEBHOOK_ALLOW_PRIVATE = False
    client, _, _ = make_api_key(scopes=["webhooks:manage"])
    created = client.post(
        "/api/v1/webhooks/",
        {"name": "ERP", "url": "https://erp.example.com/hook", "event_types": ["order.created"]},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    secret = body["secret"]
    assert len(secret) >= 32
    listed = client.get("/api/v1/webhooks/").json()["results"]
    assert [s["name"] for s in listed] == ["ERP"] and "secret" not in listed[0]

    rotated = client.post(f"/api/v1/webhooks/{body['id']}/rotate-secret/").json()
    assert rotated["secret"] != secret
    assert WebhookSubscription.objects.get().secret == rotated["secret"]

    refused = client.post(
        "/api/v1/webhooks/", {"name": "x", "url": "http://127.0.0.1/"}, format="json"
    )
    assert refused.status_code == 422 and "url" in refused.json()["error"]["fields"]

    assert client.delete(f"/api/v1/webhooks/{body['id']}/").status_code == 204
    assert not WebhookSubscription.objects.exists()


def test_redeliver_through_the_api(make_api_key, django_capture_on_commit_callbacks):
    client, _, _ = make_api_key(scopes=["webhooks:manage"])
    with StubServer([500, 200]) as stub:
        subscription = WebhookSubscription.objects.create(name="erp", url=stub.url, secret="s")
        with django_capture_on_commit_callbacks(execute=True):
            webhooks.publish("order.created", {"number": "SO-1"})
        delivery = WebhookDelivery.objects.get()
        assert delivery.status == "retrying"
        deliveries = client.get(f"/api/v1/webhooks/{subscription.pk}/deliveries/").json()
        assert [d["id"] for d in deliveries["results"]] == [delivery.pk]
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"/api/v1/webhooks/{subscription.pk}/redeliver/",
                {"delivery_ids": [delivery.pk]},
                format="json",
            )
        assert response.status_code == 200, response.content
        assert len(stub.requests) == 2
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"
    assert OutboxEvent.objects.count() == 1


def test_a_url_the_server_wont_call_is_a_422(make_api_key, db):
    client, _, _ = make_api_key(scopes=["webhooks:manage"])
    host = ".".join(["a" * 63] * 5)  # a well-formed URI, but a host name over 253 characters
    response = client.post(
        "/api/v1/webhooks/", {"name": "x", "url": f"https://{host}/hook"}, format="json"
    )
    assert response.status_code == 422
    assert "url" in response.json()["error"]["fields"]
