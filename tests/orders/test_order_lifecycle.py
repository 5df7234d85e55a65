"""The order state machine and the services around it."""

import pytest
from django_fsm import TransitionNotAllowed as FSMTransitionNotAllowed

from inventory import stock as stock_service
from inventory.models import StockLevel
from oms_site.errors import TransitionNotAllowed
from orders import services
from orders.models import HoldRule, Order, OrderEvent, OrderStatus

from ..factories import CustomerFactory, SKUFactory, WarehouseFactory, stock
from ..helpers import order_payload

pytestmark = pytest.mark.django_db
S = OrderStatus

# The state machine as the product promises it: transition -> (states it may start from,
# the state it leads to). Written from the design, not read off the model's decorators.
SPEC = {
    "submit": ({S.DRAFT}, S.PENDING),
    "hold": ({S.PENDING, S.BACKORDERED, S.ALLOCATED}, S.ON_HOLD),
    "release": ({S.ON_HOLD}, S.PENDING),
    "mark_allocated": ({S.PENDING, S.BACKORDERED}, S.ALLOCATED),
    "mark_backordered": ({S.PENDING, S.BACKORDERED}, S.BACKORDERED),
    "unroute": ({S.ALLOCATED, S.BACKORDERED}, S.PENDING),
    "mark_partially_shipped": ({S.ALLOCATED, S.PARTIALLY_SHIPPED}, S.PARTIALLY_SHIPPED),
    "mark_shipped": ({S.ALLOCATED, S.PARTIALLY_SHIPPED}, S.SHIPPED),
    # Shipped outside this system: by the marketplace itself (Amazon FBA) or before import.
    "mark_fulfilled_elsewhere": ({S.PENDING, S.ON_HOLD}, S.SHIPPED),
    "mark_delivered": ({S.SHIPPED}, S.DELIVERED),
    "mark_partially_returned": ({S.DELIVERED, S.PARTIALLY_RETURNED}, S.PARTIALLY_RETURNED),
    "mark_returned": ({S.DELIVERED, S.PARTIALLY_RETURNED}, S.RETURNED),
    "cancel": ({S.DRAFT, S.PENDING, S.ON_HOLD, S.BACKORDERED, S.ALLOCATED}, S.CANCELLED),
}
ARGS = {"hold": ("reason",)}
CASES = [(name, state) for name in SPEC for state in S]


@pytest.mark.parametrize(("transition", "state"), CASES)
def test_every_transition_from_every_state(channel, transition, state):
    sources, target = SPEC[transition]
    order = Order(channel=channel, currency="EUR", status=state)
    method = getattr(order, transition)
    if state in sources:
        method(*ARGS.get(transition, ()))
        assert order.status == target
    else:
        with pytest.raises(FSMTransitionNotAllowed):
            method(*ARGS.get(transition, ()))
        assert order.status == state


def test_the_spec_names_every_status_transition_of_the_model():
    declared = {t.name for t in Order._meta.get_field("status").get_all_transitions(Order)}
    assert declared == set(SPEC)


def test_status_cannot_be_assigned_directly(channel):
    order = Order(channel=channel, currency="EUR")
    with pytest.raises(AttributeError):
        order.status = S.SHIPPED


def place(channel, lines=(("TSHIRT-BLK-M", 2),), actor=None, **kw):
    body = order_payload(lines=lines)
    from oms_site.actors import Actor

    return services.place_order(
        channel=channel,
        lines=body["lines"],
        shipping_address=kw.pop("shipping_address", body["shipping_address"]),
        customer=body["customer"],
        actor=actor or Actor.system("test"),
        **kw,
    )


@pytest.fixture
def shelf(channel, warehouse, sku):
    stock(sku, warehouse, 10)
    return sku


def test_service_refuses_a_forbidden_transition_with_a_clear_error(channel, shelf, system_actor):
    order = place(channel)
    services.ship_order(order, actor=system_actor)
    with pytest.raises(TransitionNotAllowed) as error:
        services.cancel_order(order, actor=system_actor)
    assert error.value.status == 409
    assert "it is shipped" in error.value.message
    order.refresh_from_db()
    assert order.status == S.SHIPPED


def test_each_change_writes_an_event_with_actor_and_states(channel, shelf, users):
    from oms_site.actors import Actor

    actor = Actor.for_user(users["manager"])
    order = place(channel, actor=actor)
    services.hold_order(order, reason="check address", actor=actor)
    event = OrderEvent.objects.filter(order=order).last()
    assert (event.from_status, event.to_status, event.actor_label, event.actor_user) == (
        "allocated",
        "on_hold",
        "manager",
        users["manager"],
    )
    assert "check address" in event.message


def test_cancel_releases_allocations(channel, shelf, system_actor):
    order = place(channel)
    assert StockLevel.objects.get(sku=shelf).allocated == 2
    services.cancel_order(order, reason="customer asked", actor=system_actor)
    order.refresh_from_db()
    assert order.status == S.CANCELLED
    assert StockLevel.objects.get(sku=shelf).allocated == 0
    assert order.lines.get().quantity_cancelled == 2


def test_backordered_order_is_allocated_when_stock_arrives(
    channel, warehouse, system_actor, django_capture_on_commit_callbacks
):
    sku = SKUFactory(code="LATE-1")
    order = place(channel, lines=(("LATE-1", 3),))
    assert order.status == S.BACKORDERED
    with django_capture_on_commit_callbacks(execute=True):
        stock_service.receive(sku=sku, warehouse=warehouse, quantity=2, actor=system_actor)
    order.refresh_from_db()
    assert order.status == S.BACKORDERED
    assert order.lines.get().quantity_allocated == 2
    with django_capture_on_commit_callbacks(execute=True):
        stock_service.receive(sku=sku, warehouse=warehouse, quantity=5, actor=system_actor)
    order.refresh_from_db()
    assert order.status == S.ALLOCATED
    assert StockLevel.objects.get(sku=sku).allocated == 3


def test_backorders_are_served_oldest_first(
    channel, warehouse, system_actor, django_capture_on_commit_callbacks
):
    sku = SKUFactory(code="RARE-1")
    first = place(channel, lines=(("RARE-1", 1),))
    second = place(channel, lines=(("RARE-1", 1),))
    with django_capture_on_commit_callbacks(execute=True):
        stock_service.receive(sku=sku, warehouse=warehouse, quantity=1, actor=system_actor)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (S.ALLOCATED, S.BACKORDERED)


def test_cancelled_units_go_to_the_next_backorder(
    channel, warehouse, system_actor, django_capture_on_commit_callbacks
):
    sku = SKUFactory(code="RARE-2")
    stock(sku, warehouse, 1)
    first = place(channel, lines=(("RARE-2", 1),))
    waiting = place(channel, lines=(("RARE-2", 1),))
    assert waiting.status == S.BACKORDERED
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_order(first, actor=system_actor)
    waiting.refresh_from_db()
    assert waiting.status == S.ALLOCATED


def test_reroute_to_a_chosen_warehouse(channel, warehouse, shelf, system_actor):
    lyon = WarehouseFactory(code="lyo", city="Lyon", country="FR", latitude=45.76, longitude=4.83)
    stock(shelf, lyon, 5)
    order = place(channel)
    assert order.routing_decision["assignments"][0]["warehouse"] == "ber"
    order = services.reroute_order(order, warehouse=lyon, actor=system_actor)
    assert order.status == S.ALLOCATED
    assert order.routing_decision["manual_warehouse"] == "lyo"
    assert order.routing_decision["decided_by"] == "manual"
    levels = {lv.warehouse.code: lv.allocated for lv in StockLevel.objects.filter(sku=shelf)}
    assert levels == {"ber": 0, "lyo": 2}


def test_manual_warehouse_at_placement(channel, warehouse, shelf, system_actor):
    lyon = WarehouseFactory(code="lyo", city="Lyon", country="FR")
    stock(shelf, lyon, 5)
    order = place(channel, warehouse=lyon)
    assert order.lines.get().allocations.get().warehouse == lyon


def test_partial_ship_then_rest(
    channel, warehouse, system_actor, django_capture_on_commit_callbacks
):
    sku = SKUFactory(code="PART-1")
    stock(sku, warehouse, 1)
    order = place(channel, lines=(("PART-1", 2),))
    assert order.status == S.BACKORDERED
    # A backordered order can't ship: only fully allocated ones go to the warehouse.
    with pytest.raises(TransitionNotAllowed):
        services.ship_order(order, actor=system_actor)
    with django_capture_on_commit_callbacks(execute=True):
        stock_service.receive(sku=sku, warehouse=warehouse, quantity=1, actor=system_actor)
    order = services.ship_order(order, actor=system_actor)
    assert order.status == S.SHIPPED
    assert StockLevel.objects.get(sku=sku).on_hand == 0


def test_draft_is_not_routed_until_submitted(channel, shelf, system_actor):
    order = place(channel, draft=True)
    assert order.status == S.DRAFT
    assert StockLevel.objects.get(sku=shelf).allocated == 0
    order = services.submit_draft(order, actor=system_actor)
    assert order.status == S.ALLOCATED
    assert order.placed_at is not None


@pytest.mark.parametrize(
    ("rule", "setup", "reason"),
    [
        ("blocked_customer", "blocked", "Customer is blocked"),
        ("address_mismatch", "billing_fr", "Billing country FR differs"),
        ("high_value", "expensive", "Order total above a threshold"),
    ],
)
def test_hold_rules_put_suspicious_orders_on_hold(
    channel, shelf, system_actor, rule, setup, reason
):
    HoldRule.objects.create(kind=rule, enabled=True, threshold=100)
    kwargs = {}
    if setup == "blocked":
        CustomerFactory(email="erika@example.com", blocked=True)
    elif setup == "billing_fr":
        kwargs["billing_address"] = {
            "name": "E",
            "line1": "1 rue",
            "city": "Paris",
            "country": "FR",
        }
    lines = (("TSHIRT-BLK-M", 6),) if setup == "expensive" else (("TSHIRT-BLK-M", 1),)
    order = place(channel, lines=lines, **kwargs)
    assert order.status == S.ON_HOLD
    assert reason in order.hold_reason
    assert StockLevel.objects.get(sku=shelf).allocated == 0
    order = services.release_order(order, actor=system_actor, note="checked by phone")
    assert order.status == S.ALLOCATED


def test_disabled_rules_do_not_hold(channel, shelf):
    HoldRule.objects.create(kind="high_value", enabled=False, threshold=1)
    assert place(channel).status == S.ALLOCATED


def test_high_value_in_another_currency_uses_the_dated_rate(channel, shelf):
    import datetime
    from decimal import Decimal

    from oms_site.models import ExchangeRate

    HoldRule.objects.create(kind="high_value", enabled=True, threshold=Decimal("30"))
    ExchangeRate.objects.create(
        currency="GBP", rate=Decimal("1.2"), valid_on=datetime.date(2020, 1, 1)
    )
    body = order_payload(lines=(("TSHIRT-BLK-M", 1),))
    lines = [{"sku": "TSHIRT-BLK-M", "quantity": 1, "unit_price": "26.00"}]
    from oms_site.actors import Actor

    order = services.place_order(
        channel=channel,
        currency="GBP",
        lines=lines,
        shipping_address=body["shipping_address"],
        actor=Actor.system("test"),
    )
    assert order.status == S.ON_HOLD
    assert "31.20 EUR (rate 1.20000000 of 2020-01-01)" in order.hold_reason
