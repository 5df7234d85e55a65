"""Forecast runs: split the SKUs into batches, let workers claim and compute them, write
each SKU's forecast and reorder figures, raise ``stock.at_risk`` for SKUs that newly head
for a stock-out inside their lead time.

A batch is claimed in a short transaction (``pending`` -> ``running``, with the worker's
name and time), computed outside any transaction, and written in one transaction that
also marks it ``done``. A worker killed mid-batch leaves it ``running``; once it has been
quiet for ``STALE_AFTER`` any worker may claim it again (the sweep task re-enqueues it).
Writing is an upsert per SKU and warehouse, so a batch computed twice changes nothing.
"""

import logging
import os
import socket
import time
from datetime import date, timedelta

import numpy as np
from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from inventory.models import SKU, StockLevel
from oms_site import webhooks
from oms_site.actors import Actor
from oms_site.errors import ValidationFailed

from .. import engine, history, planning
from ..models import (
    ForecastBatch,
    ForecastRun,
    ForecastSettings,
    PurchaseOrder,
    PurchaseOrderLine,
    SkuForecast,
)

logger = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=10)
SEASON_LENGTH = 7  # days: the weekly pattern of retail demand
BACKTEST_ORIGINS = 4
BACKTEST_STEP_DAYS = 28
INTERVAL_LEVEL = 0.9

B = ForecastBatch.Status
RUNNING = ForecastRun.Status.RUNNING


def default_as_of() -> date:
    """Forecasts use complete days: history ends yesterday."""
    return timezone.localdate() - timedelta(days=1)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# --- starting runs ------------------------------------------------------------------------


@transaction.atomic
def start_run(
    *, trigger: str, actor: Actor, sku=None, as_of: date | None = None, enqueue: bool = True
) -> ForecastRun:
    """Create a run and its batches; workers are sent the batches after commit.

    A full run while another full run is still going returns that run instead (pressing
    the button twice starts nothing new), unless the other one forecasts an older day,
    which is then cancelled: its finished batches stay written. ``enqueue=False`` leaves
    the batches to the caller (``run_inline``).
    """
    settings = ForecastSettings.current()
    as_of = as_of or default_as_of()
    if sku is None:
        for running in ForecastRun.objects.select_for_update(of=("self",)).filter(
            status=RUNNING, sku__isnull=True
        ):
            if running.as_of >= as_of:
                return running
            running.cancel()
            running.finished_at = timezone.now()
            running.save()
        sku_ids = list(
            StockLevel.objects.filter(sku__active=True, warehouse__active=True)
            .values_list("sku_id", flat=True)
            .distinct()
            .order_by("sku_id")
        )
    else:
        sku_ids = [sku.pk]
    run = ForecastRun.objects.create(
        trigger=trigger,
        sku=sku,
        as_of=as_of,
        actor_label=actor.label[:150],
        actor_user_id=actor.user_id,
    )
    size = settings.batch_size
    batches = [
        ForecastBatch(run=run, number=i + 1, sku_ids=sku_ids[start : start + size])
        for i, start in enumerate(range(0, len(sku_ids), size))
    ]
    ForecastBatch.objects.bulk_create(batches)
    run.batch_total = len(batches)
    if not batches:
        run.finish()
        run.finished_at = timezone.now()
        run.seconds = 0.0
    run.save()
    if enqueue:
        transaction.on_commit(lambda: enqueue_batches(run.pk))
    return run


def enqueue_batches(run_id: int, *, only_stale: bool = False) -> int:
    """Send the run's unfinished batches to the ``forecast`` queue."""
    from ..tasks import forecast_batch

    batches = ForecastBatch.objects.filter(run_id=run_id, run__status=RUNNING).exclude(
        status=B.DONE
    )
    if only_stale:
        batches = batches.filter(_claimable())
    sent = 0
    for batch_id in batches.values_list("pk", flat=True):
        try:
            forecast_batch.delay(batch_id)
            sent += 1
        except Exception:  # broker down: the sweep sends it again later
            logger.exception("could not enqueue forecast batch %s", batch_id)
    return sent


def _claimable() -> Q:
    stale = timezone.now() - STALE_AFTER
    return Q(status=B.PENDING) | Q(status=B.RUNNING, claimed_at__lt=stale)


def resume_stalled() -> int:
    """Re-send batches of running runs that nobody works on (a killed worker's, or ones
    whose message was lost). Safe to call any time: claiming decides who computes."""
    settled = timezone.now() - timedelta(minutes=2)
    sent = 0
    for run_id in ForecastRun.objects.filter(status=RUNNING, started_at__lt=settled).values_list(
        "pk", flat=True
    ):
        sent += enqueue_batches(run_id, only_stale=True)
    return sent


# --- working a batch ----------------------------------------------------------------------


def claim_batch(batch_id: int, *, worker: str) -> ForecastBatch | None:
    """Take the batch if it is waiting, or running but quiet for STALE_AFTER; else None."""
    with transaction.atomic():
        batch = (
            ForecastBatch.objects.select_for_update(of=("self",))
            .select_related("run")
            .filter(pk=batch_id)
            .filter(_claimable())
            .first()
        )
        if batch is None or batch.run.status != RUNNING:
            return None
        batch.claim()
        batch.attempts += 1
        batch.worker = worker[:200]
        batch.claimed_at = timezone.now()
        batch.save()
        return batch


def run_batch(batch_id: int, *, worker: str | None = None) -> bool:
    """Claim, compute and write one batch. Returns False when there was nothing to do."""
    batch = claim_batch(batch_id, worker=worker or worker_name())
    if batch is None:
        return False
    started = time.monotonic()
    results = compute(sku_ids=batch.sku_ids, as_of=batch.run.as_of)
    with transaction.atomic():
        locked = ForecastBatch.objects.select_for_update(of=("self",)).get(pk=batch.pk)
        if locked.status == B.DONE:
            return False  # a second worker finished it first; the results are the same
        write_results(results, run=batch.run)
        locked.complete()
        locked.series = len(results.keys)
        locked.seconds = time.monotonic() - started
        locked.finished_at = timezone.now()
        locked.save()
        _finish_run_if_done(batch.run_id)
    return True


def _finish_run_if_done(run_id: int) -> None:
    run = ForecastRun.objects.select_for_update(of=("self",)).get(pk=run_id)
    if run.status != RUNNING or run.batches.exclude(status=B.DONE).exists():
        return
    totals = run.batches.aggregate(series=Sum("series"))
    run.finish()
    run.finished_at = timezone.now()
    run.seconds = (run.finished_at - run.started_at).total_seconds()
    run.series_total = totals["series"] or 0
    run.at_risk = SkuForecast.objects.filter(run=run, at_risk=True).count()
    run.save()


def run_inline(run: ForecastRun, *, progress=None) -> ForecastRun:
    """Work every batch of ``run`` in this process (the command and the demo)."""
    for number, batch_id in enumerate(run.batches.values_list("pk", flat=True), start=1):
        run_batch(batch_id)
        if progress:
            progress(number, run.batch_total)
    run.refresh_from_db()
    return run


# --- computing ----------------------------------------------------------------------------


class Results:
    """A batch's forecasts and plans, ready to be written."""

    def __init__(self, keys, as_of, settings, hist, forecasts, plan, context):
        self.keys = keys
        self.as_of = as_of
        self.settings = settings
        self.history = hist
        self.forecasts = forecasts
        self.plan = plan
        self.context = context


def compute(*, sku_ids, as_of: date) -> Results:
    """Forecast and plan every stocked (SKU, warehouse) of these SKUs. Reads only."""
    settings = ForecastSettings.current()
    keys = history.stocked_pairs(sku_ids)
    horizon = settings.horizon_days
    hist = history.demand_history(keys=keys, as_of=as_of, days=settings.history_days)
    forecasts = engine.forecast(
        hist.observed(),
        horizon=horizon,
        season_length=SEASON_LENGTH,
        n_origins=BACKTEST_ORIGINS,
        origin_step=BACKTEST_STEP_DAYS,
        level=INTERVAL_LEVEL,
    )
    context = _planning_inputs(keys, as_of, horizon, settings)
    plan = planning.plan(
        mean=forecasts.mean,
        sigma=forecasts.sigma,
        on_hand=context["on_hand"],
        allocated=context["allocated"],
        arrivals=context["arrivals"],
        on_order=context["on_order"],
        lead_time=context["lead_time"],
        lead_time_std=context["lead_time_std"],
        service_level=float(settings.service_level) / 100,
        review_period=settings.review_period_days,
        pack_size=context["pack_size"],
        minimum=context["minimum"],
        can_order=context["can_order"],
    )
    return Results(keys, as_of, settings, hist, forecasts, plan, context)


def _planning_inputs(keys, as_of, horizon, settings) -> dict:
    n = len(keys)
    row_of = {key: i for i, key in enumerate(keys)}
    on_hand, allocated = np.zeros(n, dtype=int), np.zeros(n, dtype=int)
    for sku_id, wh_id, oh, al in StockLevel.objects.filter(
        sku_id__in={k[0] for k in keys}
    ).values_list("sku_id", "warehouse_id", "on_hand", "allocated"):
        row = row_of.get((sku_id, wh_id))
        if row is not None:
            on_hand[row], allocated[row] = oh, al
    skus = SKU.objects.select_related("supplier").in_bulk({k[0] for k in keys})
    lead_time = np.zeros(n, dtype=int)
    lead_time_std = np.zeros(n)
    pack_size, minimum = np.ones(n, dtype=int), np.zeros(n, dtype=int)
    can_order = np.zeros(n, dtype=bool)
    supplier_ids = [None] * n
    for row, (sku_id, _) in enumerate(keys):
        sku = skus[sku_id]
        supplier = sku.supplier
        lead_time[row] = (
            sku.lead_time_days
            or (supplier.lead_time_days if supplier else 0)
            or settings.default_lead_time_days
        )
        lead_time_std[row] = float(supplier.lead_time_std_days) if supplier else 0.0
        pack_size[row] = max(sku.pack_size, 1)
        if sku.min_order_quantity is not None:
            minimum[row] = sku.min_order_quantity
        elif supplier:
            minimum[row] = supplier.min_order_quantity
        can_order[row] = supplier is not None
        supplier_ids[row] = supplier.pk if supplier else None

    arrivals = np.zeros((n, horizon))
    on_order = np.zeros(n, dtype=int)
    open_lines = PurchaseOrderLine.objects.filter(
        order__status__in=PurchaseOrder.OPEN,
        sku_id__in={k[0] for k in keys},
        quantity__gt=F("received_quantity"),
    ).values_list(
        "sku_id",
        "order__warehouse_id",
        "quantity",
        "received_quantity",
        "order__expected_date",
    )
    for sku_id, wh_id, quantity, received, expected in open_lines:
        row = row_of.get((sku_id, wh_id))
        if row is None:
            continue
        units = quantity - received
        on_order[row] += units
        # Overdue or undated deliveries are expected tomorrow: count them, but as late.
        day = (expected - as_of).days if expected else 1
        day = min(max(day, 1), horizon + 1)
        if day <= horizon:
            arrivals[row, day - 1] += units
    return {
        "on_hand": on_hand,
        "allocated": allocated,
        "arrivals": arrivals,
        "on_order": on_order,
        "lead_time": lead_time,
        "lead_time_std": lead_time_std,
        "pack_size": pack_size,
        "minimum": minimum,
        "can_order": can_order,
        "supplier_ids": supplier_ids,
    }


# --- writing ------------------------------------------------------------------------------

UPDATE_FIELDS = [
    "run",
    "computed_at",
    "as_of",
    "model",
    "params",
    "intermittent",
    "mase",
    "rmsse",
    "coverage",
    "backtest",
    "history_days",
    "stockout_days",
    "mean",
    "lower",
    "upper",
    "interval_level",
    "sigma",
    "daily_demand",
    "supplier",
    "lead_time_days",
    "lead_time_std_days",
    "service_level",
    "safety_stock",
    "reorder_point",
    "target_level",
    "on_hand",
    "allocated",
    "open_purchase",
    "projected",
    "days_of_cover",
    "stockout_date",
    "at_risk",
    "suggested_quantity",
]


def _rounded(values) -> list[float]:
    return [round(float(v), 3) for v in values]


def _number(value):
    value = float(value)
    return None if not np.isfinite(value) else round(value, 4)


def write_results(results: Results, *, run: ForecastRun | None) -> int:
    """Upsert each (SKU, warehouse)'s forecast; publish ``stock.at_risk`` for the ones
    that were not at risk before. Call inside a transaction."""
    keys, f, p, ctx = results.keys, results.forecasts, results.plan, results.context
    if not keys:
        return 0
    now = timezone.now()
    was_at_risk = set(
        SkuForecast.objects.filter(sku_id__in={k[0] for k in keys}, at_risk=True).values_list(
            "sku_id", "warehouse_id"
        )
    )
    service_level = float(results.settings.service_level) / 100
    hist = results.history
    known_days = hist.known.sum(axis=1)
    stockout_days = hist.stockout.sum(axis=1)
    rows = []
    for i, (sku_id, wh_id) in enumerate(keys):
        backtest = {
            name: {"mase": _number(f.mase[i, j]), "rmsse": _number(f.rmsse[i, j])}
            for j, name in enumerate(f.models)
            if np.isfinite(f.mase[i, j])
        }
        chosen = f.chosen[i]
        stockout_day = int(p.stockout_day[i])
        rows.append(
            SkuForecast(
                sku_id=sku_id,
                warehouse_id=wh_id,
                run=run,
                computed_at=now,
                as_of=results.as_of,
                model=f.model_name(i),
                params=f.params[i],
                intermittent=bool(f.intermittent[i]),
                mase=_number(f.mase[i, chosen]) if chosen >= 0 else None,
                rmsse=_number(f.rmsse[i, chosen]) if chosen >= 0 else None,
                coverage=_number(f.coverage[i]),
                backtest=backtest,
                history_days=int(known_days[i]),
                stockout_days=int(stockout_days[i]),
                mean=_rounded(f.mean[i]),
                lower=_rounded(f.lower[i]),
                upper=_rounded(f.upper[i]),
                interval_level=f.level,
                sigma=round(float(f.sigma[i]), 4),
                daily_demand=round(float(f.mean[i].mean()), 4),
                supplier_id=ctx["supplier_ids"][i],
                lead_time_days=int(ctx["lead_time"][i]),
                lead_time_std_days=float(ctx["lead_time_std"][i]),
                service_level=service_level,
                safety_stock=int(p.safety_stock[i]),
                reorder_point=int(p.reorder_point[i]),
                target_level=int(p.target_level[i]),
                on_hand=int(ctx["on_hand"][i]),
                allocated=int(ctx["allocated"][i]),
                open_purchase=int(ctx["on_order"][i]),
                projected=_rounded(p.projected[i]),
                days_of_cover=_number(p.days_of_cover[i]),
                stockout_date=(
                    results.as_of + timedelta(days=stockout_day) if stockout_day else None
                ),
                at_risk=bool(p.at_risk[i]),
                suggested_quantity=int(p.suggested[i]),
            )
        )
    SkuForecast.objects.bulk_create(
        rows,
        batch_size=500,
        update_conflicts=True,
        unique_fields=["sku", "warehouse"],
        update_fields=UPDATE_FIELDS,
    )
    newly = [r for r in rows if r.at_risk and (r.sku_id, r.warehouse_id) not in was_at_risk]
    if newly:
        _publish_at_risk(newly)
    return len(rows)


def _publish_at_risk(rows) -> None:
    from inventory.models import Warehouse

    skus = SKU.objects.in_bulk({r.sku_id for r in rows})
    warehouses = Warehouse.objects.in_bulk({r.warehouse_id for r in rows})
    for r in rows:
        webhooks.publish(
            "stock.at_risk",
            {
                "sku": skus[r.sku_id].code,
                "warehouse": warehouses[r.warehouse_id].code,
                "stockout_date": r.stockout_date.isoformat() if r.stockout_date else None,
                "lead_time_days": r.lead_time_days,
                "days_of_cover": r.days_of_cover,
                "on_hand": r.on_hand,
                "allocated": r.allocated,
                "open_purchase": r.open_purchase,
                "daily_demand": r.daily_demand,
                "reorder_point": r.reorder_point,
                "suggested_quantity": r.suggested_quantity,
                "as_of": r.as_of.isoformat(),
            },
        )


def recompute_sku(*, sku: SKU, actor: Actor) -> ForecastRun:
    """Start a one-SKU run (the SKU page's button)."""
    if not StockLevel.objects.filter(sku=sku).exists():
        raise ValidationFailed(
            f"{sku.code} is not stocked in any warehouse: there is nothing to forecast.",
            fields={"sku": ["Not stocked."]},
        )
    return start_run(trigger=ForecastRun.Trigger.SKU, actor=actor, sku=sku)
