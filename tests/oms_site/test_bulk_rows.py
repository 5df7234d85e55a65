"""The bulk writers of hot paths write exactly what the ORM would (SQLite and PostgreSQL)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from inventory.models import StockLevel
from oms_site.bulk_rows import insert_new_rows, insert_objects, insert_rows, new_ids, update_rows
from orders.models import Customer, TaxRate

from ..factories import ChannelFactory, SKUFactory, TaxClassFactory, WarehouseFactory, stock

pytestmark = pytest.mark.django_db


def test_update_rows_writes_each_rows_own_values_and_nothing_else():
    warehouse = WarehouseFactory(code="ber")
    levels = [stock(SKUFactory(code=f"UPD-{n}"), warehouse, 10) for n in range(3)]
    untouched = stock(SKUFactory(code="UPD-X"), warehouse, 10)
    when = timezone.now() - timedelta(days=1)
    for n, level in enumerate(levels[:2]):
        level.safety_stock, level.updated_at = n + 1, when
    update_rows(levels[:2], ["safety_stock", "updated_at"])

    stored = {lv.pk: lv for lv in StockLevel.objects.all()}
    assert [stored[lv.pk].safety_stock for lv in levels] == [1, 2, 0]
    assert stored[levels[0].pk].updated_at == when
    assert stored[levels[0].pk].on_hand == 10  # a field not named stays
    assert stored[untouched.pk].safety_stock == 0


def test_update_rows_takes_decimals_and_text():
    tax_class = TaxClassFactory()
    rate = TaxRate.objects.create(
        country="NO", tax_class=tax_class, rate=Decimal("25"), name="MVA", valid_from="2020-01-01"
    )
    rate.rate, rate.name = Decimal("12.5"), "MVA lav"
    update_rows([rate], ["rate", "name"])
    rate.refresh_from_db()
    assert (rate.rate, rate.name) == (Decimal("12.500"), "MVA lav")


def test_update_rows_of_nothing_writes_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        update_rows([], ["safety_stock"])


def test_new_ids_are_fresh_and_never_given_again():
    """Keys drawn ahead of the rows: on an empty table, after rows written with them, and
    for the ORM's own inserts afterwards, which must not reuse them."""
    first = new_ids(Customer, 3)
    assert first == list(range(first[0], first[0] + 3))
    customers = [Customer(id=pk, email=f"c{pk}@example.com") for pk in first]
    insert_objects(customers, ["id", "email", "name", "phone"])
    assert sorted(Customer.objects.values_list("pk", flat=True)) == first
    assert not customers[0]._state.adding
    later = Customer.objects.create(email="later@example.com")
    assert later.pk > first[-1]
    again = new_ids(Customer, 2)
    assert again[0] > later.pk and new_ids(Customer, 0) == []


# Characters COPY's text format and JSON both escape, and text beyond ASCII.
AWKWARD = {"note": 'tab\there, newline\nthere, back\\slash, "quoted"', "name": "Ærøskøbing ✓"}


@pytest.mark.parametrize("rows", [1, 3])  # one INSERT; a COPY
def test_json_documents_come_back_as_written(rows, system_actor):
    from oms_site.models import OutboxEvent

    insert_rows(
        OutboxEvent,
        [
            {"event_type": "test.json", "payload": AWKWARD | {"n": n}, "subject": f"t:{n}"}
            for n in range(rows)
        ],
    )
    stored = OutboxEvent.objects.filter(event_type="test.json").order_by("subject")
    assert [event.payload for event in stored] == [AWKWARD | {"n": n} for n in range(rows)]


@pytest.mark.parametrize("rows", [1, 3])
def test_a_json_text_field_keeps_the_document_as_written(rows, system_actor):
    """An order link's marketplace record: JSON text in the column, the document in Python."""
    from marketplaces.models import MarketplaceConnection, MarketplaceOrder
    from orders.services import place_order

    from ..helpers import placement_spec

    channel = ChannelFactory(kind="amazon")
    connection = MarketplaceConnection(channel=channel, api_base_url="http://127.0.0.1:9/")
    connection.credentials = {"refresh_token": "x"}
    connection.save()
    SKUFactory(code="JSON-1", price="10.00")
    orders = [
        place_order(**placement_spec(channel, f"json-{n}", [("JSON-1", 1)]), actor=system_actor)
        for n in range(rows)
    ]
    insert_rows(
        MarketplaceOrder,
        [
            {
                "order_id": order.pk,
                "connection_id": connection.pk,
                "external_id": order.external_id,
                "marketplace_status": "Unshipped",
                "content_hash": "h",
                "payload": AWKWARD | {"id": order.external_id},
            }
            for order in orders
        ],
    )
    links = MarketplaceOrder.objects.filter(connection=connection).order_by("external_id")
    assert [link.payload for link in links] == [AWKWARD | {"id": o.external_id} for o in orders]
    # Written through the ORM too, and updated.
    MarketplaceOrder.objects.filter(pk=links[0].pk).update(payload={"changed": [1, 2.5, None]})
    assert MarketplaceOrder.objects.get(pk=links[0].pk).payload == {"changed": [1, 2.5, None]}


@pytest.mark.postgres
def test_insert_new_rows_skips_a_row_already_held_and_answers_the_rest_as_stored():
    channel = ChannelFactory()
    held = Customer.objects.create(email="held@example.com", channel=channel, name="Held")
    made = insert_new_rows(
        Customer,
        [
            {"email": "held@example.com", "channel_id": channel.pk, "name": "Other"},
            {"email": "new@example.com", "channel_id": channel.pk, "name": "Ny kunde"},
            {"email": "new@example.com", "channel_id": None, "name": "No channel"},
        ],
    )
    assert sorted((c.name, c.email, c.channel_id) for c in made) == [
        ("No channel", "new@example.com", None),
        ("Ny kunde", "new@example.com", channel.pk),
    ]
    stored = {c.pk: c for c in Customer.objects.filter(email="new@example.com")}
    for customer in made:
        assert stored[customer.pk].name == customer.name
        assert not customer._state.adding and customer.created_at == stored[customer.pk].created_at
    assert Customer.objects.get(pk=held.pk).name == "Held"  # the held row untouched
    assert insert_new_rows(Customer, []) == []


def test_customers_for_a_batch_reuse_the_known_and_create_the_new_once():
    from orders.services.customers import customers_for_orders

    channel = ChannelFactory()
    known = Customer.objects.create(email="known@example.com", channel=channel, name="")
    buyers = {
        ("known@example.com", channel.pk): ("Known Buyer", "+47 1", channel),
        ("fresh@example.com", channel.pk): ("Fresh Buyer", "+47 2", channel),
    }
    found = customers_for_orders(buyers)
    assert found[("known@example.com", channel.pk)].pk == known.pk
    fresh = found[("fresh@example.com", channel.pk)]
    assert (fresh.pk, fresh.name, fresh.phone, fresh.channel_id) == (
        Customer.objects.get(email="fresh@example.com").pk,
        "Fresh Buyer",
        "+47 2",
        channel.pk,
    )
    known.refresh_from_db()
    assert known.name == "Known Buyer"  # a name it lacked is filled in
    assert customers_for_orders(buyers)[("fresh@example.com", channel.pk)].pk == fresh.pk
    assert Customer.objects.count() == 2
