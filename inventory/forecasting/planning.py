"""From a demand forecast to reorder figures, per SKU and warehouse (vectorised).

* **Safety stock** = z(service level) x sqrt(L x sigma^2 + d^2 x sigma_L^2): demand
  uncertainty over the lead time L (sigma: the model's one-step error, per day) plus lead
  time uncertainty (sigma_L days, when the supplier's variability is known) at the
  forecast's mean daily demand d over the lead time.
* **Reorder point** = forecast demand over the lead time + safety stock.
* **Projected stock** per day = available now (on hand - allocated) + open purchase
  quantities on their expected dates - cumulative forecast demand; the **stock-out date**
  is the first day it falls below zero, and **days of cover** how long what is available
  lasts without new deliveries.
* **At risk**: the projected stock-out falls inside the lead time (an order placed today
  arrives too late).
* **Suggested order**: when the inventory position (available + on order) is at or below
  the reorder point, enough to bring it up to demand over lead time + review period +
  safety stock, rounded up to whole packs and at least the supplier's minimum.
"""

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np


@dataclass
class Plan:
    safety_stock: np.ndarray  # (n,) int
    reorder_point: np.ndarray  # (n,) int
    target_level: np.ndarray  # (n,) int
    projected: np.ndarray  # (n, horizon) available stock at the end of each future day
    stockout_day: np.ndarray  # (n,) 1-based day of the projected stock-out; 0 = none
    days_of_cover: np.ndarray  # (n,) float; inf when demand is zero
    at_risk: np.ndarray  # (n,) bool
    suggested: np.ndarray  # (n,) int


def _demand_over(mean: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Forecast demand over the next ``days[i]`` days; past the horizon, the horizon's
    average carries on."""
    horizon = mean.shape[1]
    cumulative = np.concatenate([np.zeros((mean.shape[0], 1)), np.cumsum(mean, axis=1)], axis=1)
    inside = cumulative[np.arange(mean.shape[0]), np.minimum(days, horizon)]
    beyond = np.maximum(days - horizon, 0) * mean.mean(axis=1)
    return inside + beyond


def plan(
    *,
    mean: np.ndarray,
    sigma: np.ndarray,
    on_hand: np.ndarray,
    allocated: np.ndarray,
    arrivals: np.ndarray,
    on_order: np.ndarray,
    lead_time: np.ndarray,
    lead_time_std: np.ndarray,
    service_level: float,
    review_period: int,
    pack_size: np.ndarray,
    minimum: np.ndarray,
    can_order: np.ndarray,
) -> Plan:
    """``arrivals`` (n, horizon): open purchase units expected at the end of each day;
    ``on_order`` (n,): all open purchase units, also those expected after the horizon."""
    lead_time = np.maximum(np.asarray(lead_time, dtype=int), 1)
    z = NormalDist().inv_cdf(service_level)
    lead_demand = _demand_over(mean, lead_time)
    daily = lead_demand / lead_time
    spread = np.sqrt(lead_time * sigma**2 + daily**2 * np.asarray(lead_time_std) ** 2)
    safety = np.ceil(np.maximum(z * spread, 0)).astype(int)
    reorder_point = np.ceil(lead_demand + safety - 1e-9).astype(int)
    target = np.ceil(_demand_over(mean, lead_time + review_period) + safety - 1e-9).astype(int)

    available = on_hand - allocated
    cumulative = np.cumsum(mean, axis=1)
    projected = available[:, None] + np.cumsum(arrivals, axis=1) - cumulative
    below = projected < 0
    stockout_day = np.where(below.any(axis=1), below.argmax(axis=1) + 1, 0)

    # Days of cover: when cumulative demand passes what is available (linear within a day).
    horizon = mean.shape[1]
    average = mean.mean(axis=1)
    passed = cumulative > available[:, None]
    first = passed.argmax(axis=1)
    before = np.where(first > 0, cumulative[np.arange(len(first)), first - 1], 0.0)
    step = np.maximum(mean[np.arange(len(first)), first], 1e-12)
    inside = first + np.clip((available - before) / step, 0, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        beyond = np.where(average > 0, horizon + (available - cumulative[:, -1]) / average, np.inf)
    cover = np.where(passed.any(axis=1), inside, beyond)
    cover = np.where(available <= 0, 0.0, cover)

    at_risk = (stockout_day > 0) & (stockout_day <= lead_time)
    position = available + on_order
    needed = np.maximum(target - position, 0)
    pack = np.maximum(np.asarray(pack_size, dtype=int), 1)
    packs = np.ceil(needed / pack).astype(int) * pack
    with_minimum = np.maximum(packs, np.ceil(np.asarray(minimum) / pack).astype(int) * pack)
    suggested = np.where((position <= reorder_point) & (needed > 0) & can_order, with_minimum, 0)
    return Plan(
        safety_stock=safety,
        reorder_point=reorder_point,
        target_level=target,
        projected=projected,
        stockout_day=stockout_day,
        days_of_cover=cover,
        at_risk=at_risk,
        suggested=suggested.astype(int),
    )
