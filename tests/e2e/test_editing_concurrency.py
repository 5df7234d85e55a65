"""Edits racing allocations on PostgreSQL with real threads: stock is never oversold, the
ledger stays whole, and an edit racing the first pick scan either lands before it or is
refused."""

import pytest
from django.db import transaction

from inventory.models import StockLevel
from oms_site.actors import Actor
from oms_site.errors import DomainError
from orders import services
from orders.audit import audit_stock
from orders.models import Order, OrderStatus
from orders.services.editing import mark_picking_started

from ..factories import ChannelFactory, SKUFactory, WarehouseFactory, stock
from .test_concurrency import place, run_concurrently

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ACTOR = Actor.system("race")


def test_edits_raising_quantities_race_new_orders_for_the_last_units():
    ChannelFactory()
    warehouse = WarehouseFactory(code="ber")
    sku = SKUFactory(code="HOT-1")
    stock(sku, warehouse, 30)
    edited = [place("web", (("HOT-1", 1),)) for _ in range(10)]  # 10 allocated, 20 free

    def work(index):
        if index < 10:
            order = edited[index]
            line = order.lines.get()
            # Each edit asks for 3 more units while 20 new orders ask for 1 each.
            return services.edit_order(
                order, lines=[{"line": line.pk, "quantity": 4}], actor=ACTOR
            ).status
        return place("web", (("HOT-1", 1),)).status

    results = run_concurrently(30, work)

    level = StockLevel.objects.get(sku=sku)
    assert (level.on_hand, level.allocated) == (30, 30)
    allocated_units = sum(
        line.quantity_allocated
        for order in Order.objects.prefetch_related("lines")
        for line in order.lines.all()
    )
    assert allocated_units == 30
    assert results.count(OrderStatus.ALLOCATED) + results.count(OrderStatus.BACKORDERED) == 30
    assert audit_stock() == []


def test_edits_and_quantity_cuts_free_units_for_backorders_without_loss():
    ChannelFactory()
    warehouse = WarehouseFactory(code="ber")
    sku = SKUFactory(code="HOT-2")
    stock(sku, warehouse, 10)
    big = [place("web", (("HOT-2", 5),)) for _ in range(2)]  # everything allocated

    def work(index):
        if index < 2:
            line = big[index].lines.get()
            return services.edit_order(
                big[index], lines=[{"line": line.pk, "quantity": 1}], actor=ACTOR
            ).status
        return place("web", (("HOT-2", 1),)).status

    run_concurrently(10, work)
    services.allocate_backorders()

    level = StockLevel.objects.get(sku=sku)
    assert level.allocated == 10 and level.on_hand == 10
    assert audit_stock() == []


def test_an_edit_racing_the_first_pick_scan_lands_first_or_is_refused():
    ChannelFactory()
    warehouse = WarehouseFactory(code="ber")
    sku = SKUFactory(code="HOT-3")
    stock(sku, warehouse, 50)
    orders = [place("web", (("HOT-3", 1),)) for _ in range(6)]

    def work(index):
        order = orders[index % 6]
        if index < 6:
            with transaction.atomic():
                mark_picking_started([order.pk], actor=ACTOR, pick_list="PL-race")
            return "picking"
        try:
            line = order.lines.get()
            services.edit_order(order, lines=[{"line": line.pk, "quantity": 2}], actor=ACTOR)
            return "edited"
        except DomainError as exc:
            return exc.code

    results = run_concurrently(12, work)

    for order in orders:
        order = Order.objects.get(pk=order.pk)
        assert order.picking_started_at is not None
        edited_event = order.events.filter(kind="edited").first()
        started_event = order.events.filter(details__picking_started=True).get()
        if edited_event is not None:
            assert edited_event.pk < started_event.pk
    assert set(results[6:]) <= {"edited", "order_not_editable"}
    assert audit_stock() == []
