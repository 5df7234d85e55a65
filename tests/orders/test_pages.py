"""The order pages: list, detail with its actions, and the new-order form.

Scenarios arrange the world with factories and services, act through the pages with a
logged-in client, and assert on what the person sees and on the database.
"""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from inventory.models import StockLevel, WarehouseAccess
from oms_site.actors import Actor
from orders import services
from orders.models import Order, OrderEvent, OrderStatus
from tests import factories
from tests.conftest import ROLES
from tests.helpers import row_counts

SYSTEM = Actor.system("test")
ADDRESS = {"name": "Erika Mustermann", "line1": "Heidestrasse 17", "city": "Köln", "country": "DE"}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """The ``users`` fixture hashes five passwords per test; the real hasher takes ~0.2 s
    each, which is most of these tests' time. (Autouse: set before ``users`` runs.)"""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def place(channel, sku_code="TSHIRT-BLK-M", quantity=1, **kwargs):
    kwargs.setdefault("shipping_address", ADDRESS)
    return services.place_order(
        channel=channel,
        lines=[{"sku": sku_code, "quantity": quantity}],
        actor=SYSTEM,
        **kwargs,
    )


def fresh(order) -> Order:
    return Order.objects.get(pk=order.pk)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def stocked(warehouse, sku):
    return factories.stock(sku, warehouse, 10)


@pytest.fixture
def order(channel, stocked):
    """An allocated order for one unit of TSHIRT-BLK-M from warehouse ber."""
    placed = place(channel)
    assert placed.status == OrderStatus.ALLOCATED
    return placed


@pytest.fixture
def manager(client_for):
    return client_for("manager")


def order_warehouse(order):
    return order.lines.get().allocations.get().warehouse


def detail_url(order):
    return reverse("orders:detail", args=[order.number])


def action_url(order, action):
    return reverse(f"orders:{action}", args=[order.number])


# --- the list -------------------------------------------------------------------------------


def test_list_shows_orders_newest_first(manager, channel, stocked):
    first, second = place(channel), place(channel)
    response = manager.get(reverse("orders:list"))
    assert response.status_code == 200
    assert [o.pk for o in response.context["page"].orders] == [second.pk, first.pk]
    html = response.content.decode()
    assert first.number in html and second.number in html
    assert 'class="badge st-allocated"' in html


def test_list_counts_by_status_as_links(manager, channel, stocked):
    place(channel)
    place(channel)
    held = place(channel)
    services.hold_order(held, reason="Check address", actor=SYSTEM)
    response = manager.get(reverse("orders:list"), {"channel": channel.code})
    links = {link["label"]: link for link in response.context["status_links"]}
    assert links["All"]["count"] == 3
    assert links["Allocated"]["count"] == 2
    assert links["On hold"]["count"] == 1
    assert links["Cancelled"]["count"] == 0
    assert "status=on_hold" in links["On hold"]["url"]
    assert "channel=web" in links["On hold"]["url"]


def test_status_counts_are_one_query(channel, stocked):
    from orders import selectors

    place(channel)
    with CaptureQueriesContext(connection) as queries:
        counts = selectors.status_counts(filters={"channel": "web"})
    assert len(queries) == 1
    assert counts["allocated"] == 1


def test_list_filters_by_status(manager, channel, stocked):
    place(channel)
    held = services.hold_order(place(channel), reason="Fraud check", actor=SYSTEM)
    response = manager.get(reverse("orders:list"), {"status": "on_hold"})
    assert [o.pk for o in response.context["page"].orders] == [held.pk]
    # The counts ignore the status filter so every status stays reachable.
    links = {link["label"]: link for link in response.context["status_links"]}
    assert links["Allocated"]["count"] == 1
    assert links["On hold"]["active"]


def test_list_filters_by_channel(manager, channel, stocked):
    other = factories.ChannelFactory(code="pos", name="Shop floor", kind="pos")
    place(channel)
    at_pos = place(other)
    response = manager.get(reverse("orders:list"), {"channel": "pos"})
    assert [o.pk for o in response.context["page"].orders] == [at_pos.pk]


@pytest.mark.parametrize(
    "text",
    ["SKU-SPECIAL", "sku-special", "erika@example", "Mustermann", "AMZ-123", "number"],
)
def test_list_search(manager, channel, warehouse, stocked, text):
    special = factories.SKUFactory(code="SKU-SPECIAL-1", price="5.00")
    factories.stock(special, warehouse, 5)
    place(channel)  # does not match anything searched for
    match = place(
        channel,
        sku_code="SKU-SPECIAL-1",
        external_id="AMZ-123",
        customer={"email": "erika@example.com", "name": "Erika Mustermann"},
    )
    query = match.number if text == "number" else text
    response = manager.get(reverse("orders:list"), {"q": query})
    assert [o.pk for o in response.context["page"].orders] == [match.pk]


def test_list_filters_by_created_dates(manager, channel, stocked):
    old, new = place(channel), place(channel)
    Order.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    today = timezone.localdate()
    response = manager.get(reverse("orders:list"), {"created_from": today.isoformat()})
    assert [o.pk for o in response.context["page"].orders] == [new.pk]
    response = manager.get(
        reverse("orders:list"), {"created_to": (today - timedelta(days=5)).isoformat()}
    )
    assert [o.pk for o in response.context["page"].orders] == [old.pk]


def test_list_bad_date_is_shown_and_ignored(manager, order):
    response = manager.get(reverse("orders:list"), {"created_from": "not-a-date"})
    assert response.status_code == 200
    assert "created_from" in response.context["form"].errors
    assert [o.pk for o in response.context["page"].orders] == [order.pk]


def test_list_runs_a_fixed_number_of_queries_and_pages_by_id(
    manager, channel, warehouse, stocked, django_assert_num_queries
):
    """Page sizes 5 and 50 cost the same queries; pages are cut by id, never OFFSET."""
    factories.stock(stocked.sku, warehouse, 100)
    channels = [channel, factories.ChannelFactory(code="ebay", name="eBay", kind="ebay")]

    def place_many(count, start):
        for n in range(start, start + count):
            place(channels[n % 2], customer={"email": f"c{n}@example.com", "name": f"C {n}"})

    place_many(5, 0)
    with CaptureQueriesContext(connection) as small:
        response = manager.get(reverse("orders:list"))
    assert len(response.context["page"].orders) == 5
    place_many(50, 5)
    cache.clear()  # unfiltered status counts are cached for a few seconds
    with django_assert_num_queries(len(small)) as big:
        response = manager.get(reverse("orders:list"))
    page = response.context["page"]
    assert len(page.orders) == 50
    assert not any("OFFSET" in q["sql"].upper() for q in big.captured_queries)

    newest = list(Order.objects.order_by("-pk").values_list("pk", flat=True))
    assert [o.pk for o in page.orders] == newest[:50]
    assert response.context["newer_url"] is None
    older = manager.get(reverse("orders:list") + response.context["older_url"])
    assert [o.pk for o in older.context["page"].orders] == newest[50:]
    assert older.context["older_url"] is None
    assert "Newer" in older.content.decode()
    back = manager.get(reverse("orders:list") + older.context["newer_url"])
    assert [o.pk for o in back.context["page"].orders] == newest[:50]


def test_list_keyset_selector_pages_both_ways(channel, stocked):
    from orders import selectors

    ids = [place(channel).pk for _ in range(5)][::-1]  # newest first
    first = selectors.order_list(filters={}, limit=2)
    assert [o.pk for o in first.orders] == ids[:2]
    assert first.newer_cursor is None and first.older_cursor == ids[1]
    second = selectors.order_list(filters={}, after=first.older_cursor, limit=2)
    assert [o.pk for o in second.orders] == ids[2:4]
    assert second.newer_cursor == ids[2]
    back = selectors.order_list(filters={}, before=second.newer_cursor, limit=2)
    assert [o.pk for o in back.orders] == ids[:2]
    assert back.newer_cursor is None
    last = selectors.order_list(filters={}, after=second.older_cursor, limit=2)
    assert [o.pk for o in last.orders] == ids[4:]
    assert last.older_cursor is None


def test_list_ignores_a_garbled_cursor(manager, order):
    response = manager.get(reverse("orders:list"), {"after": "x'; drop"})
    assert response.status_code == 200
    assert [o.pk for o in response.context["page"].orders] == [order.pk]


# --- the detail page -------------------------------------------------------------------------


def test_detail_shows_lines_totals_allocations_routing_and_timeline(manager, order):
    response = manager.get(detail_url(order))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="order-status">Allocated' in html
    assert "TSHIRT-BLK-M" in html
    assert "€19.90" in html  # unit price and total, in the order's currency and language
    assert "ber × 1" in html  # the allocation, per line
    assert "Heidestrasse 17" in html
    assert "Unpaid" in html
    decision = response.context["decision"]
    assert decision["decided_by"] and decision["explanation"] in html
    assert response.context["candidates"][0]["warehouse"] == "ber"
    events = list(response.context["order"].events.all())
    assert [e.kind for e in events][:2] == [OrderEvent.Kind.CREATED, OrderEvent.Kind.STATUS_CHANGED]
    assert 'id="timeline"' in html and "test" in html  # the actor label


def test_detail_shows_the_hold_reason(manager, order):
    services.hold_order(order, reason="Address looks odd", actor=SYSTEM)
    html = manager.get(detail_url(order)).content.decode()
    assert "On hold" in html and "Address looks odd" in html


def test_detail_shows_drop_ship_allocations(manager, channel):
    supplier = factories.SupplierFactory(code="acme", drop_ships=True)
    factories.SKUFactory(code="DROP-1", supplier=supplier)
    placed = place(channel, sku_code="DROP-1")
    assert placed.status == OrderStatus.ALLOCATED
    html = manager.get(detail_url(placed)).content.decode()
    assert "drop-ship: acme × 1" in html


def test_detail_of_unknown_order_is_404(manager, db):
    assert manager.get(reverse("orders:detail", args=["SO-9999999"])).status_code == 404


BUTTONS = {
    "submit": "Submit draft",
    "hold": ">Hold</button>",
    "release": ">Release</button>",
    "cancel": "Cancel order",
    "reroute": "Re-route",
    "ship": "Mark shipped",
    "deliver": "Mark delivered",
    "note": "Add note",
}


@pytest.mark.parametrize(
    "role, shown",
    [
        ("owner", {"hold", "cancel", "reroute", "ship", "note"}),
        ("manager", {"hold", "cancel", "reroute", "ship", "note"}),
        ("support", {"hold", "cancel", "note"}),
        ("warehouse", {"ship"}),
        ("readonly", set()),
    ],
)
def test_detail_buttons_follow_the_state_and_the_role(client_for, users, order, role, shown):
    # The warehouse user works at the order's warehouse (see test_warehouse_scope for others).
    WarehouseAccess.objects.create(user=users["warehouse"], warehouse=order_warehouse(order))
    html = client_for(role).get(detail_url(order)).content.decode()
    visible = {action for action, text in BUTTONS.items() if text in html}
    assert visible == shown


def test_detail_buttons_of_a_held_order(manager, order):
    services.hold_order(order, reason="Check", actor=SYSTEM)
    actions = manager.get(detail_url(order)).context["actions"]
    assert {a for a, shown in actions.items() if shown} == {"release", "cancel", "edit", "note"}


def test_detail_buttons_of_a_shipped_order(manager, order):
    services.ship_order(order, actor=SYSTEM)
    actions = manager.get(detail_url(order)).context["actions"]
    assert {a for a, shown in actions.items() if shown} == {"deliver", "note"}


def test_detail_buttons_of_a_draft(manager, channel, stocked):
    draft = place(channel, draft=True)
    actions = manager.get(detail_url(draft)).context["actions"]
    assert {a for a, shown in actions.items() if shown} == {"submit", "cancel", "edit", "note"}


# --- actions ---------------------------------------------------------------------------------


def test_hold_with_a_reason(manager, order):
    response = manager.post(action_url(order, "hold"), {"reason": "Fraud check"}, follow=True)
    assert response.redirect_chain[-1][0] == detail_url(order)
    order = fresh(order)
    assert order.status == OrderStatus.ON_HOLD
    assert order.hold_reason == "Fraud check"
    assert "is on hold" in " ".join(messages_of(response))
    event = order.events.last()
    assert event.actor_label == "manager" and event.to_status == OrderStatus.ON_HOLD


def test_hold_without_a_reason_is_refused_and_changes_nothing(manager, order):
    events = order.events.count()
    response = manager.post(action_url(order, "hold"), {"reason": "  "}, follow=True)
    assert response.status_code == 200
    assert any("Give a reason" in m for m in messages_of(response))
    assert fresh(order).status == OrderStatus.ALLOCATED
    assert order.events.count() == events


def test_release_routes_the_order_again(manager, order):
    services.hold_order(order, reason="Check", actor=SYSTEM)
    response = manager.post(action_url(order, "release"), follow=True)
    order = fresh(order)
    assert order.status == OrderStatus.ALLOCATED
    assert order.hold_reason == ""
    assert "released" in " ".join(messages_of(response))


def test_release_of_an_order_not_on_hold_is_refused(manager, order):
    before = row_counts()
    response = manager.post(action_url(order, "release"), follow=True)
    assert response.status_code == 200
    assert any("Can't release" in m for m in messages_of(response))
    assert fresh(order).status == OrderStatus.ALLOCATED
    assert row_counts() == before


def test_cancel_gives_the_stock_back(manager, order, stocked):
    response = manager.post(action_url(order, "cancel"), {"reason": "Customer asked"}, follow=True)
    order = fresh(order)
    assert order.status == OrderStatus.CANCELLED
    assert "Customer asked" in order.events.last().message
    assert StockLevel.objects.get(pk=stocked.pk).allocated == 0
    assert "is cancelled" in " ".join(messages_of(response))


def test_cancel_of_a_shipped_order_is_refused(manager, order):
    services.ship_order(order, actor=SYSTEM)
    before = row_counts()
    response = manager.post(action_url(order, "cancel"), {"reason": "Too late"}, follow=True)
    assert any("Can't cancel" in m for m in messages_of(response))
    assert fresh(order).status == OrderStatus.SHIPPED
    assert row_counts() == before


def test_reroute_by_the_rules(manager, order):
    response = manager.post(action_url(order, "reroute"), {"warehouse": ""}, follow=True)
    order = fresh(order)
    assert order.status == OrderStatus.ALLOCATED
    assert "routed again" in " ".join(messages_of(response))
    assert "Re-routing" in " ".join(order.events.values_list("message", flat=True))


def test_reroute_to_a_chosen_warehouse(manager, order, sku):
    munich = factories.WarehouseFactory(code="muc", city="München", rank=50)
    factories.stock(sku, munich, 3)
    manager.post(action_url(order, "reroute"), {"warehouse": "muc"})
    order = fresh(order)
    assert order.status == OrderStatus.ALLOCATED
    assert order.routing_decision["manual_warehouse"] == "muc"
    line = order.lines.get()
    assert [a.warehouse.code for a in line.allocations.all()] == ["muc"]


def test_reroute_to_an_inactive_warehouse_is_refused(manager, order, sku):
    factories.WarehouseFactory(code="old", active=False)
    response = manager.post(action_url(order, "reroute"), {"warehouse": "old"}, follow=True)
    assert any("inactive" in m for m in messages_of(response))
    assert fresh(order).lines.get().allocations.get().warehouse.code == "ber"


def test_reroute_of_a_cancelled_order_is_refused(manager, order):
    services.cancel_order(order, actor=SYSTEM)
    response = manager.post(action_url(order, "reroute"), follow=True)
    assert any("Can't re-route" in m for m in messages_of(response))
    assert fresh(order).status == OrderStatus.CANCELLED


def test_ship_with_carrier_and_tracking(manager, order, stocked):
    response = manager.post(
        action_url(order, "ship"), {"carrier": "DHL", "tracking_number": "00340434"}, follow=True
    )
    order = fresh(order)
    assert order.status == OrderStatus.SHIPPED
    event = order.events.filter(to_status=OrderStatus.SHIPPED).last()
    assert event.details["carrier"] == "DHL" and event.details["tracking_number"] == "00340434"
    assert StockLevel.objects.get(pk=stocked.pk).on_hand == 9
    assert "marked shipped" in " ".join(messages_of(response))


def test_ship_of_a_held_order_is_refused(manager, order):
    services.hold_order(order, reason="Check", actor=SYSTEM)
    response = manager.post(action_url(order, "ship"), follow=True)
    assert any("Can't mark" in m and "it is on hold" in m for m in messages_of(response))
    assert fresh(order).status == OrderStatus.ON_HOLD


def test_deliver_a_shipped_order(manager, order):
    services.ship_order(order, actor=SYSTEM)
    manager.post(action_url(order, "deliver"))
    assert fresh(order).status == OrderStatus.DELIVERED


def test_deliver_of_an_unshipped_order_is_refused(manager, order):
    response = manager.post(action_url(order, "deliver"), follow=True)
    assert any("Can't mark delivered" in m for m in messages_of(response))
    assert fresh(order).status == OrderStatus.ALLOCATED


def test_submit_a_draft(manager, channel, stocked):
    draft = place(channel, draft=True)
    assert draft.status == OrderStatus.DRAFT
    manager.post(action_url(draft, "submit"))
    draft = fresh(draft)
    assert draft.status == OrderStatus.ALLOCATED
    assert draft.placed_at is not None


def test_submit_of_a_placed_order_is_refused(manager, order):
    response = manager.post(action_url(order, "submit"), follow=True)
    assert any("Can't submit" in m for m in messages_of(response))
    assert fresh(order).status == OrderStatus.ALLOCATED


def test_add_a_note(manager, order):
    response = manager.post(action_url(order, "note"), {"text": "Called the customer"}, follow=True)
    note = order.events.get(kind=OrderEvent.Kind.NOTE)
    assert note.message == "Called the customer" and note.actor_label == "manager"
    assert "Called the customer" in response.content.decode()


def test_an_empty_note_is_refused(manager, order):
    events = order.events.count()
    response = manager.post(action_url(order, "note"), {"text": ""}, follow=True)
    assert any("Give a reason" in m or "text" in m for m in messages_of(response))
    assert order.events.count() == events


def test_a_too_long_reason_is_refused_by_the_form(manager, order):
    response = manager.post(action_url(order, "hold"), {"reason": "x" * 301}, follow=True)
    assert any("Nothing was changed" in m for m in messages_of(response))
    assert fresh(order).status == OrderStatus.ALLOCATED


@pytest.mark.parametrize("action", ["hold", "release", "cancel", "ship", "note"])
def test_actions_are_post_only(manager, order, action):
    assert manager.get(action_url(order, action)).status_code == 405
    assert fresh(order).status == OrderStatus.ALLOCATED


def test_action_on_an_unknown_order_is_404(manager, db):
    response = manager.post(reverse("orders:hold", args=["SO-0000404"]), {"reason": "x"})
    assert response.status_code == 404


def test_actions_need_the_csrf_token(users, order):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(users["manager"])
    response = client.post(action_url(order, "hold"), {"reason": "No token"})
    assert response.status_code == 403
    assert fresh(order).status == OrderStatus.ALLOCATED


# --- the new order page ---------------------------------------------------------------------


def new_order_data(channel, **overrides):
    data = {
        "channel": channel.pk,
        "currency": "",
        "customer_email": "Erika@Example.com",
        "customer_name": "Erika Mustermann",
        "ship_name": "Erika Mustermann",
        "line1": "Heidestrasse 17",
        "line2": "",
        "city": "Köln",
        "postal_code": "51147",
        "country": "DE",
        "shipping_total": "4.90",
        "warehouse": "",
        "lines-TOTAL_FORMS": "10",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "10",
        "lines-0-sku": "TSHIRT-BLK-M",
        "lines-0-quantity": "2",
        "lines-0-unit_price": "",
    }
    data.update(overrides)
    return data


def test_new_order_form_renders(client_for, channel, warehouse):
    response = client_for("support").get(reverse("orders:create"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('name="lines-') >= 30  # ten rows of SKU, quantity and price
    assert "Save as draft" in html and "<details" in html
    assert "ber (Berlin)" in html  # a warehouse to route to by hand


def test_create_an_order(manager, channel, stocked):
    response = manager.post(reverse("orders:create"), new_order_data(channel))
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail_url(order)
    assert order.status == OrderStatus.ALLOCATED
    assert order.customer.email == "erika@example.com"
    assert order.shipping_address["postal_code"] == "51147"
    assert str(order.grand_total) == "44.700"  # 2 x 19.90 + 4.90
    line = order.lines.get()
    assert (line.sku_code, line.quantity) == ("TSHIRT-BLK-M", 2)
    assert order.events.first().actor_label == "manager"
    page = manager.get(response["Location"])
    assert f"Order {order.number} is created" in " ".join(messages_of(page))


def test_create_with_a_price_and_several_lines(manager, channel, warehouse, stocked):
    other = factories.SKUFactory(code="MUG-1", price="8.00")
    factories.stock(other, warehouse, 5)
    data = new_order_data(
        channel,
        **{"lines-1-sku": "MUG-1", "lines-1-quantity": "1", "lines-1-unit_price": "7.50"},
        **{"lines-5-sku": "MUG-1", "lines-5-quantity": "1"},
    )
    manager.post(reverse("orders:create"), data)
    order = Order.objects.get()
    assert [(line.sku_code, str(line.unit_price)) for line in order.lines.all()] == [
        ("TSHIRT-BLK-M", "19.900"),
        ("MUG-1", "7.500"),
        ("MUG-1", "8.000"),
    ]


def test_create_a_draft(manager, channel, stocked):
    manager.post(reverse("orders:create"), new_order_data(channel, draft="on"))
    order = Order.objects.get()
    assert order.status == OrderStatus.DRAFT
    assert StockLevel.objects.get(pk=stocked.pk).allocated == 0


def test_create_routed_to_a_chosen_warehouse(manager, channel, sku, stocked):
    munich = factories.WarehouseFactory(code="muc", city="München", rank=50)
    factories.stock(sku, munich, 5)
    manager.post(reverse("orders:create"), new_order_data(channel, warehouse=munich.pk))
    order = Order.objects.get()
    assert order.routing_decision["manual_warehouse"] == "muc"
    assert order.lines.get().allocations.get().warehouse == munich


def test_create_with_an_unknown_sku_shows_the_error_on_the_line(manager, channel, stocked):
    before = row_counts()
    data = new_order_data(channel, **{"lines-1-sku": "NOPE", "lines-1-quantity": "1"})
    response = manager.post(reverse("orders:create"), data)
    assert response.status_code == 200
    line_form = response.context["formset"].forms[1]
    assert line_form.errors["sku"] == ["Unknown SKU 'NOPE'."]
    assert "Unknown SKU" in response.content.decode()
    assert row_counts() == before


def test_create_with_missing_address_fields_shows_field_errors(manager, channel, stocked):
    before = row_counts()
    response = manager.post(reverse("orders:create"), new_order_data(channel, city="", country=""))
    assert response.status_code == 200
    form = response.context["form"]
    assert "city" in form.errors and "country" in form.errors
    assert "The order was not created" in response.content.decode()
    assert row_counts() == before


def test_create_without_lines_says_so(manager, channel, stocked):
    before = row_counts()
    data = new_order_data(channel, **{"lines-0-sku": "", "lines-0-quantity": ""})
    response = manager.post(reverse("orders:create"), data)
    assert response.status_code == 200
    assert any("Lines" in e for e in response.context["general_errors"])
    assert row_counts() == before


def test_create_with_a_line_missing_its_quantity(manager, channel, stocked):
    before = row_counts()
    data = new_order_data(channel, **{"lines-0-quantity": ""})
    response = manager.post(reverse("orders:create"), data)
    assert response.context["formset"].forms[0].errors["quantity"] == ["Required."]
    assert row_counts() == before


def test_create_in_another_currency_needs_unit_prices(manager, channel, stocked):
    before = row_counts()
    response = manager.post(reverse("orders:create"), new_order_data(channel, currency="USD"))
    assert response.status_code == 200
    errors = response.context["formset"].forms[0].errors["unit_price"]
    assert "catalogue price is in EUR" in errors[0]
    assert row_counts() == before


def test_create_with_too_many_decimals_for_the_currency(manager, channel, stocked):
    before = row_counts()
    response = manager.post(
        reverse("orders:create"), new_order_data(channel, shipping_total="1.234")
    )
    assert "shipping_total" in response.context["form"].errors
    assert row_counts() == before


def test_create_on_an_inactive_channel_is_not_offered(manager, channel, stocked):
    channel.active = False
    channel.save()
    before = row_counts()
    response = manager.post(reverse("orders:create"), new_order_data(channel))
    assert "channel" in response.context["form"].errors
    assert row_counts() == before


# --- who may do what -------------------------------------------------------------------------

ALLOWED = {
    "list": {"owner", "manager", "support", "warehouse", "readonly"},
    "detail": {"owner", "manager", "support", "warehouse", "readonly"},
    "create": {"owner", "manager", "support"},
    "hold": {"owner", "manager", "support"},
    "release": {"owner", "manager", "support"},
    "cancel": {"owner", "manager", "support"},
    "submit": {"owner", "manager", "support"},
    "note": {"owner", "manager", "support"},
    "reroute": {"owner", "manager"},
    "ship": {"owner", "manager", "warehouse"},
    "deliver": {"owner", "manager", "warehouse"},
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", ["list", "detail", "create"])
def test_who_may_see_each_page(client_for, order, role, page):
    url = {
        "list": reverse("orders:list"),
        "detail": detail_url(order),
        "create": reverse("orders:create"),
    }[page]
    expected = 200 if role in ALLOWED[page] else 403
    assert client_for(role).get(url).status_code == expected


# The state each action needs, made through the services, and the state it leads to.
ACTION_CASES = {
    "hold": (None, {"reason": "Check"}, OrderStatus.ON_HOLD),
    "release": ("held", {}, OrderStatus.ALLOCATED),
    "cancel": (None, {"reason": "Asked"}, OrderStatus.CANCELLED),
    "submit": ("draft", {}, OrderStatus.ALLOCATED),
    "note": (None, {"text": "Hello"}, OrderStatus.ALLOCATED),
    "reroute": (None, {}, OrderStatus.ALLOCATED),
    "ship": (None, {"carrier": "UPS"}, OrderStatus.SHIPPED),
    "deliver": ("shipped", {}, OrderStatus.DELIVERED),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(ACTION_CASES))
def test_who_may_take_each_action(client_for, users, channel, stocked, role, action):
    # The warehouse user works where the stock is (test_warehouse_scope has the others).
    WarehouseAccess.objects.create(user=users["warehouse"], warehouse=stocked.warehouse)
    setup, data, after = ACTION_CASES[action]
    target = place(channel, draft=setup == "draft")
    if setup == "held":
        services.hold_order(target, reason="Check", actor=SYSTEM)
    elif setup == "shipped":
        services.ship_order(target, actor=SYSTEM)
    before_status = fresh(target).status
    events = target.events.count()

    response = client_for(role).post(action_url(target, action), data)

    if role in ALLOWED[action]:
        assert response.status_code == 302
        assert response["Location"] == detail_url(target)
        assert fresh(target).status == after
        assert target.events.count() > events
    else:
        assert response.status_code == 403
        assert fresh(target).status == before_status
        assert target.events.count() == events


def test_anonymous_visitors_are_sent_to_log_in(client, order):
    for url in (reverse("orders:list"), detail_url(order), reverse("orders:create")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    response = client.post(action_url(order, "cancel"))
    assert response.status_code == 302
    assert fresh(order).status == OrderStatus.ALLOCATED
