"""Reads for the forecasting pages, always limited to the warehouses the user may see."""

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from inventory.access import allowed_warehouses

from .engine import MODELS
from .models import ForecastBatch, ForecastRun, PurchaseOrder, SkuForecast


def forecasts_for(user):
    return SkuForecast.objects.filter(warehouse__in=allowed_warehouses(user)).select_related(
        "sku", "sku__product", "warehouse", "supplier"
    )


def purchase_orders_for(user):
    return PurchaseOrder.objects.filter(warehouse__in=allowed_warehouses(user)).select_related(
        "supplier", "warehouse"
    )


def current_run() -> ForecastRun | None:
    """The newest full run (running or not)."""
    return ForecastRun.objects.filter(sku__isnull=True).order_by("-pk").first()


@dataclass
class Progress:
    total: int
    done: int
    running: int
    series: int

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100


def progress(run: ForecastRun) -> Progress:
    counts = Counter(run.batches.values_list("status", flat=True))
    series = sum(
        run.batches.filter(status=ForecastBatch.Status.DONE).values_list("series", flat=True)
    )
    return Progress(
        total=run.batch_total,
        done=counts[ForecastBatch.Status.DONE],
        running=counts[ForecastBatch.Status.RUNNING],
        series=series,
    )


@dataclass
class SupplierGroup:
    supplier: object
    warehouse: object
    rows: list = field(default_factory=list)

    @property
    def units(self) -> int:
        return sum(r.suggested_quantity for r in self.rows)


def suggestion_groups(user) -> list[SupplierGroup]:
    rows = (
        forecasts_for(user)
        .filter(suggested_quantity__gt=0, supplier__isnull=False)
        .order_by("supplier__name", "warehouse__rank", "warehouse__code", "-at_risk", "sku__code")
    )
    groups: dict[tuple, SupplierGroup] = {}
    for row in rows:
        key = (row.supplier_id, row.warehouse_id)
        if key not in groups:
            groups[key] = SupplierGroup(row.supplier, row.warehouse)
        groups[key].rows.append(row)
    return list(groups.values())


@dataclass
class ModelScore:
    name: str
    wins: int = 0
    share: float = 0.0
    candidates: int = 0
    mean_mase: float | None = None
    median_mase: float | None = None
    mean_rmsse: float | None = None


def scoreboard(user) -> tuple[list[ModelScore], dict]:
    """How often each model wins, and its backtest error across the SKUs where it was a
    candidate; plus the error of the chosen models overall."""
    rows = list(forecasts_for(user).values_list("model", "mase", "rmsse", "backtest"))
    wins = Counter(model for model, *_ in rows)
    mase_by_model, rmsse_by_model = defaultdict(list), defaultdict(list)
    for _model, _mase, _rmsse, backtest in rows:
        for name, scores in (backtest or {}).items():
            if scores.get("mase") is not None:
                mase_by_model[name].append(scores["mase"])
            if scores.get("rmsse") is not None:
                rmsse_by_model[name].append(scores["rmsse"])
    total = len(rows) or 1
    board = []
    for name in MODELS:
        values = mase_by_model.get(name, [])
        squared = rmsse_by_model.get(name, [])
        board.append(
            ModelScore(
                name=name,
                wins=wins.get(name, 0),
                share=100 * wins.get(name, 0) / total,
                candidates=len(values),
                mean_mase=statistics.fmean(values) if values else None,
                median_mase=statistics.median(values) if values else None,
                mean_rmsse=statistics.fmean(squared) if squared else None,
            )
        )
    chosen = [m for _, m, _, _ in rows if m is not None]
    chosen_rmsse = [r for _, _, r, _ in rows if r is not None]
    overall = {
        "series": len(rows),
        "scored": len(chosen),
        "mean_mase": statistics.fmean(chosen) if chosen else None,
        "median_mase": statistics.median(chosen) if chosen else None,
        "mean_rmsse": statistics.fmean(chosen_rmsse) if chosen_rmsse else None,
        "without_backtest": wins.get("none", 0) + sum(1 for _, m, _, _ in rows if m is None),
    }
    return board, overall
