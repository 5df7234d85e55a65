"""Forecast runs: batches, workers sharing them, a killed worker's batch picked up again,
the command, and the stock.at_risk webhook."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from inventory.forecasting.models import ForecastBatch, ForecastRun, ForecastSettings, SkuForecast
from inventory.forecasting.services import runs
from inventory.forecasting.tasks import nightly_forecast
from oms_site.actors import Actor
from oms_site.models import OutboxEvent, WebhookSubscription
from tests import factories

from .conftest import daily_sales

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")


@pytest.fixture
def shop(db):
    supplier = factories.SupplierFactory(code="acme", lead_time_days=10)
    ber = factories.WarehouseFactory(code="ber")
    skus = []
    for i in range(5):
        sku = factories.SKUFactory(code=f"RUN-{i}", supplier=supplier)
        daily_sales(sku, ber, days=200, per_day=lambda d, i=i: (d % 7) + i, opening=5000)
        skus.append(sku)
    settings = ForecastSettings.current()
    settings.batch_size = 2
    settings.history_days = 200
    settings.save()
    return supplier, ber, skus


def test_a_run_splits_into_batches_that_workers_finish(shop, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = runs.start_run(trigger=ForecastRun.Trigger.MANUAL, actor=ACTOR)
    run.refresh_from_db()
    assert run.batch_total == 3  # 5 SKUs, 2 per batch
    assert run.status == ForecastRun.Status.FINISHED
    assert run.series_total == 5
    assert set(run.batches.values_list("status", flat=True)) == {ForecastBatch.Status.DONE}
    forecast = SkuForecast.objects.get(sku__code="RUN-2")
    assert forecast.model != "none" and len(forecast.mean) == 56
    assert forecast.daily_demand == pytest.approx(3 + 2, rel=0.15)  # (0..6) + 2 on average
    assert forecast.mase is not None and forecast.backtest


def test_a_killed_workers_batch_is_taken_over_after_it_goes_quiet(shop):
    run = runs.start_run(trigger=ForecastRun.Trigger.NIGHTLY, actor=ACTOR, enqueue=False)
    first = run.batches.order_by("number").first()
    # Worker A claims the batch and dies before writing anything.
    assert runs.claim_batch(first.pk, worker="worker-a") is not None
    # While A's claim is fresh nobody else takes it (nor re-sends it).
    assert runs.run_batch(first.pk, worker="worker-b") is False
    # Ten quiet minutes later the sweep sends it again and worker B finishes it.
    ForecastBatch.objects.filter(pk=first.pk).update(
        claimed_at=timezone.now() - runs.STALE_AFTER - timedelta(seconds=1)
    )
    ForecastRun.objects.filter(pk=run.pk).update(started_at=timezone.now() - timedelta(hours=1))
    sent = runs.resume_stalled()  # eager in tests: the batches run right here
    assert sent == 3
    first.refresh_from_db()
    assert first.status == ForecastBatch.Status.DONE and first.attempts == 2
    run.refresh_from_db()
    assert run.status == ForecastRun.Status.FINISHED
    # Running a finished batch again does nothing.
    assert runs.run_batch(first.pk) is False


def test_pressing_run_twice_starts_one_run(shop):
    first = runs.start_run(trigger=ForecastRun.Trigger.MANUAL, actor=ACTOR, enqueue=False)
    second = runs.start_run(trigger=ForecastRun.Trigger.MANUAL, actor=ACTOR, enqueue=False)
    assert first.pk == second.pk
    # A newer day replaces an unfinished older run.
    newer = runs.start_run(
        trigger=ForecastRun.Trigger.NIGHTLY,
        actor=ACTOR,
        enqueue=False,
        as_of=first.as_of + timedelta(days=1),
    )
    first.refresh_from_db()
    assert newer.pk != first.pk and first.status == ForecastRun.Status.CANCELLED


def test_nightly_task_and_command(shop, capsys, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run_id = nightly_forecast()  # beat's task; its batches run eagerly after commit
    assert ForecastRun.objects.get(pk=run_id).status == ForecastRun.Status.FINISHED
    call_command("forecast", "--sku", "RUN-1")
    out = capsys.readouterr().out
    assert "finished: 1 SKU-warehouse series" in out
    call_command("forecast")
    assert "finished: 5 SKU-warehouse series" in capsys.readouterr().out


def test_stock_at_risk_is_published_once_when_a_sku_heads_for_a_stock_out(
    db, django_capture_on_commit_callbacks
):
    WebhookSubscription.objects.create(
        url="http://127.0.0.1:9/hook", secret="s", event_types=["stock.at_risk"]
    )
    supplier = factories.SupplierFactory(code="slow", lead_time_days=20)
    ber = factories.WarehouseFactory(code="ber")
    sku = factories.SKUFactory(code="RISKY", supplier=supplier)
    # 10 a day for 120 days from 1,250 units: 50 left, five days of cover.
    daily_sales(sku, ber, days=120, per_day=lambda d: 10, opening=1250)
    ForecastSettings.current()
    runs.run_inline(runs.start_run(trigger="manual", actor=ACTOR, enqueue=False))
    forecast = SkuForecast.objects.get(sku=sku)
    assert forecast.at_risk and forecast.days_of_cover == pytest.approx(5, abs=0.5)
    assert forecast.suggested_quantity > 0
    events = OutboxEvent.objects.filter(event_type="stock.at_risk")
    assert events.count() == 1
    payload = events.get().payload
    assert payload["sku"] == "RISKY" and payload["warehouse"] == "ber"
    assert payload["lead_time_days"] == 20 and payload["stockout_date"]
    # Still at risk the next night: no second alert.
    runs.run_inline(
        runs.start_run(
            trigger="manual", actor=ACTOR, enqueue=False, as_of=forecast.as_of + timedelta(days=1)
        )
    )
    assert events.count() == 1


def test_recompute_one_sku(shop, django_capture_on_commit_callbacks):
    _, _, skus = shop
    with django_capture_on_commit_callbacks(execute=True):
        run = runs.recompute_sku(sku=skus[0], actor=ACTOR)
    run.refresh_from_db()
    assert run.status == ForecastRun.Status.FINISHED and run.series_total == 1
    assert SkuForecast.objects.filter(sku=skus[0]).count() == 1
    assert SkuForecast.objects.count() == 1
