"""Forecasting tasks on the ``forecast`` queue: thin, ids only, safe to run twice."""

from celery import shared_task

from oms_site.actors import Actor

from .models import ForecastRun
from .services import runs


@shared_task(name="forecasting.tasks.nightly_forecast")
def nightly_forecast() -> int:
    """Beat, every night: forecast every stocked SKU as of yesterday, in batches."""
    run = runs.start_run(trigger=ForecastRun.Trigger.NIGHTLY, actor=Actor.system("nightly"))
    return run.pk


@shared_task(name="forecasting.tasks.forecast_batch", acks_late=True)
def forecast_batch(batch_id: int) -> bool:
    """Compute one batch; a batch someone else holds (or finished) is left alone."""
    return runs.run_batch(batch_id)


@shared_task(name="forecasting.tasks.resume_stalled_batches")
def resume_stalled_batches() -> int:
    """Beat, every few minutes: re-send batches a killed worker left behind."""
    return runs.resume_stalled()
