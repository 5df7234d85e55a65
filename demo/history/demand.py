"""Daily demand and stock for the forecasting demo and benchmark, simulated with NumPy.

Each series has a demand pattern (weekly and yearly season, trend, promotions, intermittent
or lumpy demand) and a replenishment policy that orders every two weeks up to a target,
with supplier lead times that vary and now and then a late or lost delivery, so the
warehouse runs out sometimes. Sales are what the shelf allowed (``min(demand, stock)``):
on stock-out days demand is lost, exactly what the forecasting must not read as "no demand".
"""

from dataclasses import dataclass

import numpy as np

PATTERNS = (
    "weekly",  # steady seller, strong weekend
    "summer",  # yearly peak in July
    "winter",  # yearly peak in December
    "growing",
    "declining",
    "promotions",  # price promotions and Black Friday spikes
    "intermittent",  # slow mover: a sale every few days
    "lumpy",  # rare, large orders
)


@dataclass
class SimulatedStock:
    patterns: list[str]
    demand: np.ndarray  # (n, days) what customers wanted
    sales: np.ndarray  # (n, days) what was sold (demand capped by stock)
    receipts: np.ndarray  # (n, days) units delivered at the start of each day
    returns: np.ndarray  # (n, days) units customers sent back (back on the shelf that day)
    stock: np.ndarray  # (n, days) on hand at the end of each day
    opening: np.ndarray  # (n,) on hand before the first day
    in_transit: list[list[tuple[int, int]]]  # per series: (arrival day >= days, units)
    lead_time: np.ndarray  # (n,) days


def demand_rates(
    n: int, days: int, *, first_weekday: int, first_day_of_year: int, rng, patterns=None
) -> tuple[list[str], np.ndarray]:
    """Expected demand per day for n series (and the pattern of each)."""
    if patterns is None:
        patterns = [PATTERNS[i % len(PATTERNS)] for i in range(n)]
    t = np.arange(days)
    weekday = (first_weekday + t) % 7
    day_of_year = (first_day_of_year + t) % 365
    weekly_shape = np.array([0.85, 0.8, 0.85, 0.95, 1.1, 1.35, 1.1])
    rates = np.zeros((n, days))
    for i, pattern in enumerate(patterns):
        base = rng.lognormal(1.6, 0.6)
        week = weekly_shape[weekday] ** rng.uniform(0.5, 1.5)
        rate = base * week
        if pattern == "summer":
            rate = rate * (1 + 0.9 * np.cos(2 * np.pi * (day_of_year - 196) / 365))
        elif pattern == "winter":
            rate = rate * (1 + 0.9 * np.cos(2 * np.pi * (day_of_year - 350) / 365))
        elif pattern == "growing":
            rate = rate * np.linspace(0.5, 1.6, days)
        elif pattern == "declining":
            rate = rate * np.linspace(1.6, 0.5, days)
        elif pattern == "promotions":
            promo = np.ones(days)
            for start in rng.choice(days - 10, size=max(days // 90, 1), replace=False):
                promo[start : start + rng.integers(3, 8)] = rng.uniform(2.0, 3.5)
            black_friday = (day_of_year >= 328) & (day_of_year <= 332)
            promo[black_friday] = 4.0
            rate = rate * promo
        elif pattern == "intermittent":
            rate = np.full(days, rng.uniform(0.15, 0.5)) * week
        elif pattern == "lumpy":
            rate = np.full(days, rng.uniform(0.05, 0.12))
        rates[i] = np.maximum(rate, 0)
    return patterns, rates


def simulate(
    n: int,
    days: int,
    *,
    seed: int = 7,
    first_weekday: int = 0,
    first_day_of_year: int = 0,
    patterns=None,
    lead_times=None,
) -> SimulatedStock:
    """Demand, sales and stock of n series over ``days`` days."""
    rng = np.random.default_rng(seed)
    patterns, rates = demand_rates(
        n,
        days,
        first_weekday=first_weekday,
        first_day_of_year=first_day_of_year,
        rng=rng,
        patterns=patterns,
    )
    demand = rng.poisson(rates).astype(float)
    lumpy = np.array([p == "lumpy" for p in patterns])
    if lumpy.any():
        demand[lumpy] *= rng.integers(4, 16, size=(int(lumpy.sum()), days))
    lead_time = (
        np.asarray(lead_times, dtype=int)
        if lead_times is not None
        else rng.choice([7, 10, 14, 21], size=n)
    )
    mean_rate = rates.mean(axis=1) * np.where(lumpy, 10, 1)
    review = 14
    # Order up to cover lead time + review period, a bit short of what would be safe for
    # some series, so they run out now and then.
    cover = rng.uniform(0.8, 1.4, size=n)
    target = np.ceil(mean_rate * (lead_time + review) * cover + 2)
    stock_now = np.ceil(target * rng.uniform(0.4, 0.9, size=n))
    opening = stock_now.copy()
    sales = np.zeros((n, days))
    receipts = np.zeros((n, days + 60))
    returns = np.zeros((n, days + 7))
    stock = np.zeros((n, days))
    on_order = np.zeros(n)
    offset = rng.integers(0, review, size=n)
    for day in range(days):
        stock_now += receipts[:, day] + returns[:, day]
        on_order -= receipts[:, day]
        sold = np.minimum(demand[:, day], stock_now)
        sales[:, day] = sold
        stock_now -= sold
        # Now and then a customer sends one unit back a week later.
        returns[:, day + 7] += (sold >= 3) & (rng.random(n) < 0.04)
        ordering = (day + offset) % review == 0
        # The target follows the season a little (the buyer sees it coming).
        local_rate = rates[:, min(day + 14, days - 1)] * np.where(lumpy, 10, 1)
        wanted = np.ceil(np.maximum(target, local_rate * (lead_time + review) * cover))
        quantity = np.where(ordering, np.maximum(wanted - stock_now - on_order, 0), 0)
        delay = lead_time + rng.integers(-2, 5, size=n)
        lost = rng.random(n) < 0.04  # the supplier drops an order now and then
        for i in np.flatnonzero((quantity > 0) & ~lost):
            arrival = day + max(int(delay[i]), 1)
            if arrival < receipts.shape[1]:
                receipts[i, arrival] += quantity[i]
                on_order[i] += quantity[i]
        stock[:, day] = stock_now
    in_transit = [
        [(int(d), int(receipts[i, d])) for d in range(days, receipts.shape[1]) if receipts[i, d]]
        for i in range(n)
    ]
    return SimulatedStock(
        patterns=list(patterns),
        demand=demand,
        sales=sales,
        receipts=receipts[:, :days],
        returns=returns[:, :days],
        stock=stock,
        opening=opening,
        in_transit=in_transit,
        lead_time=lead_time,
    )
