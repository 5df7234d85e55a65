"""The Celery application: configured from Django settings (``CELERY_*``)."""

import os

from celery import Celery
from celery.signals import worker_process_init, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms_site.settings")

app = Celery("oms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect  # the worker's own process (it runs the tasks with --pool solo)
@worker_process_init.connect  # each child of the prefork pool
def _tune_gc(**_kwargs):
    from oms_site.gc_tuning import tune_gc

    tune_gc()
