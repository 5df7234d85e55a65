"""Warehouse staff act only on orders in their warehouses, on the pages and in the API.

The world: an order allocated at Leeds (``lds``), another at Berlin (``ber``), and a
warehouse user assigned to Berlin only. Every order action is tried across warehouses.
"""

import pytest
from django.urls import reverse

from inventory.models import StockMovement, WarehouseAccess
from oms_site.actors import Actor
from orders import services
from orders.models import Order, OrderStatus
from tests import factories
from tests.helpers import row_counts

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("test")
ADDRESS = {"name": "Ann Smith", "line1": "1 High St", "city": "Leeds", "country": "GB"}
# Every action a page or the API offers on an order, with the body the API takes.
API_ACTIONS = {
    "hold": {"reason": "check"},
    "release": {},
    "cancel": {},
    "reroute": {},
    "ship": {},
    "deliver": {},
    "submit": {},
    "notes": {"text": "hi"},
    "edit": {"shipping_address": ADDRESS | {"city": "York"}},
}
PAGE_ACTIONS = {
    "hold": {"reason": "check"},
    "release": {},
    "cancel": {},
    "reroute": {},
    "ship": {},
    "deliver": {},
    "submit": {},
    "note": {"text": "hi"},
    "edit": {"addr-name": "Ann Smith", "addr-line1": "1 High St", "addr-city": "York"},
}


@pytest.fixture
def world(channel, users):
    berlin = factories.WarehouseFactory(code="ber", city="Berlin", country="DE")
    leeds = factories.WarehouseFactory(code="lds", city="Leeds", country="GB")
    at_berlin = factories.SKUFactory(code="BER-ONLY")
    at_leeds = factories.SKUFactory(code="LDS-ONLY")
    factories.stock(at_berlin, berlin, 10)
    factories.stock(at_leeds, leeds, 10)
    WarehouseAccess.objects.create(user=users["warehouse"], warehouse=berlin)

    def place(code):
        order = services.place_order(
            channel=channel,
            lines=[{"sku": code, "quantity": 1}],
            shipping_address=ADDRESS,
            actor=SYSTEM,
        )
        assert order.status == OrderStatus.ALLOCATED
        return order

    return {"berlin_order": place("BER-ONLY"), "leeds_order": place("LDS-ONLY")}


def _fresh(order):
    return Order.objects.get(pk=order.pk)


# --- API ---------------------------------------------------------------------------------


@pytest.mark.parametrize("action", sorted(API_ACTIONS))
def test_api_refuses_every_action_on_another_warehouses_order(api_for, world, action):
    order = world["leeds_order"]
    if action == "deliver":
        services.ship_order(order, actor=SYSTEM)
    before = row_counts()
    status = _fresh(order).status
    response = api_for("warehouse").post(
        f"/api/v1/orders/{order.number}/{action}/", API_ACTIONS[action], format="json"
    )
    assert response.status_code == 403, response.content
    assert response.json()["error"]["code"] == "permission_denied"
    assert row_counts() == before
    assert _fresh(order).status == status


def test_api_ships_an_order_in_the_users_warehouse(api_for, world):
    order = world["berlin_order"]
    response = api_for("warehouse").post(f"/api/v1/orders/{order.number}/ship/", {}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == OrderStatus.SHIPPED
    assert response.json()["allowed_actions"] == ["deliver"]
    delivered = api_for("warehouse").post(
        f"/api/v1/orders/{order.number}/deliver/", {}, format="json"
    )
    assert delivered.status_code == 200
    assert delivered.json()["status"] == OrderStatus.DELIVERED


def test_api_refuses_delivering_what_another_warehouse_shipped(api_for, world):
    order = world["leeds_order"]
    services.ship_order(order, actor=SYSTEM)
    response = api_for("warehouse").post(
        f"/api/v1/orders/{order.number}/deliver/", {}, format="json"
    )
    assert response.status_code == 403
    assert _fresh(order).status == OrderStatus.SHIPPED


def test_api_offers_warehouse_work_only_in_the_users_warehouses(api_for, world):
    client = api_for("warehouse")
    berlin = client.get(f"/api/v1/orders/{world['berlin_order'].number}/").json()
    leeds = client.get(f"/api/v1/orders/{world['leeds_order'].number}/").json()
    assert berlin["allowed_actions"] == ["ship"]
    assert leeds["allowed_actions"] == []
    listed = {
        o["number"]: o["allowed_actions"] for o in client.get("/api/v1/orders/").json()["results"]
    }
    assert listed == {world["berlin_order"].number: ["ship"], world["leeds_order"].number: []}


def test_api_allowed_actions_follow_role_and_scope(api_for, make_api_key, world):
    number = world["leeds_order"].number
    manager = api_for("manager").get(f"/api/v1/orders/{number}/").json()
    assert manager["allowed_actions"] == ["hold", "cancel", "reroute", "edit", "ship", "note"]
    support = api_for("support").get(f"/api/v1/orders/{number}/").json()
    assert support["allowed_actions"] == ["hold", "cancel", "edit", "note"]
    reader, _, _ = make_api_key(scopes=["orders:read"])
    assert reader.get(f"/api/v1/orders/{number}/").json()["allowed_actions"] == []
    writer, _, _ = make_api_key(scopes=["orders:read", "orders:write"])
    assert writer.get(f"/api/v1/orders/{number}/").json()["allowed_actions"] == [
        "hold",
        "cancel",
        "reroute",
        "edit",
        "ship",
        "note",
    ]


def test_api_pending_order_offers_reroute_like_the_page(api_for, manager_client, channel, world):
    order = services.place_order(
        channel=channel,
        lines=[{"sku": "BER-ONLY", "quantity": 1}],
        shipping_address=ADDRESS,
        actor=SYSTEM,
        draft=True,
    )
    services.submit_draft(order, actor=SYSTEM)
    services.hold_order(order, reason="check", actor=SYSTEM)
    services.release_order(order, actor=SYSTEM)
    order = _fresh(order)
    api = api_for("manager").get(f"/api/v1/orders/{order.number}/").json()["allowed_actions"]
    page = manager_client.get(reverse("orders:detail", args=[order.number])).context["actions"]
    assert set(api) == {name for name, shown in page.items() if shown}


def test_api_list_filters_to_my_warehouses(api_for, world):
    client = api_for("warehouse")
    mine = client.get("/api/v1/orders/", {"mine": "true"}).json()["results"]
    assert [o["number"] for o in mine] == [world["berlin_order"].number]
    at_leeds = client.get("/api/v1/orders/", {"warehouse": "lds"}).json()["results"]
    assert [o["number"] for o in at_leeds] == [world["leeds_order"].number]
    everything = client.get("/api/v1/orders/").json()["results"]
    assert len(everything) == 2


# --- pages -------------------------------------------------------------------------------


@pytest.fixture
def manager_client(client_for):
    return client_for("manager")


def test_page_shows_no_warehouse_buttons_on_another_warehouses_order(client_for, world):
    client = client_for("warehouse")
    leeds = client.get(reverse("orders:detail", args=[world["leeds_order"].number]))
    berlin = client.get(reverse("orders:detail", args=[world["berlin_order"].number]))
    assert not any(leeds.context["actions"].values())
    assert "Mark shipped" not in leeds.content.decode()
    assert {name for name, shown in berlin.context["actions"].items() if shown} == {"ship"}
    assert "Mark shipped" in berlin.content.decode()


@pytest.mark.parametrize("action", sorted(PAGE_ACTIONS))
def test_page_refuses_every_action_on_another_warehouses_order(client_for, world, action):
    order = world["leeds_order"]
    if action == "deliver":
        services.ship_order(order, actor=SYSTEM)
    status = _fresh(order).status
    movements = StockMovement.objects.count()
    client = client_for("warehouse")
    response = client.post(reverse(f"orders:{action}", args=[order.number]), PAGE_ACTIONS[action])
    # Actions outside the role are a 403 page; warehouse work elsewhere is a refusal message.
    assert response.status_code in (302, 403)
    if response.status_code == 302:
        followed = client.get(response["Location"])
        assert "not in your warehouses" in " ".join(str(m) for m in followed.context["messages"])
    assert _fresh(order).status == status
    assert StockMovement.objects.count() == movements


def test_page_ships_an_order_in_the_users_warehouse(client_for, world):
    order = world["berlin_order"]
    client_for("warehouse").post(reverse("orders:ship", args=[order.number]), {})
    assert _fresh(order).status == OrderStatus.SHIPPED


def test_page_list_filters_to_my_warehouses(client_for, world):
    client = client_for("warehouse")
    mine = client.get(reverse("orders:list"), {"mine": "on"})
    assert [o.number for o in mine.context["page"].orders] == [world["berlin_order"].number]
    assert "My warehouses" in mine.content.decode()
    by_code = client_for("manager").get(reverse("orders:list"), {"warehouse": "lds"})
    assert [o.number for o in by_code.context["page"].orders] == [world["leeds_order"].number]
    assert "My warehouses" not in by_code.content.decode()


# --- stock, by the same rule as the stock page --------------------------------------------


def test_stock_api_shows_warehouse_staff_only_their_warehouses(api_for, client_for, world):
    api_levels = api_for("warehouse").get("/api/v1/stock/").json()["results"]
    assert {row["warehouse"] for row in api_levels} == {"ber"}
    movements = api_for("warehouse").get("/api/v1/stock/movements/").json()["results"]
    assert movements and {row["warehouse"] for row in movements} == {"ber"}
    page = client_for("warehouse").get(reverse("inventory:stock"))
    assert {level.warehouse.code for level in page.context["page"].rows} == {"ber"}
    everyone = api_for("manager").get("/api/v1/stock/").json()["results"]
    assert {row["warehouse"] for row in everyone} == {"ber", "lds"}
