"""Demand forecasting models, vectorised across series with NumPy.

Every model here runs on a matrix ``y`` of shape (series, periods): all series end on the
same period (the newest day), a shorter series is padded with NaN on the left, and a day
that must not count as demand (the SKU was out of stock) is NaN too. The recursions step
through time once and update every series, and every parameter combination of a model's
grid, in the same NumPy operation; that is what makes 10,000 SKUs of two years of days a
matter of seconds.

Models (all with prediction intervals):

* ``seasonal_naive`` — the last observed value of the same phase of the season.
* ``ses`` — simple exponential smoothing, ETS(A,N,N).
* ``holt`` — trend exponential smoothing, damped or not, ETS(A,Ad,N) / ETS(A,A,N).
* ``seasonal_es`` — level + additive season, ETS(A,N,A).
* ``holt_winters`` — trend (damped or not) + additive season, ETS(A,Ad,A) / ETS(A,A,A).
* ``yearly_es`` — ETS(A,N,A) with the weekly season on data divided by a yearly profile
  (daily data only): the ratio of demand around the same day 52 weeks earlier (29-day
  average) to that year's average, so last year's summer or December peak comes back.
* ``theta`` — the Theta method (SES with half the linear trend's drift) on seasonally
  adjusted data; SES alpha from a grid and its initial level exact (least squares).
* ``damped`` — damped trend, ETS(A,Ad,N), on seasonally adjusted data, with the initial
  level and trend exact (least squares).
* ``combined`` — the mean of ``theta``, ``damped`` and ``holt_winters``.
* ``croston``, ``sba``, ``tsb`` — for intermittent demand: Croston, its Syntetos-Boylan
  bias correction, and Teunter-Syntetos-Babai (demand probability updated every period).

Each model's parameters are chosen from a small grid by the one-step squared error on the
data *before* the backtest (so the backtest is an honest out-of-sample test). Each series
then keeps ``combined`` unless another model's MASE over a rolling-origin backtest
(several forecast origins, each forecasting the full horizon) is less than half of the
combination's: selection on a short backtest mostly follows noise, and a combination of
robust methods beats it on M3 (0.852 MASE against 0.888 for pure selection).
Intermittent series (average inter-demand interval >= 1.32 periods, after Syntetos &
Boylan) choose among SES and the Croston family, whose forecasts are mean demand rates,
and are scored by RMSSE (MASE would reward forecasting zero, the median of intermittent
demand, which is useless for stock).

Intervals are normal with the one-step residual standard deviation, widened per step by
each ETS model's analytic variance multiplier, and cut at zero (demand is never negative).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np

SMOOTH_MODELS = (
    "seasonal_naive",
    "ses",
    "holt",
    "seasonal_es",
    "holt_winters",
    "theta",
    "yearly_es",
    "damped",
    "combined",
)
# The combination: the mean of the Theta method, damped Holt (both on seasonally adjusted
# data) and Holt-Winters. Combinations of robust methods beat per-series selection on
# short series (M3); the selection overrides the combination only when another model's
# backtest error is less than (1 - SELECTION_MARGIN) times the combination's.
COMBINED_PARTS = ("theta", "damped", "holt_winters")
INTERMITTENT_MODELS = ("ses", "croston", "sba", "tsb")
MODELS = SMOOTH_MODELS + ("croston", "sba", "tsb")
SEASONAL_MODELS = frozenset({"seasonal_naive", "seasonal_es", "holt_winters", "yearly_es"})
# Daily data: a year is 52 weeks back (same weekday); the yearly profile needs a year and
# a half of history before it is used.
YEAR = 364
YEARLY_WINDOW = 29
SELECTION_MARGIN = 0.5
# Syntetos & Boylan's cut-off for "intermittent": on average a demand every 1.32 periods
# or less often.
INTERMITTENT_ADI = 1.32


def _grid(**axes) -> dict[str, np.ndarray]:
    """Every combination of the given parameter values, as parallel arrays."""
    mesh = np.meshgrid(*axes.values(), indexing="ij")
    return {name: values.ravel().astype(float) for name, values in zip(axes, mesh, strict=True)}


ETS_GRIDS = {
    "ses": _grid(
        alpha=[0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.8], beta=[0.0], gamma=[0.0], phi=[1.0]
    ),
    "holt": _grid(alpha=[0.05, 0.15, 0.3, 0.6], beta=[0.02, 0.1], gamma=[0.0], phi=[0.9, 1.0]),
    "seasonal_es": _grid(
        alpha=[0.02, 0.05, 0.1, 0.2, 0.4], beta=[0.0], gamma=[0.01, 0.05, 0.15], phi=[1.0]
    ),
    "holt_winters": _grid(
        alpha=[0.05, 0.15, 0.4], beta=[0.01, 0.05], gamma=[0.02, 0.1], phi=[0.95, 1.0]
    ),
}
# The Theta method's SES: alpha from this grid (0.1-0.99, the usual bounds), the initial
# level exact; a grid twice as fine changes M3 by less than 0.001 MASE.
SES_ALPHAS = np.array([0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.99])
# Damped Holt in the combination: beta as a share of alpha (beta <= alpha).
# A coarse grid does as well as a fine one here (M3: 0.873 alone with these 24 points,
# 0.878 with 96), since the start states are fitted exactly.
DAMPED_GRID = _grid(alpha=[0.05, 0.15, 0.3, 0.6], share=[0.05, 0.3], phi=[0.8, 0.9, 0.98])
DAMPED_GRID["beta"] = DAMPED_GRID["alpha"] * DAMPED_GRID.pop("share")
CROSTON_ALPHAS = np.array([0.05, 0.1, 0.2, 0.3])
TSB_GRID = _grid(alpha=[0.05, 0.1, 0.2, 0.3], beta=[0.02, 0.05, 0.1, 0.2])


@dataclass
class Forecasts:
    """What ``forecast`` returns; one row per input series."""

    models: tuple[str, ...]
    chosen: np.ndarray  # (n,) index into ``models``; -1 where a series has no data
    mean: np.ndarray  # (n, horizon)
    lower: np.ndarray  # (n, horizon)
    upper: np.ndarray  # (n, horizon)
    sigma: np.ndarray  # (n,) one-step residual standard deviation of the chosen model
    mase: np.ndarray  # (n, len(models)) backtest MASE; NaN where a model was not a candidate
    rmsse: np.ndarray  # (n, len(models))
    coverage: np.ndarray  # (n,) share of backtest actuals inside the chosen model's interval
    intermittent: np.ndarray  # (n,) bool
    level: float
    params: list[dict] = field(default_factory=list)

    def model_name(self, row: int) -> str:
        return self.models[self.chosen[row]] if self.chosen[row] >= 0 else "none"


@dataclass
class _Fit:
    """One model fitted to every series: forecasts from each origin and from the end."""

    backtest: np.ndarray  # (n, origins, bt_horizon)
    backtest_sd: np.ndarray  # (n, origins, bt_horizon) forecast standard deviation
    mean: np.ndarray  # (n, horizon)
    sd: np.ndarray  # (n, horizon)
    sigma: np.ndarray  # (n,)
    params: list[dict]
    alpha_before: np.ndarray | None = None  # (n,) SES alpha of the backtest (Theta's drift)


# --- helpers ------------------------------------------------------------------------------


def _first_observed(y: np.ndarray) -> np.ndarray:
    observed = ~np.isnan(y)
    first = observed.argmax(axis=1)
    first[~observed.any(axis=1)] = y.shape[1]
    return first


def _window(y: np.ndarray, start: np.ndarray, width: int) -> np.ndarray:
    """y[i, start[i] : start[i] + width] for every row (NaN past the end)."""
    n, periods = y.shape
    index = start[:, None] + np.arange(width)[None, :]
    values = y[np.arange(n)[:, None], np.minimum(index, periods - 1)]
    values[index >= periods] = np.nan
    return values


def _nanmean(values: np.ndarray, axis: int, default: float = 0.0) -> np.ndarray:
    count = (~np.isnan(values)).sum(axis=axis)
    total = np.nansum(values, axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), default)


def _seasonal_index(y: np.ndarray, start: np.ndarray, m: int):
    """Initial level, trend and additive season per series from its first two seasons."""
    n = y.shape[0]
    width = 2 * m if m > 1 else 4
    window = _window(y, start, width)
    level = _nanmean(window, axis=1)
    if m > 1:
        first, second = _nanmean(window[:, :m], 1, np.nan), _nanmean(window[:, m:], 1, np.nan)
        trend = np.where(np.isnan(first) | np.isnan(second), 0.0, (second - first) / m)
    else:
        trend = np.where(
            np.isnan(window[:, 1]) | np.isnan(window[:, 0]), 0.0, window[:, 1] - window[:, 0]
        )
        trend = np.nan_to_num(trend)
    season_sum = np.zeros((n, max(m, 1)))
    season_count = np.zeros((n, max(m, 1)))
    rows = np.arange(n)
    if m > 1:
        for j in range(width):
            phase = (start + j) % m
            value = window[:, j] - (level + trend * (j - (width - 1) / 2))
            seen = ~np.isnan(value)
            season_sum[rows, phase] += np.where(seen, value, 0.0)
            season_count[rows, phase] += seen
    season = np.where(season_count > 0, season_sum / np.maximum(season_count, 1), 0.0)
    season -= season.mean(axis=1, keepdims=True)
    # The level at the first observation, not the middle of the window.
    level = level - trend * (width - 1) / 2
    return level, trend, season


def _before(y: np.ndarray, end: np.ndarray) -> np.ndarray:
    """y with every value at or after ``end[i]`` in row i set to NaN."""
    return np.where(np.arange(y.shape[1])[None, :] < end[:, None], y, np.nan)


def _z(level: float) -> float:
    return NormalDist().inv_cdf(0.5 + level / 2)


def _pick(values: np.ndarray, best: np.ndarray) -> np.ndarray:
    """values[i, best[i], ...] for every row i."""
    return values[np.arange(values.shape[0]), best]


# --- models -------------------------------------------------------------------------------


def _ets(y, start, m, grid, fit_end, origins, bt_h, horizon) -> _Fit:
    """Additive exponential smoothing (level, damped trend, season) over a parameter grid."""
    n, periods = y.shape
    alpha, beta, gamma = grid["alpha"], grid["beta"], grid["gamma"]
    trended = beta.max() > 0
    seasonal = gamma.max() > 0 and m > 1
    phi = grid["phi"]
    combos = alpha.size
    init_level, init_trend, init_season = _seasonal_index(y, start, m if seasonal else 1)
    level = np.repeat(init_level[:, None], combos, axis=1)
    trend = np.repeat(init_trend[:, None], combos, axis=1) if trended else np.zeros_like(level)
    period = m if seasonal else 1
    season = np.repeat(init_season[:, None, :period], combos, axis=1)
    if not seasonal:
        season[:] = 0.0
    fit_sse = np.zeros((n, combos))
    all_sse = np.zeros((n, combos))
    all_count = np.zeros((n, 1))
    saved = {}
    checkpoints = set(origins) | {periods}
    warm = start + 2 * period
    # Masks are only needed while some series has not started, has not finished its
    # fitting window or its warm-up; after that every series is treated alike.
    last_start, first_fit_end, last_fit_end = start.max(), fit_end.min(), fit_end.max()
    last_warm = warm.max()
    if not trended:
        trend = 0.0
    for t in range(periods + 1):
        if t in checkpoints:
            saved[t] = (
                level.copy(),
                trend.copy() if trended else np.zeros_like(level),
                season.copy(),
            )
        if t == periods:
            break
        phase = t % period
        seasonal_part = season[:, :, phase]
        forecast = level + phi * trend + seasonal_part if trended else level + seasonal_part
        value = y[:, t : t + 1]
        seen = ~np.isnan(value)
        error = np.where(seen, value - forecast, 0.0)
        starting = t < last_start
        if starting:
            active = (t >= start)[:, None]
            error = np.where(active, error, 0.0)
        squared = error * error
        if t < first_fit_end:
            fit_sse += squared
        elif t < last_fit_end:
            fit_sse += np.where((t < fit_end)[:, None], squared, 0.0)
        if t < last_warm:
            counted = (t >= warm)[:, None] & seen
            all_sse += np.where(counted, squared, 0.0)
            all_count += counted
        else:
            all_sse += squared  # zero where nothing was seen
            all_count += seen
        if trended:
            new_level = level + phi * trend + alpha * error
            new_trend = phi * trend + beta * error
            if starting:
                level = np.where(active, new_level, level)
                trend = np.where(active, new_trend, trend)
            else:
                level, trend = new_level, new_trend
        else:
            level = level + alpha * error  # error is zero before a series starts
        if seasonal:
            season[:, :, phase] = seasonal_part + gamma * error
    # Backtest forecasts use the parameters fitted before the backtest; the forecast from
    # the end uses the parameters fitted on all the data.
    best_before = fit_sse.argmin(axis=1)
    best = all_sse.argmin(axis=1)
    sigma = np.sqrt(_pick(all_sse, best) / np.maximum(all_count[:, 0], 1))
    a, b, g, p = alpha[best], beta[best], gamma[best], phi[best]

    def project(t, steps):
        chosen = best if t == periods else best_before
        lv, tr, se = (_pick(s, chosen) for s in saved[t])
        p = phi[chosen]
        k = np.arange(1, steps + 1)
        damp = np.cumsum(p[:, None] ** k[None, :], axis=1)  # phi + phi^2 + ... + phi^k
        phases = (t + k - 1) % period
        return lv[:, None] + damp * tr[:, None] + se[:, phases]

    def spread(steps):
        k = np.arange(1, steps)
        damp = np.cumsum(p[:, None] ** k[None, :], axis=1) if steps > 1 else np.zeros((n, 0))
        c = a[:, None] + b[:, None] * damp
        if seasonal:
            c = c + g[:, None] * ((k % period) == 0)[None, :]
        variance = 1 + np.concatenate([np.zeros((n, 1)), np.cumsum(c * c, axis=1)], axis=1)
        return sigma[:, None] * np.sqrt(variance)

    backtest = np.stack([project(o, bt_h) for o in origins], axis=1)
    bt_sd = np.repeat(spread(bt_h)[:, None, :], len(origins), axis=1)
    params = [
        {"alpha": float(a[i]), "beta": float(b[i]), "gamma": float(g[i]), "phi": float(p[i])}
        for i in range(n)
    ]
    return _Fit(backtest, bt_sd, project(periods, horizon), spread(horizon), sigma, params)


def _sums_until(sums_at: dict, end: np.ndarray) -> dict:
    """Per row i, the running sums as they were at ``end[i]`` (a checkpoint)."""
    keys = next(iter(sums_at.values())).keys()
    out = {key: np.empty_like(sums_at[int(end[0])][key]) for key in keys}
    for t in np.unique(end):
        rows = end == t
        for key in keys:
            out[key][rows] = sums_at[int(t)][key][rows]
    return out


def _ses_optimal(y, start, fit_end, origins, bt_h, horizon) -> _Fit:
    """SES with alpha and the initial level fitted by least squares, as the Theta method
    wants: alpha from a fine grid and, for each alpha, the best initial level in closed
    form (every level is linear in it: l_t = free_t + decay_t * l_0)."""
    n, periods = y.shape
    alpha = SES_ALPHAS
    combos = alpha.size
    free = np.zeros((n, combos))  # the level with l_0 = 0
    decay = np.ones((n, combos))  # the weight l_0 still has: (1 - alpha)^observations
    sums = {key: np.zeros((n, combos)) for key in ("aa", "ac", "cc")}
    sums_at = {}  # the sums at each checkpoint: fitting ends at one of them
    count = np.zeros(n)
    saved = {}
    checkpoints = set(origins) | {periods}
    for t in range(periods + 1):
        if t in checkpoints:
            saved[t] = (free.copy(), decay.copy())
            sums_at[t] = {key: value.copy() for key, value in sums.items()}
        if t == periods:
            break
        value = y[:, t : t + 1]
        seen = ~np.isnan(value) & (t >= start)[:, None]
        # error = residual - decay * l_0
        residual = np.where(seen, np.nan_to_num(value) - free, 0.0)
        weight = np.where(seen, decay, 0.0)
        sums["aa"] += residual * residual
        sums["ac"] += residual * weight
        sums["cc"] += weight * weight
        count += seen[:, 0]
        free = free + alpha * residual
        decay = np.where(seen, decay * (1 - alpha), decay)

    def solve(aa, ac, cc):
        with np.errstate(invalid="ignore", divide="ignore"):
            level0 = np.where(cc > 1e-12, ac / cc, 0.0)
        return level0, aa - 2 * level0 * ac + level0 * level0 * cc

    before = _sums_until(sums_at, fit_end)
    level0_before, sse_before = solve(before["aa"], before["ac"], before["cc"])
    level0_all, sse_all = solve(sums["aa"], sums["ac"], sums["cc"])
    best_before, best = sse_before.argmin(axis=1), sse_all.argmin(axis=1)
    sigma = np.sqrt(np.maximum(_pick(sse_all, best), 0.0) / np.maximum(count, 1))
    a = alpha[best]

    def level_at(t, chosen, level0):
        free_t, decay_t = saved[t]
        return _pick(free_t, chosen) + _pick(decay_t, chosen) * _pick(level0, chosen)

    def spread(steps):
        k = np.arange(steps)
        return sigma[:, None] * np.sqrt(1 + k[None, :] * (a * a)[:, None])

    backtest = np.stack(
        [
            np.repeat(level_at(o, best_before, level0_before)[:, None], bt_h, axis=1)
            for o in origins
        ],
        axis=1,
    ).reshape(n, len(origins), bt_h)
    bt_sd = np.repeat(spread(bt_h)[:, None, :], len(origins), axis=1)
    mean = np.repeat(level_at(periods, best, level0_all)[:, None], horizon, axis=1)
    params = [{"alpha": float(alpha[b])} for b in best]
    return _Fit(
        backtest, bt_sd, mean, spread(horizon), sigma, params, alpha_before=alpha[best_before]
    )


def _damped_optimal(y, start, fit_end, origins, bt_h, horizon) -> _Fit:
    """Damped Holt, ETS(A,Ad,N), with the initial level and trend fitted by least squares
    for every (alpha, beta, phi) of the grid: every state is linear in them, so the
    recursion carries the coefficients and the best start is a 2 x 2 solve at the end."""
    n, periods = y.shape
    alpha, beta, phi = DAMPED_GRID["alpha"], DAMPED_GRID["beta"], DAMPED_GRID["phi"]
    shape = (n, alpha.size)
    # The states from l_0 = b_0 = 0, and their derivatives by l_0 and by b_0.
    level, trend = np.zeros(shape), np.zeros(shape)
    level_l, level_b = np.ones(shape), np.zeros(shape)
    trend_l, trend_b = np.zeros(shape), np.ones(shape)
    keys = ("rr", "ru", "rv", "uu", "uv", "vv")
    sums_all = {key: np.zeros(shape) for key in keys}
    sums_at = {}  # the sums at each checkpoint: fitting ends at one of them
    count = np.zeros(n)
    saved = {}
    checkpoints = set(origins) | {periods}
    last_start = start.max()
    for t in range(periods + 1):
        if t in checkpoints:
            saved[t] = [a.copy() for a in (level, trend, level_l, level_b, trend_l, trend_b)]
            sums_at[t] = {key: value.copy() for key, value in sums_all.items()}
        if t == periods:
            break
        value = y[:, t : t + 1]
        seen = ~np.isnan(value) & (t >= start)[:, None]
        # The one-step error is r - u * l_0 - v * b_0.
        u = level_l + phi * trend_l
        v = level_b + phi * trend_b
        r = np.where(seen, np.nan_to_num(value) - level - phi * trend, 0.0)
        u_seen, v_seen = u * seen, v * seen
        products = (r * r, r * u_seen, r * v_seen, u_seen * u_seen, u_seen * v_seen, v_seen**2)
        for key, product in zip(keys, products, strict=True):
            sums_all[key] += product
        count += seen[:, 0]
        gain_a, gain_b = alpha * seen, beta * seen  # no update where nothing was seen
        new = (
            level + phi * trend + alpha * r,
            phi * trend + beta * r,
            u - gain_a * u,
            v - gain_a * v,
            phi * trend_l - gain_b * u,
            phi * trend_b - gain_b * v,
        )
        if t < last_start:  # a series that has not started keeps its initial states
            waiting = (t < start)[:, None]
            old = (level, trend, level_l, level_b, trend_l, trend_b)
            new = tuple(np.where(waiting, o, s) for o, s in zip(old, new, strict=True))
        level, trend, level_l, level_b, trend_l, trend_b = new

    def solve(sums):
        # Least squares for (l_0, b_0), a little ridge so a flat series stays solvable.
        uu, uv, vv = sums["uu"] + 1e-9, sums["uv"], sums["vv"] + 1e-9
        det = uu * vv - uv * uv
        l0 = (vv * sums["ru"] - uv * sums["rv"]) / det
        b0 = (uu * sums["rv"] - uv * sums["ru"]) / det
        sse = (
            sums["rr"]
            - 2 * l0 * sums["ru"]
            - 2 * b0 * sums["rv"]
            + l0 * l0 * uu
            + 2 * l0 * b0 * uv
            + b0 * b0 * vv
        )
        return l0, b0, sse

    start_before, start_all = solve(_sums_until(sums_at, fit_end)), solve(sums_all)
    best_before, best = start_before[2].argmin(axis=1), start_all[2].argmin(axis=1)
    sigma = np.sqrt(np.maximum(_pick(start_all[2], best), 0.0) / np.maximum(count, 1))
    a, b, p = alpha[best], beta[best], phi[best]

    def project(t, steps, chosen, initial):
        lv, tr, lv_l, lv_b, tr_l, tr_b = (_pick(s, chosen) for s in saved[t])
        l0, b0 = _pick(initial[0], chosen), _pick(initial[1], chosen)
        lv = lv + lv_l * l0 + lv_b * b0
        tr = tr + tr_l * l0 + tr_b * b0
        k = np.arange(1, steps + 1)
        damp = np.cumsum(phi[chosen][:, None] ** k[None, :], axis=1)
        return lv[:, None] + damp * tr[:, None]

    def spread(steps):
        k = np.arange(1, steps)
        damp = np.cumsum(p[:, None] ** k[None, :], axis=1) if steps > 1 else np.zeros((n, 0))
        c = a[:, None] + b[:, None] * damp
        variance = 1 + np.concatenate([np.zeros((n, 1)), np.cumsum(c * c, axis=1)], axis=1)
        return sigma[:, None] * np.sqrt(variance)

    backtest = np.stack([project(o, bt_h, best_before, start_before) for o in origins], axis=1)
    backtest = backtest.reshape(n, len(origins), bt_h)
    bt_sd = np.repeat(spread(bt_h)[:, None, :], len(origins), axis=1)
    params = [{"alpha": float(a[i]), "beta": float(b[i]), "phi": float(p[i])} for i in range(n)]
    mean = project(periods, horizon, best, start_all)
    return _Fit(backtest, bt_sd, mean, spread(horizon), sigma, params)


def _seasonal_naive(y, start, m, fit_end, origins, bt_h, horizon) -> _Fit:
    n, periods = y.shape
    period = max(m, 1)
    fallback = _nanmean(y, axis=1)
    last = np.full((n, period), np.nan)
    saved = {}
    sse = np.zeros(n)
    count = np.zeros(n)
    checkpoints = set(origins) | {periods}
    for t in range(periods + 1):
        if t in checkpoints:
            saved[t] = np.where(np.isnan(last), fallback[:, None], last)
        if t == periods:
            break
        phase = t % period
        value = y[:, t]
        seen = ~np.isnan(value)
        previous = last[:, phase]
        known = seen & ~np.isnan(previous)
        error = np.where(known, value - np.nan_to_num(previous), 0.0)
        sse += error * error
        count += known
        last[:, phase] = np.where(seen, value, previous)
    sigma = np.sqrt(sse / np.maximum(count, 1))

    def project(t, steps):
        k = np.arange(1, steps + 1)
        return saved[t][:, (t + k - 1) % period]

    def spread(steps):
        k = np.arange(1, steps + 1)
        return sigma[:, None] * np.sqrt(((k - 1) // period + 1)[None, :])

    backtest = np.stack([project(o, bt_h) for o in origins], axis=1)
    bt_sd = np.repeat(spread(bt_h)[:, None, :], len(origins), axis=1)
    return _Fit(backtest, bt_sd, project(periods, horizon), spread(horizon), sigma, [{}] * n)


def _seasonal_factors(y: np.ndarray, m: int, upto: int) -> np.ndarray:
    """Multiplicative seasonal index per series (classical decomposition on y[:, :upto]),
    or ones where there is no season, a value <= 0, or the season fails the usual test
    (autocorrelation at lag m outside the 90 % band)."""
    n, periods = y.shape
    index = np.ones((n, max(m, 1)))
    if m <= 1 or periods < 3 * m:
        return index
    data = _before(y, upto)
    positive = np.nanmin(np.where(np.isnan(data), np.inf, data), axis=1) > 0
    phases = np.arange(periods) % m
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = data / _centred_average(data, m)
    for phase in range(m):
        index[:, phase] = _nanmean(ratio[:, phases == phase], 1, 1.0)
    index = np.where(index > 0, index, 1.0)
    index /= index.mean(axis=1, keepdims=True)
    index[~(positive & _seasonal_test(data, m))] = 1.0
    return index


def _seasonal_test(y: np.ndarray, m: int) -> np.ndarray:
    centred = y - _nanmean(y, 1)[:, None]
    centred = np.nan_to_num(centred)
    count = (~np.isnan(y)).sum(axis=1)
    denominator = np.maximum((centred * centred).sum(axis=1), 1e-12)
    acf = np.stack(
        [(centred[:, k:] * centred[:, :-k]).sum(axis=1) / denominator for k in range(1, m + 1)],
        axis=1,
    )
    band = 1.645 * np.sqrt((1 + 2 * (acf[:, : m - 1] ** 2).sum(axis=1)) / np.maximum(count, 1))
    return np.abs(acf[:, m - 1]) > band


def _on_adjusted(fit_one, y, m, fit_end, origins, bt_h, horizon) -> _Fit:
    """Run ``fit_one(adjusted_y)`` on seasonally adjusted data and put the season back:
    the backtest with the index from the data before it, the forecast with all data's."""
    n, periods = y.shape
    period = max(m, 1)
    phases = np.arange(periods) % period
    index_before = _seasonal_factors(y, m, fit_end)
    index_all = _seasonal_factors(y, m, np.full(n, periods))
    if np.all(index_before == 1.0) and np.all(index_all == 1.0):
        return fit_one(y, both=True)
    before = fit_one(y / index_before[:, phases], both=False)
    after = fit_one(y / index_all[:, phases], both=True)

    def reseason(index, t, values):
        k = np.arange(1, values.shape[-1] + 1)
        return values * index[:, (t + k - 1) % period]

    backtest = np.stack(
        [reseason(index_before, o, before.backtest[:, i]) for i, o in enumerate(origins)], axis=1
    )
    bt_sd = np.stack(
        [reseason(index_before, o, before.backtest_sd[:, i]) for i, o in enumerate(origins)],
        axis=1,
    )
    mean = reseason(index_all, periods, after.mean)
    sd = reseason(index_all, periods, after.sd)
    return _Fit(backtest, bt_sd, mean, sd, after.sigma, after.params)


def _theta(y, start, m, fit_end, origins, bt_h, horizon) -> _Fit:
    """Theta(2): SES forecasts plus half the slope of a linear trend (on seasonally
    adjusted data where there is a multiplicative season)."""

    def fit_one(adjusted, both):
        ses = _ses_optimal(adjusted, start, fit_end, origins, bt_h, horizon)

        def drift(t, steps, alpha):
            # Half the least-squares slope of the adjusted series up to t.
            x = np.arange(t, dtype=float)
            values = adjusted[:, :t]
            seen = ~np.isnan(values)
            count = seen.sum(axis=1)
            xm = np.where(seen, x, 0).sum(axis=1) / np.maximum(count, 1)
            ym = np.nansum(values, axis=1) / np.maximum(count, 1)
            dx = np.where(seen, x[None, :] - xm[:, None], 0.0)
            slope = (dx * np.nan_to_num(values - ym[:, None])).sum(axis=1) / np.maximum(
                (dx * dx).sum(axis=1), 1e-12
            )
            slope = np.where(count > 2, slope, 0.0)
            observed = np.maximum(count, 1)
            k = np.arange(1, steps + 1)
            return (
                0.5
                * slope[:, None]
                * (k[None, :] - 1 + 1 / alpha[:, None] - ((1 - alpha) ** observed / alpha)[:, None])
            )

        backtest = np.stack(
            [ses.backtest[:, i] + drift(o, bt_h, ses.alpha_before) for i, o in enumerate(origins)],
            axis=1,
        )
        alpha = np.array([p["alpha"] for p in ses.params])
        mean = ses.mean + drift(y.shape[1], horizon, alpha) if both else ses.mean
        return _Fit(backtest, ses.backtest_sd, mean, ses.sd, ses.sigma, ses.params)

    return _on_adjusted(fit_one, y, m, fit_end, origins, bt_h, horizon)


def _moving_average(y: np.ndarray, width: int) -> np.ndarray:
    """Centred moving average over ``width`` (odd) periods, ignoring NaN; NaN where the
    window runs past either end or holds no value."""
    n, periods = y.shape
    seen = ~np.isnan(y)
    total = np.concatenate([np.zeros((n, 1)), np.cumsum(np.where(seen, y, 0.0), axis=1)], 1)
    count = np.concatenate([np.zeros((n, 1)), np.cumsum(seen, axis=1)], axis=1)
    half = width // 2
    out = np.full((n, periods), np.nan)
    if periods < width:
        return out
    sums = total[:, width:] - total[:, :-width]
    counts = count[:, width:] - count[:, :-width]
    with np.errstate(invalid="ignore", divide="ignore"):
        out[:, half : periods - half] = np.where(counts > width // 2, sums / counts, np.nan)
    return out


def _yearly_profile(y: np.ndarray, extra: int) -> np.ndarray:
    """Multiplicative yearly factor for every period of y and ``extra`` periods after it,
    from the data 52 weeks earlier only (so the backtest sees no future)."""
    n, periods = y.shape
    local = _moving_average(y, YEARLY_WINDOW)
    annual = _moving_average(y, YEAR + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(annual > 0, local / annual, np.nan)
    ratio = np.clip(ratio, 0.2, 5.0)
    factor = np.ones((n, periods + extra))
    lagged = np.arange(periods + extra) - YEAR
    valid = (lagged >= 0) & (lagged < periods)
    values = np.ones((n, periods + extra))
    values[:, valid] = ratio[:, lagged[valid]]
    factor = np.where(np.isnan(values), 1.0, values)
    return factor


def _yearly(y, start, m, fit_end, origins, bt_h, horizon) -> _Fit:
    periods = y.shape[1]
    factor = _yearly_profile(y, horizon)
    fit = _ets(
        y / factor[:, :periods], start, m, ETS_GRIDS["seasonal_es"], fit_end, origins, bt_h, horizon
    )
    backtest = np.stack(
        [fit.backtest[:, i] * factor[:, o : o + bt_h] for i, o in enumerate(origins)], axis=1
    )
    bt_sd = np.stack(
        [fit.backtest_sd[:, i] * factor[:, o : o + bt_h] for i, o in enumerate(origins)], axis=1
    )
    future = factor[:, periods : periods + horizon]
    return _Fit(backtest, bt_sd, fit.mean * future, fit.sd * future, fit.sigma, fit.params)


def _centred_average(y: np.ndarray, period: int) -> np.ndarray:
    """A centred moving average over one season (2 x m for even m), NaN at the edges."""
    filled = np.nan_to_num(y)
    seen = (~np.isnan(y)).astype(float)
    if period % 2 == 0:
        weights = np.r_[0.5, np.ones(period - 1), 0.5] / period
    else:
        weights = np.ones(period) / period
    width = weights.size
    out = np.full(y.shape, np.nan)
    if y.shape[1] < width:
        return out
    total = sum(weights[j] * filled[:, j : y.shape[1] - width + 1 + j] for j in range(width))
    complete = sum(seen[:, j : y.shape[1] - width + 1 + j] for j in range(width)) == width
    half = width // 2
    out[:, half : half + total.shape[1]] = np.where(complete, total, np.nan)
    return out


def _croston(y, start, fit_end, origins, bt_h, horizon, *, variant: str) -> _Fit:
    """Croston (``croston``), Syntetos-Boylan (``sba``) or TSB (``tsb``) over a grid."""
    n, periods = y.shape
    if variant == "tsb":
        alpha, beta = TSB_GRID["alpha"], TSB_GRID["beta"]
    else:
        alpha, beta = CROSTON_ALPHAS, np.zeros_like(CROSTON_ALPHAS)
    combos = alpha.size
    history = _before(y, fit_end)
    observed = (~np.isnan(history)).sum(axis=1)
    demands = (np.nan_to_num(history) > 0).sum(axis=1)
    nonzero_mean = np.nansum(np.where(history > 0, history, 0.0), axis=1) / np.maximum(demands, 1)
    size = np.repeat(nonzero_mean[:, None], combos, axis=1)
    interval = np.repeat((observed / np.maximum(demands, 1))[:, None], combos, axis=1)
    probability = np.repeat((demands / np.maximum(observed, 1))[:, None], combos, axis=1)
    since = np.ones((n, combos))
    factor = (1 - alpha / 2) if variant == "sba" else np.ones(combos)

    def rate():
        if variant == "tsb":
            return probability * size
        return factor * size / np.maximum(interval, 1e-9)

    fit_sse = np.zeros((n, combos))
    all_sse = np.zeros((n, combos))
    all_count = np.zeros((n, 1))
    saved = {}
    checkpoints = set(origins) | {periods}
    for t in range(periods + 1):
        if t in checkpoints:
            saved[t] = rate()
        if t == periods:
            break
        value = y[:, t : t + 1]
        seen = ~np.isnan(value) & (t >= start)[:, None]
        error = np.where(seen, np.nan_to_num(value) - rate(), 0.0)
        fit_sse += np.where((t < fit_end)[:, None], error * error, 0.0)
        all_sse += error * error
        all_count += seen
        demand = seen & (np.nan_to_num(value) > 0)
        size = np.where(demand, size + alpha * (np.nan_to_num(value) - size), size)
        if variant == "tsb":
            probability = np.where(seen, probability + beta * (demand - probability), probability)
        else:
            interval = np.where(demand, interval + alpha * (since - interval), interval)
            since = np.where(demand, 1.0, np.where(seen, since + 1, since))
    best_before = fit_sse.argmin(axis=1)
    best = all_sse.argmin(axis=1)
    sigma = np.sqrt(_pick(all_sse, best) / np.maximum(all_count[:, 0], 1))
    backtest = np.stack(
        [np.repeat(_pick(saved[o], best_before)[:, None], bt_h, axis=1) for o in origins], axis=1
    )
    mean = np.repeat(_pick(saved[periods], best)[:, None], horizon, axis=1)
    sd = np.repeat(sigma[:, None], horizon, axis=1)
    bt_sd = np.repeat(sigma[:, None, None], len(origins), axis=1).repeat(bt_h, axis=2)
    params = [{"alpha": float(alpha[b]), "beta": float(beta[b])} for b in best]
    return _Fit(backtest, bt_sd, mean, sd, sigma, params)


def _fit(name, y, start, m, fit_end, origins, bt_h, horizon) -> _Fit:
    """One model fitted to every row of ``y``."""
    if name == "seasonal_naive":
        return _seasonal_naive(y, start, m, fit_end, origins, bt_h, horizon)
    if name == "theta":
        return _theta(y, start, m, fit_end, origins, bt_h, horizon)
    if name in ("ses", "holt", "damped"):
        # Non-seasonal models see seasonally adjusted data (multiplicative, when the season
        # passes the test) and get the season back on their forecasts.
        def fit_one(data, both):
            if name == "damped":
                return _damped_optimal(data, start, fit_end, origins, bt_h, horizon)
            return _ets(data, start, 1, ETS_GRIDS[name], fit_end, origins, bt_h, horizon)

        return _on_adjusted(
            fit_one,
            y,
            m,
            fit_end,
            origins,
            bt_h,
            horizon,
        )
    if name == "yearly_es":
        return _yearly(y, start, m, fit_end, origins, bt_h, horizon)
    if name in ETS_GRIDS:
        return _ets(y, start, m, ETS_GRIDS[name], fit_end, origins, bt_h, horizon)
    return _croston(y, start, fit_end, origins, bt_h, horizon, variant=name)


def _mean_of(names: tuple[str, ...], parts: list[_Fit]) -> _Fit:
    """The equal-weight combination of several models' forecasts. Its spread is the mean
    of theirs (a little wide: their errors are not perfectly correlated)."""

    def mean(attribute):
        return sum(getattr(p, attribute) for p in parts) / len(parts)

    params = [
        {name: part.params[i] for name, part in zip(names, parts, strict=True)}
        for i in range(len(parts[0].params))
    ]
    return _Fit(
        mean("backtest"), mean("backtest_sd"), mean("mean"), mean("sd"), mean("sigma"), params
    )


# --- selection ----------------------------------------------------------------------------


def backtest_origins(periods: int, horizon: int, n_origins: int, step: int) -> list[int]:
    """Forecast origins (index of the first forecast period), oldest first; the newest
    window ends with the data."""
    newest = periods - horizon
    return [newest - step * k for k in range(n_origins - 1, -1, -1) if newest - step * k > 0]


def forecast(
    y,
    *,
    horizon: int,
    season_length: int = 7,
    n_origins: int = 3,
    origin_step: int | None = None,
    backtest_horizon: int | None = None,
    level: float = 0.9,
    models: tuple[str, ...] = MODELS,
) -> Forecasts:
    """Fit every candidate model to every row of ``y`` (NaN = missing) and keep, per row,
    the one with the lowest rolling-origin MASE. See the module docstring."""
    y = np.asarray(y, dtype=float)
    if y.ndim != 2:
        raise ValueError("y must be a 2-D array (series x periods)")
    n, periods = y.shape
    m = season_length
    bt_h = backtest_horizon or horizon
    step = origin_step or max(1, bt_h // 2)
    origins = backtest_origins(periods, bt_h, n_origins, step)
    start = _first_observed(y)
    # An origin counts for a series only when it had two seasons of data before it; the
    # parameters for the backtest are fitted on the data before its first usable origin.
    usable = np.array([[o >= s + 2 * max(m, 1) for o in origins] for s in start]).reshape(
        n, len(origins)
    )
    origin_array = np.array(origins + [periods])
    fit_end = origin_array[np.where(usable.any(axis=1), usable.argmax(axis=1), len(origins))]

    # MASE/RMSSE scale: in-sample seasonal-naive error before the backtest (lag 1 when
    # there is no season or it is zero, e.g. a constant series).
    train = _before(y, fit_end)

    def naive_scale(lag, power):
        if train.shape[1] <= lag:
            return np.full(n, np.nan)
        return _nanmean(np.abs(train[:, lag:] - train[:, :-lag]) ** power, 1, np.nan)

    mae_scale = naive_scale(m, 1) if m > 1 else naive_scale(1, 1)
    mse_scale = naive_scale(m, 2) if m > 1 else naive_scale(1, 2)
    if m > 1:
        mae_scale = np.where(mae_scale > 0, mae_scale, naive_scale(1, 1))
        mse_scale = np.where(mse_scale > 0, mse_scale, naive_scale(1, 2))
    mean_level = np.maximum(np.abs(_nanmean(train, 1)), 1e-9)
    mae_scale = np.where(np.nan_to_num(mae_scale) > 0, mae_scale, mean_level)
    mse_scale = np.where(np.nan_to_num(mse_scale) > 0, mse_scale, mean_level**2)

    observed = (~np.isnan(train)).sum(axis=1)
    demands = (np.nan_to_num(train) > 0).sum(axis=1)
    with np.errstate(divide="ignore"):
        adi = np.where(demands > 0, observed / np.maximum(demands, 1), np.inf)
    intermittent = (adi >= INTERMITTENT_ADI) & (np.nanmin(np.where(np.isnan(y), 0, y), 1) >= 0)

    fit_args = (y, start, m, fit_end, origins, bt_h, horizon)
    fits: dict[str, _Fit] = {}
    for name in models:
        if name in SEASONAL_MODELS and m <= 1:
            continue
        if name in ("croston", "sba", "tsb") and not intermittent.any():
            continue
        if name == "yearly_es" and (m != 7 or periods < YEAR + YEAR // 2 + horizon):
            continue
        if name == "combined":
            parts = [fits.get(p) or _fit(p, *fit_args) for p in COMBINED_PARTS]
            fits[name] = _mean_of(COMBINED_PARTS, parts)
        else:
            fits[name] = _fit(name, *fit_args)

    actual = (
        np.stack([y[:, o : o + bt_h] for o in origins], axis=1)
        if origins
        else np.empty((n, 0, bt_h))
    )
    seen = ~np.isnan(actual) & usable[:, :, None]
    points = seen.sum(axis=(1, 2))
    mase = np.full((n, len(models)), np.nan)
    rmsse = np.full((n, len(models)), np.nan)
    covered = np.full((n, len(models)), np.nan)
    z = _z(level)
    for j, name in enumerate(models):
        fit = fits.get(name)
        if fit is None:
            continue
        candidate = intermittent if name in INTERMITTENT_MODELS else ~intermittent
        if name in INTERMITTENT_MODELS and name in SMOOTH_MODELS:
            candidate = np.ones(n, bool)
        error = np.where(seen, np.nan_to_num(actual) - fit.backtest, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mae = np.abs(error).sum(axis=(1, 2)) / points
            mse = (error * error).sum(axis=(1, 2)) / points
            lo = np.maximum(fit.backtest - z * fit.backtest_sd, 0)
            hi = fit.backtest + z * fit.backtest_sd
            inside = seen & (np.nan_to_num(actual) >= lo - 1e-9) & (np.nan_to_num(actual) <= hi)
            covered[:, j] = inside.sum(axis=(1, 2)) / points
        ok = candidate & (points > 0)
        mase[:, j] = np.where(ok, mae / mae_scale, np.nan)
        rmsse[:, j] = np.where(ok, np.sqrt(mse / mse_scale), np.nan)

    # No backtest possible (too short): SES, or TSB when intermittent.
    default = np.where(intermittent & ("tsb" in fits), _index(models, "tsb"), _index(models, "ses"))
    # Intermittent series are scored by RMSSE: the error MASE rewards is least at the
    # median, which for intermittent demand is zero; stock needs the mean.
    score = np.where(intermittent[:, None], rmsse, mase)
    has_score = ~np.all(np.isnan(score), axis=1)
    finite = np.where(np.isnan(score), np.inf, score)
    chosen = np.where(has_score, np.argmin(finite, 1), default)
    if "combined" in fits:
        # Per-series selection on a short backtest mostly picks noise: keep the
        # combination unless another model beats it by a clear margin.
        combined = models.index("combined")
        clearly_better = _pick(finite, chosen) < (1 - SELECTION_MARGIN) * finite[:, combined]
        keep = np.isfinite(finite[:, combined]) & ~clearly_better
        chosen = np.where(keep, combined, chosen)
    chosen = np.where(start >= periods, -1, chosen)

    horizon_shape = (n, horizon)
    mean, sd = np.zeros(horizon_shape), np.zeros(horizon_shape)
    sigma, coverage = np.zeros(n), np.full(n, np.nan)
    params: list[dict] = [{} for _ in range(n)]
    for j, name in enumerate(models):
        rows = np.flatnonzero(chosen == j)
        fit = fits.get(name)
        if rows.size == 0 or fit is None:
            continue
        mean[rows], sd[rows], sigma[rows] = fit.mean[rows], fit.sd[rows], fit.sigma[rows]
        coverage[rows] = covered[rows, j]
        for r in rows:
            params[r] = fit.params[r]
    mean = np.maximum(mean, 0.0) if (np.nan_to_num(y) >= 0).all() else mean
    lower = np.maximum(mean - z * sd, 0.0) if (np.nan_to_num(y) >= 0).all() else mean - z * sd
    upper = mean + z * sd
    return Forecasts(
        models=tuple(models),
        chosen=chosen,
        mean=mean,
        lower=lower,
        upper=upper,
        sigma=sigma,
        mase=mase,
        rmsse=rmsse,
        coverage=coverage,
        intermittent=intermittent,
        level=level,
        params=params,
    )


def _index(models, name) -> int:
    return models.index(name) if name in models else 0
