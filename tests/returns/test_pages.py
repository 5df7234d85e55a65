"""The returns pages: queue, detail with inspection, receive by scan, the customer's
return request within the window and not after, and the page role matrix."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from inventory.models import WarehouseAccess
from orders.models import OrderEvent
from returns import services
from returns.models import ReturnRequest, ReturnSource, ReturnStatus

from .conftest import SYSTEM, lines_of

pytestmark = pytest.mark.django_db


def test_customer_asks_within_the_window(delivered):
    order = delivered()
    client = Client()
    page = client.get(f"/track/{order.tracking_token}/")
    assert b'id="ask-return"' in page.content
    form = client.get(f"/track/{order.tracking_token}/return/")
    assert form.status_code == 200
    mug = order.lines.get(sku_code="MUG-WHT")
    answer = client.post(
        f"/track/{order.tracking_token}/return/",
        {
            f"line-{mug.pk}-quantity": "1",
            f"line-{mug.pk}-reason": "does_not_fit",
            f"line-{mug.pk}-comment": "Too small",
        },
    )
    assert answer.status_code == 302
    rr = ReturnRequest.objects.get()
    assert rr.source == ReturnSource.CUSTOMER
    assert rr.lines.get().comment == "Too small"
    page = client.get(f"/track/{order.tracking_token}/")
    assert rr.number.encode() in page.content


def test_customer_is_refused_after_the_window(delivered):
    order = delivered()
    late = timezone.now() - timedelta(days=order.channel.return_window_days + 1)
    OrderEvent.objects.filter(order=order, to_status="delivered").update(created_at=late)
    client = Client()
    assert b'id="ask-return"' not in client.get(f"/track/{order.tracking_token}/").content
    form = client.get(f"/track/{order.tracking_token}/return/")
    assert b'id="window-closed"' in form.content
    mug = order.lines.get(sku_code="MUG-WHT")
    client.post(
        f"/track/{order.tracking_token}/return/",
        {f"line-{mug.pk}-quantity": "1", f"line-{mug.pk}-reason": "other"},
    )
    assert ReturnRequest.objects.count() == 0


def test_a_wrong_token_shows_nothing(db):
    assert Client().get("/track/not-a-token/return/").status_code == 404


def test_receive_by_scan_then_inspect_on_the_pages(client_for, warehouse_user, delivered, skus):
    order = delivered()
    rr = services.create_return(order=order, lines=lines_of(order, MUG_WHT=2), actor=SYSTEM)
    services.approve_return(rr, actor=SYSTEM)
    client = client_for("warehouse")
    found = client.post("/returns/receive/", {"code": rr.number})
    assert found["Location"] == f"/returns/{rr.number}/receive/"
    wrong = client.post(
        f"/returns/{rr.number}/receive/scan/",
        {"code": skus["cap"].barcode},
        HTTP_ACCEPT="application/json",
    )
    assert wrong.status_code == 422 and not wrong.json()["ok"]
    for _ in range(2):
        ok = client.post(
            f"/returns/{rr.number}/receive/scan/",
            {"code": skus["mug"].barcode},
            HTTP_ACCEPT="application/json",
        )
        assert ok.json()["ok"]
    assert "2/2" in ok.json()["task_html"]
    client.post(f"/returns/{rr.number}/receive/finish/")
    rr.refresh_from_db()
    assert rr.status == ReturnStatus.RECEIVED
    detail = client.get(f"/returns/{rr.number}/")
    assert b'id="inspect"' in detail.content
    line = rr.lines.get()
    client.post(f"/returns/{rr.number}/inspect/", {f"line-{line.pk}-outcome": "restock"})
    rr.refresh_from_db()
    assert rr.status == ReturnStatus.INSPECTED


def test_staff_create_approve_close_on_the_pages(client_for, delivered):
    order = delivered()
    client = client_for("support")
    mug = order.lines.get(sku_code="MUG-WHT")
    answer = client.post(
        "/returns/new/",
        {"order": order.number, f"line-{mug.pk}-quantity": "1", f"line-{mug.pk}-reason": "damaged"},
    )
    rr = ReturnRequest.objects.get()
    assert answer["Location"] == f"/returns/{rr.number}/"
    client.post(f"/returns/{rr.number}/approve/")
    services.receive_return(rr, actor=SYSTEM)
    services.inspect_return(rr, actor=SYSTEM, lines={rr.lines.get().pk: ("restock", "")})
    page = client.get(f"/returns/{rr.number}/")
    assert b'id="close"' in page.content
    client.post(
        f"/returns/{rr.number}/close/",
        {"refund": "1", f"line-{rr.lines.get().pk}-refund": "1", "restocking_fee": "0"},
    )
    rr.refresh_from_db()
    assert rr.status == ReturnStatus.CLOSED and order.refunds.count() == 1
    assert rr.number.encode() in client.get("/returns/?status=closed").content


def test_another_warehouse_user_is_refused_the_receive_screen(client_for, users, delivered, leeds):
    order = delivered()
    rr = services.create_return(order=order, lines=lines_of(order, MUG_WHT=1), actor=SYSTEM)
    services.approve_return(rr, actor=SYSTEM)
    WarehouseAccess.objects.create(user=users["warehouse"], warehouse=leeds)
    client = client_for("warehouse")
    assert client.get(f"/returns/{rr.number}/receive/").status_code == 403
    assert client.post(f"/returns/{rr.number}/receive/finish/").status_code == 403
    assert rr.number.encode() not in client.get("/returns/").content
    rr.refresh_from_db()
    assert rr.status == ReturnStatus.APPROVED


def test_pages_speak_norwegian(client_for, delivered):
    order = delivered()
    services.create_return(order=order, lines=lines_of(order, MUG_WHT=1), actor=SYSTEM)
    client = client_for("manager")
    client.cookies["django_language"] = "nb"
    page = client.get("/returns/", HTTP_ACCEPT_LANGUAGE="nb")
    assert b"Returer" in page.content
    assert b"Forespurt" in page.content


ALL = {"owner", "manager", "support", "warehouse", "readonly"}
PAGES = [
    ("get", "/returns/", ALL),
    ("get", "/returns/{number}/", ALL),
    ("get", "/returns/new/?order={order}", {"owner", "manager", "support"}),
    ("post", "/returns/{number}/approve/", {"owner", "manager", "support"}),
    ("post", "/returns/{number}/reject/", {"owner", "manager", "support"}),
    ("post", "/returns/{number}/exchange/", {"owner", "manager", "support"}),
    ("post", "/returns/{number}/close/", {"owner", "manager", "support"}),
    ("get", "/returns/receive/", {"owner", "manager", "warehouse"}),
    ("get", "/returns/{number}/receive/", {"owner", "manager", "warehouse"}),
    ("post", "/returns/{number}/receive/scan/", {"owner", "manager", "warehouse"}),
    ("post", "/returns/{number}/inspect/", {"owner", "manager", "warehouse"}),
]


@pytest.mark.parametrize(
    ("method", "url", "role", "allowed"),
    [(m, u, role, role in allowed) for m, u, allowed in PAGES for role in sorted(ALL)],
)
def test_page_role_matrix(client_for, warehouse_user, delivered, method, url, role, allowed):
    order = delivered()
    rr = services.create_return(order=order, lines=lines_of(order, MUG_WHT=1), actor=SYSTEM)
    url = url.format(number=rr.number, order=order.number)
    answer = getattr(client_for(role), method)(url)
    if allowed:
        assert answer.status_code in (200, 302), answer.status_code
    else:
        assert answer.status_code == 403


def test_the_order_page_shows_its_returns_and_offers_one(client_for, delivered):
    order = delivered()
    support = client_for("support")
    page = support.get(f"/orders/{order.number}/").content.decode()
    assert 'id="start-return"' in page and f"/returns/new/?order={order.number}" in page
    mug = order.lines.get(sku_code="MUG-WHT")
    support.post(
        "/returns/new/",
        {"order": order.number, f"line-{mug.pk}-quantity": "1", f"line-{mug.pk}-reason": "damaged"},
    )
    rr = ReturnRequest.objects.get()
    page = support.get(f"/orders/{order.number}/").content.decode()
    assert 'id="order-returns"' in page and f"/returns/{rr.number}/" in page
    viewer = client_for("readonly").get(f"/orders/{order.number}/").content.decode()
    assert rr.number in viewer and 'id="start-return"' not in viewer
