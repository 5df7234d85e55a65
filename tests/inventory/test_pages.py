"""The inventory pages: who may open them, what they show, and what their forms change."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from inventory import services
from inventory import stock as stock_service
from inventory.models import (
    Bin,
    MovementReason,
    RoutingRule,
    RoutingSettings,
    StockLevel,
    StockMovement,
    Supplier,
    Warehouse,
    WarehouseAccess,
)
from oms_site.actors import Actor
from tests.factories import (
    ProductFactory,
    SKUFactory,
    SupplierFactory,
    WarehouseFactory,
    stock,
)

pytestmark = pytest.mark.django_db

ROLES = ["owner", "manager", "support", "warehouse", "readonly"]
VIEW_PAGES = [
    "inventory:stock",
    "inventory:ledger",
    "inventory:export_catalogue",
    "inventory:export_stock",
]
CHANGE_PAGES = [
    "inventory:receive",
    "inventory:adjust",
    "inventory:transfer",
    "inventory:count",
    "inventory:safety_stock",
]
MANAGE_PAGES = [
    "inventory:import",
    "inventory:routing",
    "inventory:warehouses",
    "inventory:warehouse_create",
    "inventory:suppliers",
    "inventory:supplier_create",
]


@pytest.fixture
def ham(db):
    return WarehouseFactory(code="ham", city="Hamburg", latitude=53.55, longitude=9.99, rank=20)


@pytest.fixture
def actor():
    return Actor.system("test")


def hold(sku, quantity):
    """Allocate units the way a checkout does (a hold the stock audit accounts for)."""
    services.reserve(items=[(sku, quantity)], actor=Actor.system("test"), minutes=60)


def levels_and_ledger():
    return StockLevel.objects.count(), StockMovement.objects.count()


def on_hand(sku, warehouse):
    level = StockLevel.objects.filter(sku=sku, warehouse=warehouse).first()
    return level.on_hand if level else None


# --- Who may do what ----------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", VIEW_PAGES)
def test_every_role_can_see_stock_ledger_and_exports(client_for, role, page):
    assert client_for(role).get(reverse(page)).status_code == 200


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", CHANGE_PAGES)
def test_stock_change_pages_need_stock_change(client_for, role, page):
    expected = 200 if role in ("owner", "manager", "warehouse") else 403
    assert client_for(role).get(reverse(page)).status_code == expected


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", MANAGE_PAGES)
def test_catalogue_pages_need_catalog_manage(client_for, role, page):
    expected = 200 if role in ("owner", "manager") else 403
    assert client_for(role).get(reverse(page)).status_code == expected


@pytest.mark.parametrize("role", ROLES)
def test_pages_of_one_warehouse_or_supplier_need_catalog_manage(client_for, role, warehouse):
    supplier = SupplierFactory()
    expected = 200 if role in ("owner", "manager") else 403
    client = client_for(role)
    for url in (
        reverse("inventory:warehouse_edit", args=[warehouse.pk]),
        reverse("inventory:bins", args=[warehouse.pk]),
        reverse("inventory:supplier_edit", args=[supplier.pk]),
    ):
        assert client.get(url).status_code == expected, url


@pytest.mark.parametrize("role", ["support", "readonly"])
def test_roles_without_stock_change_cannot_post_a_receipt(client_for, role, sku, warehouse):
    response = client_for(role).post(
        reverse("inventory:receive"), {"sku": sku.code, "warehouse": warehouse.pk, "quantity": 5}
    )
    assert response.status_code == 403
    assert levels_and_ledger() == (0, 0)


@pytest.mark.parametrize("role", ["support", "warehouse", "readonly"])
def test_roles_without_catalog_manage_cannot_post_routing_or_warehouses(client_for, role):
    client = client_for(role)
    assert client.post(reverse("inventory:routing"), {}).status_code == 403
    response = client.post(
        reverse("inventory:warehouse_create"),
        {"code": "x1", "name": "X", "city": "Berlin", "country": "DE", "rank": 1},
    )
    assert response.status_code == 403
    assert not Warehouse.objects.filter(code="x1").exists()


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(reverse("inventory:stock"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_stock_changes_refuse_get_methods_other_than_get_and_post(client_for):
    assert client_for("owner").put(reverse("inventory:receive")).status_code == 405


# --- Stock page ---------------------------------------------------------------------------


def test_stock_page_shows_each_level_with_available_and_sellable(client_for, sku, warehouse, actor):
    stock(sku, warehouse, 20, safety_stock=4)
    hold(sku, 6)
    Bin.objects.create(warehouse=warehouse, code="A-01")
    response = client_for("readonly").get(reverse("inventory:stock"))
    (row,) = response.context["page"].rows
    assert (row.on_hand, row.allocated, row.safety_stock) == (20, 6, 4)
    assert row.available_units == 14
    assert row.sellable_units == 10
    html = response.content.decode()
    assert sku.code in html and sku.product.name in html and "ber" in html


def test_sellable_never_shows_below_zero(client_for, sku, warehouse, actor):
    stock(sku, warehouse, 5, safety_stock=8)
    (row,) = client_for("owner").get(reverse("inventory:stock")).context["page"].rows
    assert row.available_units == 5
    assert row.sellable_units == 0


def test_stock_page_filters_by_search_warehouse_product_and_active(client_for, warehouse, ham):
    shirt = SKUFactory(code="SHIRT-1", name="Blue", product=ProductFactory(name="Oxford shirt"))
    sock = SKUFactory(code="SOCK-1", name="Wool", product=ProductFactory(name="Hiking sock"))
    old = SKUFactory(code="SOCK-OLD", name="Retired", active=False)
    stock(shirt, warehouse, 3)
    stock(sock, ham, 3)
    stock(old, ham, 3)
    client = client_for("manager")

    def codes(**query):
        page = client.get(reverse("inventory:stock"), query).context["page"]
        return sorted(f"{row.sku.code}@{row.warehouse.code}" for row in page.rows)

    assert codes(q="sock") == ["SOCK-1@ham", "SOCK-OLD@ham"]
    assert codes(q="blue") == ["SHIRT-1@ber"]
    assert codes(warehouse=warehouse.pk) == ["SHIRT-1@ber"]
    assert codes(product="hiking") == ["SOCK-1@ham"]
    assert codes(q="sock", active="on") == ["SOCK-1@ham"]
    assert codes(sku="SOCK-1") == ["SOCK-1@ham"]


def test_low_stock_filter_uses_safety_stock_or_the_threshold(client_for, warehouse):
    plenty = SKUFactory(code="PLENTY")
    few = SKUFactory(code="FEW")
    guarded = SKUFactory(code="GUARDED")
    stock(plenty, warehouse, 50)
    stock(few, warehouse, 4)  # sellable 4 <= default threshold 5
    stock(guarded, warehouse, 30, safety_stock=20)  # sellable 10 <= safety stock 20
    client = client_for("support")

    def codes(**query):
        page = client.get(reverse("inventory:stock"), {"low_stock": "on", **query}).context["page"]
        return sorted(row.sku.code for row in page.rows)

    assert codes() == ["FEW", "GUARDED"]
    assert codes(threshold=3) == ["GUARDED"]
    assert codes(threshold=60) == ["FEW", "GUARDED", "PLENTY"]


def test_warehouse_staff_see_only_their_warehouses(client_for, users, sku, warehouse, ham):
    stock(sku, warehouse, 5)
    stock(sku, ham, 7)
    WarehouseAccess.objects.create(user=users["warehouse"], warehouse=ham)
    rows = client_for("warehouse").get(reverse("inventory:stock")).context["page"].rows
    assert [row.warehouse.code for row in rows] == ["ham"]


def test_stock_page_pages_by_id_with_after(client_for, warehouse):
    skus = [SKUFactory(code=f"PAGE-{n:03d}") for n in range(105)]
    for sku in skus:
        stock(sku, warehouse, 1)
    client = client_for("owner")
    first = client.get(reverse("inventory:stock")).context
    assert len(first["page"].rows) == 100
    assert first["next_url"]
    second = client.get(reverse("inventory:stock") + first["next_url"]).context
    assert len(second["page"].rows) == 5
    assert second["next_url"] is None
    seen = [row.pk for row in first["page"].rows + second["page"].rows]
    assert seen == sorted(seen) and len(set(seen)) == 105


def test_stock_page_ignores_a_bad_after_value(client_for, sku, warehouse):
    stock(sku, warehouse, 1)
    response = client_for("owner").get(reverse("inventory:stock"), {"after": "abc"})
    assert response.status_code == 200
    assert len(response.context["page"].rows) == 1


def test_stock_page_runs_a_fixed_number_of_queries(client_for, users, django_assert_num_queries):
    warehouse_a = WarehouseFactory(code="qa")
    warehouse_b = WarehouseFactory(code="qb")
    Bin.objects.create(warehouse=warehouse_a, code="A-1")
    for place in (warehouse_a, warehouse_b):
        WarehouseAccess.objects.create(user=users["warehouse"], warehouse=place)
    client = client_for("warehouse")
    stock(SKUFactory(code="Q-0"), warehouse_a, 1)
    url = reverse("inventory:stock")
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    for n in range(1, 120):
        stock(SKUFactory(code=f"Q-{n}"), warehouse_a if n % 2 else warehouse_b, n)
    level_bin = Bin.objects.get(code="A-1")
    StockLevel.objects.filter(warehouse=warehouse_a).update(bin=level_bin)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert len(response.context["page"].rows) == 100


# --- Ledger -------------------------------------------------------------------------------


def test_ledger_lists_movements_newest_first_with_their_details(client_for, users, sku, warehouse):
    stock(sku, warehouse, 10)
    stock_service.adjust(
        sku=sku,
        warehouse=warehouse,
        change=-2,
        note="dropped a box",
        reference="INC-9",
        actor=Actor.for_user(users["manager"]),
    )
    response = client_for("readonly").get(reverse("inventory:ledger"))
    rows = response.context["page"].rows
    assert [row.reason for row in rows] == [MovementReason.ADJUSTMENT, MovementReason.RECEIPT]
    html = response.content.decode()
    for text in ("dropped a box", "INC-9", "manager", "-2", "+10", "Adjustment", sku.code):
        assert text in html


def test_ledger_filters_by_sku_warehouse_reason_reference_and_dates(
    client_for, warehouse, ham, actor
):
    shirt, sock = SKUFactory(code="SHIRT"), SKUFactory(code="SOCK")
    stock_service.receive(sku=shirt, warehouse=warehouse, quantity=5, actor=actor, reference="PO-1")
    stock_service.receive(sku=sock, warehouse=ham, quantity=5, actor=actor, reference="PO-2")
    stock_service.transfer(sku=shirt, source=warehouse, destination=ham, quantity=2, actor=actor)
    client = client_for("owner")

    def reasons(**query):
        rows = client.get(reverse("inventory:ledger"), query).context["page"].rows
        return [(row.sku.code, row.warehouse.code, row.reason) for row in rows]

    assert reasons(sku="sock") == [("SOCK", "ham", "receipt")]
    assert reasons(warehouse=warehouse.pk) == [
        ("SHIRT", "ber", "transfer_out"),
        ("SHIRT", "ber", "receipt"),
    ]
    assert reasons(reason="transfer_in") == [("SHIRT", "ham", "transfer_in")]
    assert reasons(reference="PO-2") == [("SOCK", "ham", "receipt")]
    today = timezone.localdate()
    assert len(reasons(date_from=today.isoformat(), date_to=today.isoformat())) == 4
    assert reasons(date_to=(today - timedelta(days=1)).isoformat()) == []
    assert reasons(date_from=(today + timedelta(days=1)).isoformat()) == []


def test_ledger_pages_newest_first_with_before(client_for, sku, warehouse, actor):
    for _ in range(130):
        stock_service.receive(sku=sku, warehouse=warehouse, quantity=1, actor=actor)
    client = client_for("owner")
    first = client.get(reverse("inventory:ledger")).context
    assert len(first["page"].rows) == 100
    second = client.get(reverse("inventory:ledger") + first["next_url"]).context
    assert len(second["page"].rows) == 30
    ids = [row.pk for row in first["page"].rows + second["page"].rows]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 130


def test_ledger_warns_about_an_inverted_date_range(client_for):
    response = client_for("owner").get(
        reverse("inventory:ledger"), {"date_from": "2025-05-02", "date_to": "2025-05-01"}
    )
    assert response.status_code == 200
    assert "Must not be before the start date." in response.content.decode()


# --- Receive ------------------------------------------------------------------------------


def test_receive_adds_stock_through_the_ledger_and_returns_to_the_sku(
    client_for, users, sku, warehouse
):
    response = client_for("manager").post(
        reverse("inventory:receive"),
        {
            "sku": sku.code,
            "warehouse": warehouse.pk,
            "quantity": 12,
            "reference": "PO-77",
            "note": "pallet 3",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("inventory:stock") + f"?sku={sku.code}"
    assert on_hand(sku, warehouse) == 12
    movement = StockMovement.objects.get()
    assert (movement.reason, movement.on_hand_change, movement.reference, movement.note) == (
        MovementReason.RECEIPT,
        12,
        "PO-77",
        "pallet 3",
    )
    assert movement.actor_user == users["manager"]


def test_receive_success_message_is_shown_on_the_stock_page(client_for, sku, warehouse):
    response = client_for("owner").post(
        reverse("inventory:receive"),
        {"sku": sku.code, "warehouse": warehouse.pk, "quantity": 3},
        follow=True,
    )
    assert f"Received 3 × {sku.code} at ber." in response.content.decode()
    assert [row.sku for row in response.context["page"].rows] == [sku]


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"sku": "NOPE-1", "quantity": 5}, "sku", "Unknown SKU code 'NOPE-1'."),
        ({"quantity": 0}, "quantity", "greater than or equal to 1"),
        ({"quantity": -3}, "quantity", "greater than or equal to 1"),
        ({"quantity": "many"}, "quantity", "Enter a whole number."),
        ({"warehouse": 999999}, "warehouse", "not one of your warehouses"),
    ],
)
def test_receive_shows_field_errors_and_writes_nothing(
    client_for, sku, warehouse, data, field, message
):
    payload = {"sku": sku.code, "warehouse": warehouse.pk, "quantity": 5, **data}
    response = client_for("owner").post(reverse("inventory:receive"), payload)
    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field])
    assert levels_and_ledger() == (0, 0)


def test_receive_form_is_prefilled_from_the_stock_page_link(client_for, sku, warehouse):
    response = client_for("owner").get(
        reverse("inventory:receive"), {"sku": sku.code, "warehouse": warehouse.pk}
    )
    html = response.content.decode()
    assert f'value="{sku.code}"' in html
    assert f'<option value="{warehouse.pk}" selected>' in html


def test_sku_codes_match_whatever_their_case(client_for, sku, warehouse):
    client_for("owner").post(
        reverse("inventory:receive"),
        {"sku": sku.code.lower(), "warehouse": warehouse.pk, "quantity": 2},
    )
    assert on_hand(sku, warehouse) == 2


def test_warehouse_staff_receive_only_into_their_warehouse(client_for, users, sku, warehouse, ham):
    WarehouseAccess.objects.create(user=users["warehouse"], warehouse=ham)
    client = client_for("warehouse")
    refused = client.post(
        reverse("inventory:receive"), {"sku": sku.code, "warehouse": warehouse.pk, "quantity": 4}
    )
    assert refused.status_code == 200
    assert "not one of your warehouses" in refused.context["form"].errors["warehouse"][0]
    assert levels_and_ledger() == (0, 0)
    choices = [choice.pk for choice in refused.context["form"].fields["warehouse"].queryset]
    assert choices == [ham.pk]

    accepted = client.post(
        reverse("inventory:receive"), {"sku": sku.code, "warehouse": ham.pk, "quantity": 4}
    )
    assert accepted.status_code == 302
    assert on_hand(sku, ham) == 4


def test_warehouse_staff_cannot_transfer_out_of_another_warehouse(
    client_for, users, sku, warehouse, ham
):
    stock(sku, warehouse, 10)
    WarehouseAccess.objects.create(user=users["warehouse"], warehouse=ham)
    response = client_for("warehouse").post(
        reverse("inventory:transfer"),
        {"sku": sku.code, "source": warehouse.pk, "destination": ham.pk, "quantity": 3},
    )
    assert response.status_code == 200
    assert on_hand(sku, warehouse) == 10
    assert on_hand(sku, ham) is None


# --- Adjust, transfer, count, safety stock ----------------------------------------------------


def test_adjust_removes_units_with_a_reason(client_for, sku, warehouse):
    stock(sku, warehouse, 10)
    response = client_for("owner").post(
        reverse("inventory:adjust"),
        {"sku": sku.code, "warehouse": warehouse.pk, "change": -3, "note": "water damage"},
    )
    assert response.status_code == 302
    assert on_hand(sku, warehouse) == 7
    movement = StockMovement.objects.order_by("-pk").first()
    assert (movement.reason, movement.on_hand_change, movement.note) == (
        MovementReason.ADJUSTMENT,
        -3,
        "water damage",
    )


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"change": -11}, "change", "Only 10 available."),
        ({"change": 0}, "change", "Must not be zero."),
        ({"note": "   "}, "note", "This field is required."),
    ],
)
def test_adjust_refuses_bad_input_and_writes_nothing(
    client_for, sku, warehouse, data, field, message
):
    stock(sku, warehouse, 10)
    before = levels_and_ledger()
    payload = {"sku": sku.code, "warehouse": warehouse.pk, "change": -1, "note": "x", **data}
    response = client_for("owner").post(reverse("inventory:adjust"), payload)
    assert response.status_code == 200
    assert message in response.context["form"].errors[field]
    assert levels_and_ledger() == before
    assert on_hand(sku, warehouse) == 10


def test_adjust_explains_not_enough_stock_at_the_top(client_for, sku, warehouse):
    stock(sku, warehouse, 2)
    response = client_for("owner").post(
        reverse("inventory:adjust"),
        {"sku": sku.code, "warehouse": warehouse.pk, "change": -5, "note": "lost"},
    )
    html = response.content.decode()
    assert "Not enough stock of TSHIRT-BLK-M at ber" in html
    assert "Only 2 available." in html


def test_transfer_moves_units_between_warehouses(client_for, sku, warehouse, ham):
    stock(sku, warehouse, 10)
    response = client_for("manager").post(
        reverse("inventory:transfer"),
        {"sku": sku.code, "source": warehouse.pk, "destination": ham.pk, "quantity": 4},
    )
    assert response.status_code == 302
    assert (on_hand(sku, warehouse), on_hand(sku, ham)) == (6, 4)
    reasons = set(StockMovement.objects.values_list("reason", flat=True))
    assert {MovementReason.TRANSFER_OUT, MovementReason.TRANSFER_IN} <= reasons


def test_transfer_refuses_the_same_warehouse_twice(client_for, sku, warehouse):
    stock(sku, warehouse, 10)
    before = levels_and_ledger()
    response = client_for("manager").post(
        reverse("inventory:transfer"),
        {"sku": sku.code, "source": warehouse.pk, "destination": warehouse.pk, "quantity": 4},
    )
    assert response.context["form"].errors["destination"] == [
        "Must differ from the source warehouse."
    ]
    assert levels_and_ledger() == before


def test_transfer_refuses_more_than_available(client_for, sku, warehouse, ham, actor):
    stock(sku, warehouse, 5)
    hold(sku, 3)
    before = levels_and_ledger()
    response = client_for("manager").post(
        reverse("inventory:transfer"),
        {"sku": sku.code, "source": warehouse.pk, "destination": ham.pk, "quantity": 3},
    )
    assert response.context["form"].errors["quantity"] == ["Only 2 available."]
    assert levels_and_ledger() == before
    assert on_hand(sku, ham) is None


def test_count_sets_on_hand_to_what_was_counted(client_for, sku, warehouse):
    stock(sku, warehouse, 10)
    response = client_for("owner").post(
        reverse("inventory:count"), {"sku": sku.code, "warehouse": warehouse.pk, "counted": 8}
    )
    assert response.status_code == 302
    assert on_hand(sku, warehouse) == 8
    movement = StockMovement.objects.order_by("-pk").first()
    assert (movement.reason, movement.on_hand_change) == (MovementReason.CYCLE_COUNT, -2)


def test_count_that_matches_changes_nothing_and_says_so(client_for, sku, warehouse):
    stock(sku, warehouse, 10)
    before = levels_and_ledger()
    response = client_for("owner").post(
        reverse("inventory:count"),
        {"sku": sku.code, "warehouse": warehouse.pk, "counted": 10},
        follow=True,
    )
    assert "matches on hand, nothing changed" in response.content.decode()
    assert levels_and_ledger() == before


def test_count_below_allocated_is_refused(client_for, sku, warehouse, actor):
    stock(sku, warehouse, 10)
    hold(sku, 6)
    before = levels_and_ledger()
    response = client_for("owner").post(
        reverse("inventory:count"), {"sku": sku.code, "warehouse": warehouse.pk, "counted": 4}
    )
    assert response.context["form"].errors["counted"] == ["Below the 6 allocated."]
    assert levels_and_ledger() == before


def test_count_refuses_a_negative_number(client_for, sku, warehouse):
    response = client_for("owner").post(
        reverse("inventory:count"), {"sku": sku.code, "warehouse": warehouse.pk, "counted": -1}
    )
    assert "counted" in response.context["form"].errors
    assert levels_and_ledger() == (0, 0)


def test_safety_stock_is_set_without_touching_on_hand(client_for, sku, warehouse):
    stock(sku, warehouse, 10)
    before_ledger = StockMovement.objects.count()
    response = client_for("manager").post(
        reverse("inventory:safety_stock"),
        {"sku": sku.code, "warehouse": warehouse.pk, "safety_stock": 3},
    )
    assert response.status_code == 302
    level = StockLevel.objects.get(sku=sku, warehouse=warehouse)
    assert (level.on_hand, level.safety_stock) == (10, 3)
    assert StockMovement.objects.count() == before_ledger


def test_safety_stock_refuses_a_negative_number(client_for, sku, warehouse):
    response = client_for("manager").post(
        reverse("inventory:safety_stock"),
        {"sku": sku.code, "warehouse": warehouse.pk, "safety_stock": -1},
    )
    assert "safety_stock" in response.context["form"].errors
    assert levels_and_ledger() == (0, 0)


def test_stock_forms_need_a_csrf_token(users, sku, warehouse):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(users["owner"])
    response = client.post(
        reverse("inventory:receive"), {"sku": sku.code, "warehouse": warehouse.pk, "quantity": 1}
    )
    assert response.status_code == 403
    assert levels_and_ledger() == (0, 0)


# --- Routing settings ---------------------------------------------------------------------


def routing_post(order, enabled=None, **flags):
    enabled = set(order if enabled is None else enabled)
    data = {}
    for position, rule in enumerate(order, start=1):
        data[f"position_{rule}"] = position
        if rule in enabled:
            data[f"enabled_{rule}"] = "on"
    data.update({name: "on" for name, value in flags.items() if value})
    return data


def test_routing_page_shows_the_chain_with_labels_and_meanings(client_for):
    html = client_for("owner").get(reverse("inventory:routing")).content.decode()
    for rule in RoutingRule:
        assert rule.label in html
    assert "nearest to the delivery address" in html


def test_routing_settings_reorder_and_switch_rules(client_for):
    order = ["rank", "closest", "most_available", "ship_complete"]
    response = client_for("manager").post(
        reverse("inventory:routing"),
        routing_post(order, enabled=["rank", "closest", "most_available"], allow_split=True),
    )
    assert response.status_code == 302
    config = RoutingSettings.current()
    assert config.rule_chain == ["rank", "closest", "most_available"]
    assert (config.respect_safety_stock, config.allow_split, config.allow_dropship) == (
        False,
        True,
        False,
    )


def test_routing_settings_refuse_two_rules_at_one_position(client_for):
    before = list(RoutingSettings.current().rule_chain)
    data = routing_post(["rank", "closest", "most_available", "ship_complete"])
    data["position_closest"] = 1
    response = client_for("owner").post(reverse("inventory:routing"), data)
    assert response.status_code == 200
    assert "Give each enabled rule its own position." in response.content.decode()
    assert RoutingSettings.current().rule_chain == before


def test_routing_settings_need_at_least_one_rule(client_for):
    before = list(RoutingSettings.current().rule_chain)
    response = client_for("owner").post(
        reverse("inventory:routing"), routing_post(list(RoutingRule), enabled=[])
    )
    assert "Enable at least one rule." in response.content.decode()
    assert RoutingSettings.current().rule_chain == before


# --- Warehouses, bins and suppliers -----------------------------------------------------------


def warehouse_post(**overrides):
    data = {
        "code": "muc",
        "name": "Munich DC",
        "address_line1": "Landsberger Str. 1",
        "city": "Munich",
        "postal_code": "80339",
        "country": "DE",
        "rank": 30,
        "ships_to_countries": "de, AT,CH",
        "cutoff_time": "15:30",
        "accepts_returns": "on",
        "active": "on",
        "latitude": "48.1",
        "longitude": "11.5",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_warehouse_is_created_with_all_its_fields(client_for):
    response = client_for("owner").post(reverse("inventory:warehouse_create"), warehouse_post())
    assert response.status_code == 302
    warehouse = Warehouse.objects.get(code="muc")
    assert warehouse.ships_to_countries == ["DE", "AT", "CH"]
    assert (warehouse.latitude, warehouse.longitude) == (48.1, 11.5)
    assert warehouse.cutoff_time.strftime("%H:%M") == "15:30"
    assert (warehouse.rank, warehouse.accepts_returns, warehouse.active) == (30, True, True)
    assert warehouse.country.code == "DE"


def test_warehouse_list_shows_warehouses(client_for, warehouse):
    html = client_for("manager").get(reverse("inventory:warehouses")).content.decode()
    assert "ber" in html and warehouse.name in html


def test_warehouse_refuses_unknown_country_codes(client_for):
    response = client_for("owner").post(
        reverse("inventory:warehouse_create"), warehouse_post(ships_to_countries="DE, XX, QQ")
    )
    assert response.status_code == 200
    assert response.context["form"].errors["ships_to_countries"] == [
        "Not ISO country codes: XX, QQ."
    ]
    assert not Warehouse.objects.filter(code="muc").exists()


def test_warehouse_needs_both_coordinates_or_neither(client_for):
    response = client_for("owner").post(
        reverse("inventory:warehouse_create"), warehouse_post(longitude="")
    )
    assert "Enter both latitude and longitude" in response.content.decode()
    assert not Warehouse.objects.filter(code="muc").exists()


def test_warehouse_refuses_a_duplicate_code(client_for, warehouse):
    response = client_for("owner").post(
        reverse("inventory:warehouse_create"), warehouse_post(code="ber")
    )
    assert "code" in response.context["form"].errors
    assert Warehouse.objects.filter(code="ber").count() == 1


def test_warehouse_is_edited(client_for, warehouse):
    response = client_for("manager").post(
        reverse("inventory:warehouse_edit", args=[warehouse.pk]),
        warehouse_post(code="ber", name="Berlin North", ships_to_countries="", active=None),
    )
    assert response.status_code == 302
    warehouse.refresh_from_db()
    assert (warehouse.name, warehouse.ships_to_countries, warehouse.active) == (
        "Berlin North",
        [],
        False,
    )


def test_warehouse_edit_form_shows_ships_to_as_text(client_for):
    warehouse = WarehouseFactory(code="vie", ships_to_countries=["AT", "DE"])
    html = (
        client_for("owner")
        .get(reverse("inventory:warehouse_edit", args=[warehouse.pk]))
        .content.decode()
    )
    assert 'value="AT, DE"' in html


def test_bins_are_listed_and_added(client_for, warehouse):
    Bin.objects.create(warehouse=warehouse, code="A-01", pick_sequence=10)
    client = client_for("owner")
    url = reverse("inventory:bins", args=[warehouse.pk])
    assert "A-01" in client.get(url).content.decode()
    response = client.post(url, {"code": "B-02", "pick_sequence": 20})
    assert response.status_code == 302
    assert list(warehouse.bins.values_list("code", "pick_sequence")) == [
        ("A-01", 10),
        ("B-02", 20),
    ]


def test_a_bin_code_is_unique_per_warehouse(client_for, warehouse, ham):
    Bin.objects.create(warehouse=warehouse, code="A-01")
    client = client_for("owner")
    refused = client.post(reverse("inventory:bins", args=[warehouse.pk]), {"code": "A-01"})
    assert refused.status_code == 200
    assert refused.context["form"].errors["code"] == ["This warehouse already has a bin 'A-01'."]
    accepted = client.post(reverse("inventory:bins", args=[ham.pk]), {"code": "A-01"})
    assert accepted.status_code == 302
    assert Bin.objects.filter(code="A-01").count() == 2


def test_suppliers_are_created_listed_and_edited(client_for):
    client = client_for("manager")
    response = client.post(
        reverse("inventory:supplier_create"),
        {
            "code": "acme",
            "name": "ACME",
            "email": "orders@acme.test",
            "drop_ships": "on",
            "lead_time_days": 12,
        },
    )
    assert response.status_code == 302
    supplier = Supplier.objects.get(code="acme")
    assert (supplier.drop_ships, supplier.lead_time_days) == (True, 12)
    assert "ACME" in client.get(reverse("inventory:suppliers")).content.decode()
    client.post(
        reverse("inventory:supplier_edit", args=[supplier.pk]),
        {"code": "acme", "name": "ACME Ltd", "lead_time_days": 5},
    )
    supplier.refresh_from_db()
    assert (supplier.name, supplier.drop_ships, supplier.lead_time_days) == ("ACME Ltd", False, 5)


def test_supplier_form_shows_errors(client_for):
    SupplierFactory(code="acme")
    response = client_for("owner").post(
        reverse("inventory:supplier_create"),
        {"code": "acme", "name": "", "email": "not-an-email", "lead_time_days": -1},
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"code", "name", "email", "lead_time_days"}
    assert Supplier.objects.count() == 1
