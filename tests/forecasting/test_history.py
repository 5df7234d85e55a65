"""Daily demand from the ledger: what counts, what nets out, and stock-out days."""

from datetime import timedelta

import numpy as np
import pytest

from inventory.forecasting import history
from tests import factories

from .conftest import R, write_ledger

pytestmark = pytest.mark.django_db


@pytest.fixture
def places(db):
    sku = factories.SKUFactory(code="MUG-1")
    ber = factories.WarehouseFactory(code="ber")
    lds = factories.WarehouseFactory(code="lds", city="Leeds", country="GB")
    return sku, ber, lds


def read(sku, warehouses, as_of, days=10):
    return history.demand_history(keys=[(sku.pk, w.pk) for w in warehouses], as_of=as_of, days=days)


def test_orders_count_cancellations_net_out_and_returns_are_subtracted(places, as_of):
    sku, ber, lds = places
    d = [as_of - timedelta(days=9 - i) for i in range(10)]
    write_ledger(
        [
            (sku, ber, d[0] - timedelta(days=1), 100, 0, R.RECEIPT, "PO-1"),
            # Shipped order: allocated on day 1, shipped on day 2 -> 3 units on day 1.
            (sku, ber, d[1], 0, 3, R.ALLOCATION, "order:SO-1"),
            (sku, ber, d[2], -3, -3, R.SHIPMENT, "order:SO-1"),
            # Cancelled order: allocated and deallocated -> no demand.
            (sku, ber, d[3], 0, 5, R.ALLOCATION, "order:SO-2"),
            (sku, ber, d[4], 0, -5, R.DEALLOCATION, "order:SO-2"),
            # Partly cancelled: 4 allocated, 1 shipped, 3 released -> 1 unit.
            (sku, ber, d[5], 0, 4, R.ALLOCATION, "order:SO-3"),
            (sku, ber, d[6], -1, -1, R.SHIPMENT, "order:SO-3"),
            (sku, ber, d[6], 0, -3, R.DEALLOCATION, "order:SO-3"),
            # Shipped 2, one came back -> 1 unit on the order's day.
            (sku, ber, d[7], 0, 2, R.ALLOCATION, "order:SO-4"),
            (sku, ber, d[7], -2, -2, R.SHIPMENT, "order:SO-4"),
            (sku, ber, d[9], 1, 0, R.RETURN_RESTOCK, "order:SO-4"),
            # Checkout holds, counts and transfers are not demand.
            (sku, ber, d[8], 0, 2, R.RESERVATION, "reservation:abc"),
            (sku, ber, d[8], 0, -2, R.RESERVATION_RELEASE, "reservation:abc"),
            (sku, ber, d[8], -4, 0, R.TRANSFER_OUT, "transfer:ber->lds"),
            (sku, lds, d[8], 4, 0, R.TRANSFER_IN, "transfer:ber->lds"),
            # Re-routed: released at Berlin, allocated at Leeds -> Leeds' demand.
            (sku, ber, d[8], 0, 2, R.ALLOCATION, "order:SO-5"),
            (sku, ber, d[8], 0, -2, R.DEALLOCATION, "order:SO-5"),
            (sku, lds, d[8], 0, 2, R.ALLOCATION, "order:SO-5"),
            (sku, lds, d[9], -2, -2, R.SHIPMENT, "order:SO-5"),
        ]
    )
    h = read(sku, [ber, lds], as_of)
    np.testing.assert_array_equal(h.demand[0], [0, 3, 0, 0, 0, 1, 0, 1, 0, 0])
    np.testing.assert_array_equal(h.demand[1], [0, 0, 0, 0, 0, 0, 0, 0, 2, 0])
    assert not h.stockout[0].any()


def test_stock_out_days_are_flagged_and_not_read_as_zero_demand(places, as_of):
    sku, ber, _ = places
    d = [as_of - timedelta(days=9 - i) for i in range(10)]
    write_ledger(
        [
            (sku, ber, d[0], 4, 0, R.RECEIPT, "PO-1"),
            (sku, ber, d[1], -2, 0, R.SHIPMENT, "order:SO-1"),
            (sku, ber, d[3], -2, 0, R.SHIPMENT, "order:SO-2"),  # sold out on day 3
            (sku, ber, d[7], 5, 0, R.RECEIPT, "PO-2"),  # back in stock on day 7
            (sku, ber, d[8], 0, 5, R.ALLOCATION, "order:SO-3"),  # all of it allocated
            (sku, ber, d[9], -5, -5, R.SHIPMENT, "order:SO-3"),
        ]
    )
    h = read(sku, [ber], as_of)
    np.testing.assert_array_equal(h.available[0], [4, 2, 2, 0, 0, 0, 0, 5, 0, 0])
    np.testing.assert_array_equal(h.stockout[0], [0, 0, 0, 1, 1, 1, 1, 0, 1, 1])
    observed = h.observed()[0]
    assert np.isnan(observed[3:7]).all() and np.isnan(observed[8:]).all()
    assert observed[7] == 0 and observed[1] == 2


def test_days_before_the_warehouse_held_the_sku_are_unknown(places, as_of):
    sku, ber, _ = places
    write_ledger([(sku, ber, as_of - timedelta(days=3), 10, 0, R.RECEIPT, "PO-1")])
    h = read(sku, [ber], as_of)
    np.testing.assert_array_equal(h.known[0], [0] * 6 + [1] * 4)
    assert np.isnan(h.observed()[0][:6]).all()
    np.testing.assert_array_equal(h.observed()[0][6:], [0, 0, 0, 0])


def test_stock_before_the_window_carries_in(places, as_of):
    sku, ber, _ = places
    write_ledger(
        [
            (sku, ber, as_of - timedelta(days=40), 7, 0, R.RECEIPT, "PO-1"),
            (sku, ber, as_of - timedelta(days=30), -7, 0, R.SHIPMENT, "order:SO-1"),
        ]
    )
    h = read(sku, [ber], as_of)
    assert h.known[0].all() and h.stockout[0].all()
    assert h.demand[0].sum() == 0  # the sale was before the window
