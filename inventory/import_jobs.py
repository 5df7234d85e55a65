"""CSV imports run as Celery jobs: the page queues one and follows its progress.

``queue_import`` records the job and enqueues it after commit; ``run_import`` (the task)
checks and writes the stored upload with ``csv_io.apply_import``, writing its progress
to the job row as it goes (the check runs outside the import's transaction, so the page
sees the count of checked rows grow; then the phase says "writing" until the end).
"""

import logging

from django.db import transaction
from django.utils import timezone

from . import csv_io
from .models import ImportJob

logger = logging.getLogger(__name__)


def queue_import(*, token: str, kind: str, filename: str, user, valid_only: bool) -> ImportJob:
    job = ImportJob.objects.create(
        token=token, kind=kind, filename=filename[:255], user=user, valid_only=valid_only
    )

    def enqueue():
        from .tasks import run_import

        run_import.delay(job.pk)

    transaction.on_commit(enqueue)
    return job


def result_to_dict(result: csv_io.ImportResult) -> dict:
    return {
        "kind": result.kind,
        "applied": result.applied,
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "errors": [[e.line, e.column, e.message] for e in result.errors],
    }


def result_from_dict(data: dict) -> csv_io.ImportResult:
    return csv_io.ImportResult(
        kind=data.get("kind", ""),
        applied=data.get("applied", False),
        created=data.get("created", 0),
        updated=data.get("updated", 0),
        unchanged=data.get("unchanged", 0),
        errors=[csv_io.RowError(*error) for error in data.get("errors", [])],
    )


def run_import(job_id: int) -> ImportJob | None:
    """Run a queued import. Safe to run twice: only a queued job is started."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update(of=("self",)).filter(pk=job_id).first()
        if job is None or job.status != ImportJob.Status.QUEUED:
            return job
        job.start()
        job.started_at = timezone.now()
        job.save(update_fields=["status", "started_at"])

    content = csv_io.load_upload(job.token)
    if content is None:
        return _fail(job, "The uploaded file is gone (expired or already imported).")

    def progress(phase, done, total):
        ImportJob.objects.filter(pk=job.pk).update(phase=phase, rows_done=done, rows_total=total)

    try:
        result = csv_io.apply_import(
            content, kind=job.kind, user=job.user, valid_only=job.valid_only, progress=progress
        )
    except Exception as error:  # recorded on the job for the page; the worker logs it
        logger.exception("CSV import %s failed", job.pk)
        return _fail(job, f"The import stopped with an error; nothing was written ({error}).")
    job.refresh_from_db(fields=["phase", "rows_done", "rows_total"])
    job.finish(result_to_dict(result))
    job.finished_at = timezone.now()
    job.rows_done = job.rows_total
    job.save(update_fields=["status", "result", "finished_at", "rows_done"])
    if result.applied:
        csv_io.discard_upload(job.token)
    return job


def _fail(job: ImportJob, message: str) -> ImportJob:
    job.fail(message)
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "finished_at"])
    return job
