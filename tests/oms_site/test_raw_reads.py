"""Placement's reads without the ORM's compiling: the same instances the ORM answers."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from inventory import selectors, stock
from inventory.models import SKU, StockLevel
from oms_site import raw_reads
from orders.models import Customer

from .. import factories

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def fields_of(instance):
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def test_skus_come_with_their_product_and_supplier_as_select_related_gives_them():
    supplier = factories.SupplierFactory(code="acme", drop_ships=True)
    with_supplier = factories.SKUFactory(code="RAW-1", supplier=supplier, price="12.50")
    without = factories.SKUFactory(code="RAW-2")
    factories.SKUFactory(code="RAW-3")

    with CaptureQueriesContext(connection) as queries:
        found = selectors.skus_with_product_and_supplier(["RAW-2", "RAW-1", "NO-SUCH"])
        # Everything the placement reads is loaded: no further query.
        assert [s.supplier.code if s.supplier else None for s in found] == ["acme", None]
        assert [s.product.name for s in found] == [
            with_supplier.product.name,
            without.product.name,
        ]
    assert len(queries) == 1
    expected = SKU.objects.filter(code__in=["RAW-1", "RAW-2"]).order_by("pk")
    assert [fields_of(s) for s in found] == [fields_of(s) for s in expected]
    assert fields_of(found[0].supplier) == fields_of(supplier)
    assert not found[0]._state.adding and found[0]._state.db == "default"


def test_locked_levels_are_the_orm_rows_in_primary_key_order(system_actor):
    skus = [factories.SKUFactory(code=f"LOCK-{n}") for n in range(3)]
    for warehouse in (factories.WarehouseFactory(code="ber"), factories.WarehouseFactory()):
        for sku in skus:
            stock.receive(sku=sku, warehouse=warehouse, quantity=4, actor=system_actor)
    ids = [skus[2].pk, skus[0].pk]
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        levels = stock.lock_levels_for_routing(ids + ids)
    assert "FOR UPDATE" in queries[-1]["sql"]
    expected = StockLevel.objects.filter(sku_id__in=ids).order_by("pk")
    assert [fields_of(level) for level in levels] == [fields_of(level) for level in expected]


def test_customers_by_email_in_primary_key_order():
    first = factories.CustomerFactory(email="a@example.com")
    factories.CustomerFactory(email="b@example.com")
    second = Customer.objects.create(
        email="a@example.com", name="Again", channel=factories.ChannelFactory()
    )
    found = raw_reads.fetch(Customer, "email", ["a@example.com"])
    assert [c.pk for c in found] == [first.pk, second.pk]
    assert fields_of(found[1]) == fields_of(second)
