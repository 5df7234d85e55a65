"""The returns API: the whole after-sales path, errors, and the role matrix."""

import pytest

from inventory.models import WarehouseAccess
from returns import services
from returns.models import ReturnRequest, ReturnStatus

from .conftest import SYSTEM, lines_of

pytestmark = pytest.mark.django_db


def test_after_sales_path_through_the_api(api, delivered, own_courier):
    order = delivered()
    body = {"order": order.number, "lines": lines_of(order, MUG_WHT=2)}
    made = api.post("/api/v1/returns/", body, format="json", HTTP_IDEMPOTENCY_KEY="r-1")
    assert made.status_code == 201, made.content
    again = api.post("/api/v1/returns/", body, format="json", HTTP_IDEMPOTENCY_KEY="r-1")
    assert again.json()["number"] == made.json()["number"]
    assert ReturnRequest.objects.count() == 1
    number = made.json()["number"]
    url = f"/api/v1/returns/{number}/"
    approved = api.post(url + "approve/", {"carrier": "own"}, format="json")
    assert approved.json()["status"] == "label_sent" and approved.json()["has_label"]
    received = api.post(url + "receive/", {}, format="json")
    assert received.json()["status"] == "received"
    line_id = received.json()["lines"][0]["id"]
    inspected = api.post(
        url + "inspect/", {"lines": [{"line": line_id, "outcome": "restock"}]}, format="json"
    )
    assert inspected.json()["status"] == "inspected"
    assert inspected.json()["lines"][0]["restocked"] is True
    closed = api.post(url + "close/", {"restocking_fee": "1.00"}, format="json")
    assert closed.status_code == 200, closed.content
    data = closed.json()
    assert data["status"] == "closed"
    assert data["refunds"][0]["status"] == "succeeded" and data["refunds"][0]["credit_note"]
    listed = api.get("/api/v1/returns/?status=closed").json()
    assert [r["number"] for r in listed["results"]] == [number]


def test_over_return_is_422_naming_the_line(api, delivered):
    order = delivered()
    body = {"order": order.number, "lines": lines_of(order, MUG_WHT=5)}
    answer = api.post("/api/v1/returns/", body, format="json")
    assert answer.status_code == 422
    assert "lines.0.quantity" in answer.json()["error"]["fields"]
    assert ReturnRequest.objects.count() == 0


def test_bad_input_is_400_and_wrong_state_409(api, delivered):
    order = delivered()
    answer = api.post("/api/v1/returns/", {"order": order.number, "lines": []}, format="json")
    assert answer.status_code == 400
    rr = services.create_return(order=order, lines=lines_of(order, MUG_WHT=1), actor=SYSTEM)
    answer = api.post(f"/api/v1/returns/{rr.number}/close/", {}, format="json")
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "transition_not_allowed"


def test_exchange_through_the_api(api, delivered):
    order = delivered()
    rr = services.create_return(order=order, lines=lines_of(order, MUG_WHT=1), actor=SYSTEM)
    services.approve_return(rr, actor=SYSTEM)
    answer = api.post(
        f"/api/v1/returns/{rr.number}/exchange/",
        {"lines": [{"sku": "CAP-RED", "quantity": 2}]},
        format="json",
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["exchange_order"].startswith("SO-")


def test_another_warehouse_user_gets_404_and_cannot_receive(api_for, users, delivered, leeds):
    order = delivered()
    rr = services.create_return(order=order, lines=lines_of(order, MUG_WHT=1), actor=SYSTEM)
    services.approve_return(rr, actor=SYSTEM)
    WarehouseAccess.objects.create(user=users["warehouse"], warehouse=leeds)
    client = api_for("warehouse")
    assert client.get(f"/api/v1/returns/{rr.number}/").status_code == 404
    assert (
        client.post(f"/api/v1/returns/{rr.number}/receive/", {}, format="json").status_code == 404
    )
    rr.refresh_from_db()
    assert rr.status == ReturnStatus.APPROVED


ALL = {"owner", "manager", "support", "warehouse", "readonly"}
MATRIX = [
    ("GET", "/api/v1/returns/", None, ALL),
    ("GET", "/api/v1/returns/{number}/", None, ALL),
    ("POST", "/api/v1/returns/", "new", {"owner", "manager", "support"}),
    ("POST", "/api/v1/returns/{number}/approve/", {}, {"owner", "manager", "support"}),
    ("POST", "/api/v1/returns/{number}/reject/", {"reason": "no"}, {"owner", "manager", "support"}),
    ("POST", "/api/v1/returns/{approved}/receive/", {}, {"owner", "manager", "warehouse"}),
    ("POST", "/api/v1/returns/{received}/inspect/", "inspect", {"owner", "manager", "warehouse"}),
    ("POST", "/api/v1/returns/{inspected}/close/", {}, {"owner", "manager", "support"}),
    (
        "POST",
        "/api/v1/returns/{approved}/exchange/",
        {"lines": [{"sku": "CAP-RED", "quantity": 1}]},
        {"owner", "manager", "support"},
    ),
]


@pytest.mark.parametrize(
    ("method", "url", "body", "role", "allowed"),
    [(m, u, b, role, role in allowed) for m, u, b, allowed in MATRIX for role in sorted(ALL)],
)
def test_api_role_matrix(api_for, warehouse_user, delivered, method, url, body, role, allowed):
    order = delivered(("MUG-WHT", 3), ("CAP-RED", 3))

    def new(**q):
        return services.create_return(order=order, lines=lines_of(order, **q), actor=SYSTEM)

    requested = new(MUG_WHT=1)
    approved = services.approve_return(new(CAP_RED=1), actor=SYSTEM)
    received = services.receive_return(
        services.approve_return(new(MUG_WHT=1), actor=SYSTEM), actor=SYSTEM
    )
    inspected = services.receive_return(
        services.approve_return(new(CAP_RED=1), actor=SYSTEM), actor=SYSTEM
    )
    services.inspect_return(
        inspected, actor=SYSTEM, lines={inspected.lines.get().pk: ("dispose", "")}
    )
    url = url.format(
        number=requested.number,
        approved=approved.number,
        received=received.number,
        inspected=inspected.number,
    )
    if body == "new":
        body = {"order": order.number, "lines": lines_of(order, MUG_WHT=1)}
    elif body == "inspect":
        body = {"lines": [{"line": received.lines.get().pk, "outcome": "restock"}]}
    client = api_for(role)
    answer = client.get(url) if method == "GET" else client.post(url, body, format="json")
    if allowed:
        assert answer.status_code in (200, 201), answer.content
    else:
        assert answer.status_code == 403, answer.content
