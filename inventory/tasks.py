"""Inventory tasks: thin wrappers over services, safe to run twice."""

from celery import shared_task

from . import services


@shared_task(name="inventory.tasks.release_expired_reservations")
def release_expired_reservations() -> int:
    """Release checkout holds past their expiry. Idempotent: only active holds are touched."""
    return services.expire_reservations()


@shared_task(name="inventory.tasks.run_import")
def run_import(job_id: int) -> None:
    """Check and write a queued CSV import. Idempotent: only a queued job is run."""
    from . import import_jobs

    import_jobs.run_import(job_id)
