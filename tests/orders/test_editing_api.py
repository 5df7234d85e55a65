"""Editing through the API (POST /api/v1/orders/{number}/edit/) and the order page:
shapes, error codes, idempotency, roles and warehouse scope, Norwegian."""

import json

import pytest
from django.db import transaction

from inventory.models import WarehouseAccess
from oms_site.actors import Actor
from orders.models import Order, OrderEvent
from orders.services import place_order
from orders.services.editing import mark_picking_started

from ..factories import SKUFactory, stock
from ..helpers import row_counts

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("test")
ADDRESS = {"name": "Erika", "line1": "Heidestrasse 17", "city": "Berlin", "country": "DE"}
ALL = {"owner", "manager", "support", "warehouse", "readonly"}
EDITORS = {"owner", "manager", "support"}


@pytest.fixture
def order(channel, warehouse, sku, users):
    WarehouseAccess.objects.create(user=users["warehouse"], warehouse=warehouse)
    stock(sku, warehouse, 20)
    stock(SKUFactory(code="MUG-1", price="8.00"), warehouse, 20)
    return place_order(
        channel=channel,
        lines=[{"sku": sku.code, "quantity": 2}],
        shipping_address=ADDRESS,
        actor=ACTOR,
    )


def post(client, order, body, **headers):
    return client.post(
        f"/api/v1/orders/{order.number}/edit/",
        data=json.dumps(body),
        content_type="application/json",
        **headers,
    )


def test_the_api_edits_and_answers_with_the_order(api, order):
    line = order.lines.get()
    response = post(
        api,
        order,
        {"lines": [{"line": line.pk, "quantity": 3}, {"sku": "MUG-1", "quantity": 1}]},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["grand_total"] == "67.700"
    assert [(ln["sku"], ln["quantity"]) for ln in body["lines"]] == [
        ("TSHIRT-BLK-M", 3),
        ("MUG-1", 1),
    ]
    assert "edit" in body["allowed_actions"]
    assert body["picking_started_at"] is None


def test_a_retry_with_the_same_key_edits_once(api, order):
    line = order.lines.get()
    body = {"lines": [{"line": line.pk, "quantity": 5}], "reason": "phone call"}
    first = post(api, order, body, HTTP_IDEMPOTENCY_KEY="edit-1")
    again = post(api, order, body, HTTP_IDEMPOTENCY_KEY="edit-1")
    assert first.status_code == again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert (
        order.events.filter(kind=OrderEvent.Kind.EDITED, details__change="line_changed").count()
        == 1
    )
    other = post(
        api, order, {"lines": [{"line": line.pk, "quantity": 6}]}, HTTP_IDEMPOTENCY_KEY="edit-1"
    )
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"


def test_schema_violations_are_400_and_change_nothing(api, order):
    before = row_counts()
    for body, path in [
        ({"lines": [{"line": 1, "quantity": -1}]}, "lines.0.quantity"),
        ({"lines": [{"sku": "MUG-1", "quantity": "2"}]}, "lines.0.quantity"),
        ({"lines": [{"sku": "MUG-1", "quantity": 1, "colour": "red"}]}, "lines.0.colour"),
        (
            {"shipping_address": {"name": "A", "line1": "B", "city": "C"}},
            "shipping_address.country",
        ),
        ({"lines": [{"sku": "MUG-1", "quantity": 1, "unit_price": 9.9}]}, "lines.0.unit_price"),
    ]:
        response = post(api, order, body)
        assert response.status_code == 400, body
        assert path in response.json()["error"]["fields"], response.json()
    assert row_counts() == before


def test_refused_changes_are_422_naming_the_field(api, order):
    before = row_counts()
    response = post(api, order, {"lines": [{"sku": "NOPE", "quantity": 1}, {"quantity": 2}]})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) == {"lines.0.sku", "lines.1"}
    response = post(api, order, {"shipping_address": ADDRESS | {"country": "XX"}})
    assert response.status_code == 422
    assert "shipping_address.country" in response.json()["error"]["fields"]
    assert row_counts() == before


def test_after_picking_started_the_edit_is_refused_with_the_reason(api, order):
    with transaction.atomic():
        mark_picking_started([order.pk], actor=ACTOR, pick_list="PL-000007")
    response = post(api, order, {"shipping_address": ADDRESS | {"city": "Hamburg"}})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "order_not_editable"
    assert "Picking" in error["fields"]["status"][0]
    detail = api.get(f"/api/v1/orders/{order.number}/").json()
    assert "edit" not in detail["allowed_actions"]
    assert detail["picking_started_at"] is not None


def test_an_unknown_order_is_404(api, order):
    response = post(api, Order(number="SO-9999999"), {"lines": []})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("role", sorted(ALL))
def test_roles_that_may_edit_in_the_api(api_for, order, role):
    response = post(api_for(role), order, {"shipping_address": ADDRESS | {"city": "Potsdam"}})
    assert response.status_code == (200 if role in EDITORS else 403), response.json()
    edited = Order.objects.get(pk=order.pk).shipping_address["city"] == "Potsdam"
    assert edited == (role in EDITORS)


def test_an_api_key_needs_the_orders_write_scope(make_api_key, order):
    client, _, _ = make_api_key(scopes=["orders:read"])
    assert post(client, order, {"lines": []}).status_code == 403
    other_channel, _, _ = make_api_key(channel_codes=["pos"])
    assert post(other_channel, order, {"lines": []}).status_code == 404


# --- the page -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", sorted(ALL))
def test_roles_that_may_edit_on_the_page(client_for, order, role):
    client = client_for(role)
    page = client.get(f"/orders/{order.number}/")
    assert ('id="edit-order"' in page.content.decode()) == (role in EDITORS)
    response = client.get(f"/orders/{order.number}/edit/")
    assert response.status_code == (200 if role in EDITORS else 403)
    line = order.lines.get()
    response = client.post(
        f"/orders/{order.number}/edit/",
        {f"qty-{line.pk}": "4", **{f"addr-{k}": v for k, v in ADDRESS.items()}},
    )
    assert response.status_code == (302 if role in EDITORS else 403)
    line.refresh_from_db()
    assert line.quantity == (4 if role in EDITORS else 2)


def test_the_page_edits_lines_and_address(client_for, order):
    client = client_for("support")
    line = order.lines.get()
    response = client.post(
        f"/orders/{order.number}/edit/",
        {
            f"qty-{line.pk}": "1",
            "new-sku-0": "MUG-1",
            "new-qty-0": "2",
            "reason": "customer called",
            **{f"addr-{k}": v for k, v in (ADDRESS | {"line1": "Invalidenstrasse 1"}).items()},
        },
        follow=True,
    )
    html = response.content.decode()
    assert "is changed" in html
    assert "Line MUG-1" not in html  # new lines are "Line added"
    assert "Line added: MUG-1 x2" in html
    order.refresh_from_db()
    assert order.shipping_address["line1"] == "Invalidenstrasse 1"
    assert str(order.grand_total) == "35.900"


def test_the_page_shows_what_is_wrong_and_changes_nothing(client_for, order):
    client = client_for("manager")
    response = client.post(
        f"/orders/{order.number}/edit/",
        {"new-sku-0": "NOPE", "new-qty-0": "1", **{f"addr-{k}": v for k, v in ADDRESS.items()}},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Nothing was changed." in html and "lines.0.sku" in html
    assert order.lines.count() == 1


def test_the_page_sends_back_when_picking_started(client_for, order):
    with transaction.atomic():
        mark_picking_started([order.pk], actor=ACTOR, pick_list="PL-000008")
    response = client_for("manager").get(f"/orders/{order.number}/edit/", follow=True)
    assert "Picking of order" in response.content.decode()
    assert 'id="edit-order"' not in response.content.decode()


def test_the_editor_speaks_norwegian(client_for, order):
    response = client_for("manager").get(
        f"/orders/{order.number}/edit/", HTTP_ACCEPT_LANGUAGE="nb-NO,nb;q=0.9"
    )
    html = response.content.decode()
    assert "Lagre endringene" in html
    assert "Leveringsadresse" in html


def test_the_order_page_says_when_picking_started(client_for, order):
    with transaction.atomic():
        mark_picking_started([order.pk], actor=ACTOR, pick_list="PL-000009")
    html = client_for("support").get(f"/orders/{order.number}/").content.decode()
    assert 'id="picking-started"' in html
    assert "the order can no longer be edited" in html
