"""Workers racing for the same batch on PostgreSQL, with real threads: one computes it,
the others leave it alone, and the run finishes once."""

import pytest

from inventory.forecasting.models import ForecastBatch, ForecastRun, ForecastSettings, SkuForecast
from inventory.forecasting.services import runs
from oms_site.actors import Actor
from tests import factories
from tests.e2e.test_concurrency import run_concurrently

from .conftest import daily_sales

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_four_workers_race_for_every_batch_and_each_is_computed_once():
    warehouse = factories.WarehouseFactory(code="ber")
    for i in range(6):
        sku = factories.SKUFactory(code=f"RACE-{i}")
        daily_sales(sku, warehouse, days=90, per_day=lambda d, i=i: 1 + i, opening=2000)
    settings = ForecastSettings.current()
    settings.batch_size = 2
    settings.history_days = 90
    settings.save()
    run = runs.start_run(trigger="manual", actor=Actor.system("race"), enqueue=False)
    batch_ids = list(run.batches.values_list("pk", flat=True))

    def work(index):
        return [runs.run_batch(batch_id, worker=f"worker-{index}") for batch_id in batch_ids]

    results = run_concurrently(4, work)
    # Every batch was computed by exactly one worker.
    for column in zip(*results, strict=True):
        assert sum(column) == 1
    assert set(ForecastBatch.objects.values_list("status", "attempts")) == {("done", 1)}
    run.refresh_from_db()
    assert run.status == ForecastRun.Status.FINISHED and run.series_total == 6
    assert SkuForecast.objects.count() == 6
