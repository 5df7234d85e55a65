"""Two workers importing pages at once, on PostgreSQL with real threads: a page of changes
to known orders (which locks the page's stock first) beside a page of new orders (whose
bulk placement locks the same stock later, just before routing) never deadlock, and the
stock is right afterwards."""

import pytest
from django.db import transaction

from inventory.models import StockLevel
from marketplaces.connectors import connector_for
from marketplaces.models import SyncRun
from marketplaces.services.ingest import ingest_page
from orders.audit import audit_stock
from orders.models import Order, OrderStatus

from ..e2e.test_concurrency import run_concurrently
from .helpers import sync

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

LINES = [{"sku": "MK-TEE-M", "quantity": 1}, {"sku": "MK-MUG", "quantity": 1}]


def test_a_page_of_changes_and_a_page_of_new_orders_at_once(marketplace, stocked):
    server, connection = marketplace("amazon")
    store = server.marketplace.store
    connector = connector_for(connection)
    cancelled, placed = [], []
    for _round in range(3):
        known = store.generate(10, status="unshipped", afn=False, lines=LINES)
        assert sync(connection).created == 10
        for order in known:
            store.act(order["id"], "cancel", {})
        # The new orders name the same SKUs the other way round.
        new = store.generate(10, status="unshipped", afn=False, lines=LINES[::-1])
        pages = [
            [connector.fetch_order(order["id"]) for order in known],
            [connector.fetch_order(order["id"]) for order in new],
        ]
        run = SyncRun.objects.create(connection=connection, kind="manual", fetch_complete=True)

        def import_page(index, pages=pages, run=run):
            with transaction.atomic():
                result = ingest_page(connection, connector, run, pages[index])
            return result.updated, result.created, result.failed

        assert run_concurrently(2, import_page) == [(10, 0, 0), (0, 10, 0)]
        cancelled += [order["id"] for order in known]
        placed += [order["id"] for order in new]

    statuses = dict(Order.objects.values_list("external_id", "status"))
    assert {statuses[i] for i in cancelled} == {OrderStatus.CANCELLED}
    assert {statuses[i] for i in placed} == {OrderStatus.ALLOCATED}
    for sku in stocked[:2]:
        level = StockLevel.objects.get(sku=sku)
        assert (level.on_hand, level.allocated) == (50, 30)
    assert audit_stock() == []
