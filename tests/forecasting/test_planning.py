"""Reorder figures from a forecast, by hand-checkable arithmetic."""

import numpy as np

from inventory.forecasting import planning


def plan(**overrides):
    n = 1
    args = dict(
        mean=np.full((n, 28), 10.0),
        sigma=np.array([2.0]),
        on_hand=np.array([40]),
        allocated=np.array([10]),
        arrivals=np.zeros((n, 28)),
        on_order=np.array([0]),
        lead_time=np.array([4]),
        lead_time_std=np.array([0.0]),
        service_level=0.95,
        review_period=7,
        pack_size=np.array([12]),
        minimum=np.array([100]),
        can_order=np.array([True]),
    )
    args.update(overrides)
    return planning.plan(**args)


def test_safety_stock_reorder_point_cover_and_stock_out():
    p = plan()
    # z(95 %) = 1.645; sqrt(4 days x 2^2) = 4 -> 6.58 -> 7 units.
    assert p.safety_stock[0] == 7
    assert p.reorder_point[0] == 40 + 7
    # 30 available, 10 a day: gone after 3 days, below zero on day 4.
    assert p.days_of_cover[0] == 3.0
    assert p.stockout_day[0] == 4
    np.testing.assert_allclose(p.projected[0, :4], [20, 10, 0, -10])
    assert p.at_risk[0]  # day 4 is inside the 4-day lead time


def test_suggested_quantity_uses_packs_and_the_minimum():
    p = plan()
    # Target: 10 x (4 + 7) + 7 = 117; position 30 -> 87 -> 8 packs of 12 = 96,
    # but the minimum is 100 -> 9 packs = 108.
    assert p.target_level[0] == 117
    assert p.suggested[0] == 108
    assert plan(minimum=np.array([0])).suggested[0] == 96


def test_open_purchase_orders_arrive_and_count_in_the_position():
    arrivals = np.zeros((1, 28))
    arrivals[0, 1] = 100  # 100 units at the end of day 2
    p = plan(arrivals=arrivals, on_order=np.array([100]))
    assert p.stockout_day[0] == 0 or p.stockout_day[0] > 4
    assert not p.at_risk[0]
    assert p.suggested[0] == 0  # position 130 is above the reorder point 47


def test_lead_time_variability_adds_safety_stock():
    calm = plan()
    shaky = plan(lead_time_std=np.array([2.0]))
    # sqrt(4 x 4 + 10^2 x 2^2) = sqrt(416) = 20.4 -> 1.645 x 20.4 = 33.6 -> 34.
    assert shaky.safety_stock[0] == 34 > calm.safety_stock[0]


def test_no_demand_no_risk_and_no_supplier_no_suggestion():
    p = plan(mean=np.zeros((1, 28)), sigma=np.array([0.0]))
    assert p.stockout_day[0] == 0 and not p.at_risk[0]
    assert np.isinf(p.days_of_cover[0])
    assert plan(can_order=np.array([False])).suggested[0] == 0


def test_already_out_of_stock():
    p = plan(on_hand=np.array([5]), allocated=np.array([5]))
    assert p.days_of_cover[0] == 0 and p.stockout_day[0] == 1 and p.at_risk[0]
