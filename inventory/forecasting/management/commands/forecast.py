"""``manage.py forecast``: the nightly forecast, by hand.

Without options it computes every batch in this process and prints the progress; with
``--queue`` it only creates the run and sends its batches to the workers' ``forecast``
queue (what the nightly beat job does); ``--sku`` forecasts one SKU; ``--resume`` re-sends
the batches that a killed worker left behind.
"""

import time

from django.core.management.base import BaseCommand, CommandError

from inventory.models import SKU
from oms_site.actors import Actor

from ...models import ForecastRun
from ...services import runs


class Command(BaseCommand):
    help = "Forecast demand and reorder figures for every stocked SKU (or one)."

    def add_arguments(self, parser):
        parser.add_argument("--sku", help="Only this SKU code.")
        parser.add_argument(
            "--queue", action="store_true", help="Send the batches to the workers instead."
        )
        parser.add_argument(
            "--resume", action="store_true", help="Re-send batches left by a killed worker."
        )

    def handle(self, *args, sku=None, queue=False, resume=False, **options):
        if resume:
            sent = runs.resume_stalled()
            self.stdout.write(f"{sent} batch(es) sent to the workers again.")
            return
        actor = Actor.system("manage.py forecast")
        target = None
        if sku:
            target = SKU.objects.filter(code=sku).first()
            if target is None:
                raise CommandError(f"Unknown SKU {sku}.")
        started = time.monotonic()
        if queue:
            run = runs.start_run(trigger=ForecastRun.Trigger.COMMAND, actor=actor, sku=target)
            self.stdout.write(f"Run {run.pk}: {run.batch_total} batch(es) sent to the workers.")
            return
        run = runs.start_run(
            trigger=ForecastRun.Trigger.COMMAND, actor=actor, sku=target, enqueue=False
        )

        def progress(done, total):
            self.stdout.write(f"  batch {done}/{total} ({time.monotonic() - started:.1f} s)")

        run = runs.run_inline(run, progress=progress)
        self.stdout.write(
            f"Run {run.pk} {run.status}: {run.series_total} SKU-warehouse series, "
            f"{run.at_risk} at risk, {time.monotonic() - started:.1f} s."
        )
