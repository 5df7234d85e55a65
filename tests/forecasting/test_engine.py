"""The forecasting models on series whose right answer is known."""

import numpy as np
import pytest

from inventory.forecasting import engine

DAYS = 400
H = 28


def run(y, **kwargs):
    kwargs.setdefault("horizon", H)
    kwargs.setdefault("season_length", 7)
    return engine.forecast(np.atleast_2d(np.asarray(y, dtype=float)), **kwargs)


def test_constant_series_forecasts_the_constant_with_no_spread():
    f = run(np.full(DAYS, 5.0))
    assert f.chosen[0] >= 0
    np.testing.assert_allclose(f.mean[0], 5.0, atol=1e-6)
    np.testing.assert_allclose(f.upper[0] - f.lower[0], 0.0, atol=1e-6)
    assert not f.intermittent[0]


def test_linear_trend_is_extrapolated():
    t = np.arange(DAYS)
    f = run(20 + 0.5 * t, models=("ses", "holt", "theta"))
    expected = 20 + 0.5 * (DAYS + np.arange(H))
    assert f.model_name(0) in ("holt", "theta")
    np.testing.assert_allclose(f.mean[0], expected, rtol=0.02)


def test_holt_alone_follows_an_exact_trend():
    t = np.arange(DAYS)
    f = run(20 + 0.5 * t, models=("holt",))
    np.testing.assert_allclose(f.mean[0], 20 + 0.5 * (DAYS + np.arange(H)), rtol=1e-3)


def test_weekly_season_is_repeated():
    pattern = np.array([10, 12, 14, 13, 20, 30, 8], dtype=float)
    y = np.tile(pattern, DAYS // 7)
    f = run(y)
    assert f.model_name(0) in engine.SEASONAL_MODELS
    start = y.size % 7  # the phase of the first forecast day
    expected = np.roll(pattern, -start)
    np.testing.assert_allclose(f.mean[0, :7], expected, atol=1e-3)
    np.testing.assert_allclose(f.mean[0, 7:14], expected, atol=1e-3)


def test_weekly_season_beats_seasonal_naive_with_noise():
    rng = np.random.default_rng(3)
    pattern = np.array([10, 12, 14, 13, 20, 30, 8], dtype=float)
    y = np.tile(pattern, DAYS // 7) + rng.normal(0, 2, DAYS // 7 * 7)
    f = run(y)
    ours = f.mase[0, f.chosen[0]]
    naive = f.mase[0, f.models.index("seasonal_naive")]
    assert ours <= naive


def test_intermittent_demand_gets_a_rate_per_day():
    y = np.zeros(DAYS)
    y[::4] = 4.0  # four units every fourth day: one a day on average
    f = run(y)
    assert f.intermittent[0]
    assert f.model_name(0) in ("ses", "croston", "sba", "tsb")
    np.testing.assert_allclose(f.mean[0], 1.0, rtol=0.1)
    assert (f.lower[0] >= 0).all()


def test_croston_and_sba_on_regular_intermittent_demand():
    y = np.zeros(DAYS)
    y[::4] = 4.0
    croston = run(y, models=("croston",))
    sba = run(y, models=("sba",))
    tsb = run(y, models=("tsb",))
    np.testing.assert_allclose(croston.mean[0], 1.0, rtol=0.02)
    # SBA removes Croston's bias by (1 - alpha / 2): a little lower.
    assert sba.mean[0, 0] < croston.mean[0, 0]
    np.testing.assert_allclose(tsb.mean[0], 1.0, rtol=0.1)


def test_a_stock_out_gap_is_not_read_as_zero_demand():
    y = np.full(DAYS, 6.0)
    y[200:260] = np.nan  # sold out for two months: demand unknown
    y[-10:] = np.nan  # and again at the end
    f = run(y)
    np.testing.assert_allclose(f.mean[0], 6.0, atol=1e-6)
    # The same gap read as zeros drags the forecast down.
    zeros = run(np.nan_to_num(y))
    assert zeros.mean[0].mean() < 5.0


def test_short_and_empty_series_side_by_side():
    y = np.full((3, DAYS), np.nan)
    y[0] = 3.0
    y[1, -20:] = 2.0  # only 20 days of history: no backtest, a default model
    f = run(y)
    np.testing.assert_allclose(f.mean[0], 3.0, atol=1e-6)
    np.testing.assert_allclose(f.mean[1], 2.0, atol=1e-6)
    assert f.chosen[2] == -1 and f.model_name(2) == "none"
    np.testing.assert_allclose(f.mean[2], 0.0)


def test_intervals_widen_with_the_horizon_and_hold_the_mean():
    rng = np.random.default_rng(5)
    y = 50 + np.cumsum(rng.normal(0, 1, DAYS))
    f = run(y, models=("ses",))
    width = f.upper[0] - f.lower[0]
    assert width[-1] > width[0] > 0
    assert (f.lower[0] <= f.mean[0]).all() and (f.mean[0] <= f.upper[0]).all()


def test_selection_keeps_the_combination_unless_another_model_is_clearly_better():
    rng = np.random.default_rng(9)
    t = np.arange(DAYS)
    y = np.stack([np.full(DAYS, 5.0) + rng.normal(0, 1, DAYS), 5 + 0.3 * t])
    f = run(y)
    assert not f.intermittent.any()
    scores = np.where(np.isnan(f.mase), np.inf, f.mase)
    best = scores.argmin(axis=1)
    combined = scores[:, f.models.index("combined")]
    clearly_better = scores.min(axis=1) < (1 - engine.SELECTION_MARGIN) * combined
    expected = np.where(clearly_better, best, f.models.index("combined"))
    np.testing.assert_array_equal(f.chosen, expected)


def test_the_combination_is_the_mean_of_its_parts():
    rng = np.random.default_rng(4)
    t = np.arange(DAYS)
    pattern = np.array([10, 12, 14, 13, 20, 30, 8], dtype=float)
    y = 50 + 0.05 * t + np.resize(pattern, DAYS) + rng.normal(0, 2, DAYS)
    models = (*engine.COMBINED_PARTS, "combined")
    f = run(y, models=models)
    parts = [run(y, models=(name,)).mean[0] for name in engine.COMBINED_PARTS]
    np.testing.assert_allclose(
        run(y, models=("combined",)).mean[0], np.mean(parts, axis=0), rtol=1e-9
    )
    assert f.model_name(0) in models


def test_damped_holt_starts_from_least_squares_states():
    # A level with no noise: the fitted start is the level itself, whatever the grid.
    f = run(np.full(DAYS, 7.0), models=("damped",))
    np.testing.assert_allclose(f.mean[0], 7.0, atol=1e-6)


def test_rejects_a_flat_array():
    with pytest.raises(ValueError):
        engine.forecast(np.ones(10), horizon=3)
