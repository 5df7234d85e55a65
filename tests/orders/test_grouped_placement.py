"""Concurrent API orders placed together in one transaction (group commit): each request
gets its own order or its own error, exactly once, whatever the others in its batch do."""

import json
import threading
import time

import pytest
from django.db import OperationalError, connection, transaction

from inventory import stock
from inventory.models import StockLevel
from oms_site.actors import Actor
from oms_site.errors import Conflict, ValidationFailed
from oms_site.models import IdempotencyRecord
from orders.models import Order, OrderEvent
from orders.services import grouped_placement
from orders.services.grouped_placement import PlacementGroup

from .. import factories
from ..helpers import order_payload, placement_spec

pytestmark = pytest.mark.django_db

URL = "/api/v1/orders/"


def spec(channel, external_id, code="GRP-1"):
    return placement_spec(channel, external_id, [(code, 1)])


@pytest.fixture
def shop(db, system_actor):
    channel = factories.ChannelFactory()
    warehouse = factories.WarehouseFactory(code="ber")
    sku = factories.SKUFactory(code="GRP-1", price="10.00")
    stock.receive(sku=sku, warehouse=warehouse, quantity=50, actor=system_actor)
    return channel, sku


def test_an_api_order_is_placed_as_a_batch_of_one(api, channel, warehouse, sku):
    factories.stock(sku, warehouse, 5)
    group = grouped_placement._group
    before = (group.batches, group.grouped_orders)
    response = api.post(URL, data=json.dumps(order_payload()), content_type="application/json")
    assert response.status_code == 201, response.content
    assert (group.batches, group.grouped_orders) == (before[0] + 1, before[1] + 1)
    order = Order.objects.get(number=response.json()["number"])
    kinds = list(order.events.order_by("pk").values_list("kind", flat=True))
    assert kinds == ["created", "status_changed", "status_changed", "routed"]
    assert order.status == "allocated"


@pytest.mark.parametrize(
    "extra, headers",
    [
        ({"draft": True}, {}),
        ({"warehouse": "ber"}, {}),
    ],
    ids=["draft", "chosen-warehouse"],
)
def test_orders_with_options_are_placed_alone(api, channel, warehouse, sku, extra, headers):
    factories.stock(sku, warehouse, 5)
    group = grouped_placement._group
    before = group.batches
    body = order_payload(**extra)
    response = api.post(URL, data=json.dumps(body), content_type="application/json", **headers)
    assert response.status_code == 201, response.content
    assert group.batches == before


def test_a_keyed_order_is_grouped_and_its_key_replays_the_answer(api, channel, warehouse, sku):
    factories.stock(sku, warehouse, 5)
    group = grouped_placement._group
    before = group.batches
    body = json.dumps(order_payload(external_id="keyed-1"))
    first = api.post(URL, data=body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201, first.content
    assert group.batches == before + 1
    again = api.post(URL, data=body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert group.batches == before + 1  # the replay placed nothing
    assert Order.objects.count() == 1
    other = json.dumps(order_payload(external_id="keyed-2"))
    refused = api.post(URL, data=other, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert refused.status_code == 422  # the key was used with another body


def test_a_keyed_order_that_is_refused_leaves_its_key_free(api, channel, warehouse, sku):
    factories.stock(sku, warehouse, 5)
    bad = order_payload(lines=(("NO-SUCH-SKU", 1),))
    refused = api.post(
        URL, data=json.dumps(bad), content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-2"
    )
    assert refused.status_code == 422
    assert "lines.0.sku" in refused.json()["error"]["fields"]
    assert not IdempotencyRecord.objects.exists()
    fixed = api.post(
        URL,
        data=json.dumps(order_payload()),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-2",
    )
    assert fixed.status_code == 201, fixed.content
    assert IdempotencyRecord.objects.get(key="k-2").response_body == fixed.json()


def test_a_batch_that_fails_as_a_whole_places_each_order_alone(shop, system_actor, monkeypatch):
    channel, sku = shop

    def deadlocked(*args, **kwargs):
        Order.objects.create(channel=channel, currency="EUR", external_id="rolled-back")
        raise OperationalError("deadlock detected")

    monkeypatch.setattr(grouped_placement, "place_orders", deadlocked)
    group = PlacementGroup()
    order = group.place(spec(channel, "alone-1"), system_actor)
    assert order.status == "allocated"
    assert group.batches == 0
    # What the failed batch wrote is gone; the order was placed once, alone.
    assert list(Order.objects.values_list("external_id", flat=True)) == ["alone-1"]
    assert StockLevel.objects.get(sku=sku).allocated == 1


# --- several requests at once (PostgreSQL, one connection per thread) --------------------


class Requests:
    """Requests placed through one ``PlacementGroup`` from their own threads, while the
    first one's batch waits for a lock on the SKU's stock (held by the test), so that the
    others queue behind it as they would under load."""

    def __init__(self, group, sku):
        self.group = group
        self.sku = sku
        self.results = {}
        self.threads = []
        self.release = threading.Event()
        self.locked = threading.Event()
        self.holder = threading.Thread(target=self._hold_stock)
        self.holder.start()
        assert self.locked.wait(10)

    def _hold_stock(self):
        try:
            with transaction.atomic():
                list(StockLevel.objects.select_for_update().filter(sku=self.sku))
                self.locked.set()
                self.release.wait(30)
        finally:
            connection.close()

    def start(self, name, request_spec, actor):
        def run():
            try:
                self.results[name] = self.group.place(request_spec, actor)
            except Exception as exc:  # noqa: BLE001 (the test reads it)
                self.results[name] = exc
            finally:
                connection.close()

        thread = threading.Thread(target=run)
        self.threads.append(thread)
        thread.start()

    def wait_until_queued(self, count):
        deadline = time.monotonic() + 10
        while len(self.group._queue) < count:
            assert time.monotonic() < deadline, f"{len(self.group._queue)} of {count} queued"
            time.sleep(0.01)

    def finish(self):
        self.release.set()
        self.holder.join(30)
        for thread in self.threads:
            thread.join(30)
        return self.results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_requests_that_arrive_together_share_a_transaction_per_actor(shop):
    channel, sku = shop
    shop_actor, other_actor = Actor.system("shop-api"), Actor.system("pos-api")
    group = PlacementGroup()
    requests = Requests(group, sku)
    requests.start("first", spec(channel, "first"), shop_actor)
    time.sleep(0.2)  # the first leads, and waits for the stock lock
    for n in range(6):
        actor = shop_actor if n % 2 == 0 else other_actor
        requests.start(f"r{n}", spec(channel, f"r{n}"), actor)
    requests.wait_until_queued(6)
    results = requests.finish()

    assert all(isinstance(order, Order) for order in results.values()), results
    # The first alone, then one batch per actor for the six that queued behind it.
    assert (group.batches, group.grouped_orders) == (3, 7)
    assert StockLevel.objects.get(sku=sku).allocated == 7
    for name, order in results.items():
        order.refresh_from_db()
        assert order.external_id == name
        assert order.status == "allocated"
        created = order.events.get(kind=OrderEvent.Kind.CREATED)
        expected = "pos-api" if name in ("r1", "r3", "r5") else "shop-api"
        assert created.actor_label == expected
        assert order.events.count() == 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_refused_order_fails_alone_and_a_duplicate_waits_for_the_next_batch(shop, system_actor):
    channel, sku = shop
    group = PlacementGroup()
    requests = Requests(group, sku)
    requests.start("first", spec(channel, "first"), system_actor)
    time.sleep(0.2)
    requests.start("good-1", spec(channel, "good-1"), system_actor)
    requests.start("unknown-sku", spec(channel, "bad", code="NO-SUCH-SKU"), system_actor)
    requests.start("good-2", spec(channel, "twice"), system_actor)
    requests.wait_until_queued(3)
    requests.start("twice-again", spec(channel, "twice"), system_actor)
    requests.wait_until_queued(4)
    results = requests.finish()

    assert isinstance(results["unknown-sku"], ValidationFailed)
    assert "lines.0.sku" in results["unknown-sku"].fields
    for name in ("first", "good-1", "good-2"):
        assert isinstance(results[name], Order), results[name]
    duplicate = results["twice-again"]
    assert isinstance(duplicate, Conflict)
    assert duplicate.code == "duplicate_external_id"
    assert results["good-2"].number in duplicate.message
    assert Order.objects.count() == 3
    assert StockLevel.objects.get(sku=sku).allocated == 3


# --- the leader's wait for company (PostgreSQL, one connection per thread) ----------------


class Served:
    """A request of the process: inside ``group.serving()`` at once, placing its order
    only when told (as a client whose next order is on its way)."""

    def __init__(self, group, request_spec, actor):
        self.group, self.spec, self.actor = group, request_spec, actor
        self.go = threading.Event()
        self.inside = threading.Event()
        self.result = None
        self.thread = threading.Thread(target=self._run)
        self.thread.start()
        assert self.inside.wait(10)

    def _run(self):
        try:
            with self.group.serving():
                self.inside.set()
                self.go.wait(30)
                self.result = self.group.place(self.spec, self.actor)
        except Exception as exc:  # noqa: BLE001 (the test reads it)
            self.result = exc
        finally:
            connection.close()

    def join(self):
        self.thread.join(30)
        return self.result


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_leader_waits_for_the_requests_its_process_is_serving(shop, system_actor):
    channel, sku = shop
    group = PlacementGroup(wait_ms=10_000)
    requests = [Served(group, spec(channel, f"w{n}"), system_actor) for n in range(3)]
    requests[0].go.set()  # it leads, and waits: three requests are being served
    deadline = time.monotonic() + 10
    while group.waits == 0:
        assert time.monotonic() < deadline, "the leader did not wait"
        time.sleep(0.01)
    assert group.batches == 0
    for request in requests[1:]:
        request.go.set()
    results = [request.join() for request in requests]

    assert all(isinstance(order, Order) for order in results), results
    assert (group.batches, group.grouped_orders) == (1, 3)  # one transaction for the three
    assert StockLevel.objects.get(sku=sku).allocated == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_lone_request_waits_for_nobody_and_a_late_one_for_at_most_the_bound(shop, system_actor):
    channel, sku = shop
    group = PlacementGroup(wait_ms=200)
    alone = Served(group, spec(channel, "alone"), system_actor)
    alone.go.set()
    assert isinstance(alone.join(), Order)
    assert (group.batches, group.waits) == (1, 0)

    # Two served at once, but one never places in time: the other waits out the bound,
    # then places alone.
    late = Served(group, spec(channel, "late"), system_actor)
    early = Served(group, spec(channel, "early"), system_actor)
    early.go.set()
    assert isinstance(early.join(), Order)
    assert (group.batches, group.grouped_orders, group.waits) == (2, 2, 1)
    late.go.set()
    assert isinstance(late.join(), Order)
    assert group.batches == 3
    assert StockLevel.objects.get(sku=sku).allocated == 3


def test_how_many_a_leader_waits_for_is_the_most_served_at_once_lately(monkeypatch):
    group = PlacementGroup()
    with group.serving(), group.serving(), group.serving():
        pass
    with group.serving():
        assert group._expected() == 3  # three at once a moment ago
    now = time.monotonic()
    monkeypatch.setattr(
        grouped_placement.time, "monotonic", lambda: now + grouped_placement.PEAK_SECONDS + 1
    )
    assert group._expected() == 0  # a second later nobody is being served
    with group.serving():
        assert group._expected() == 1
