"""Inventory tasks: thin wrappers over services, safe to run twice."""

from celery import shared_task

from . import services


@shared_task(name="inventory.tasks.release_expired_reservations")
def release_expired_reservations() -> int:
    """Release checkout holds past their expiry. Idempotent: only active holds are touched."""
    return services.expire_reservations()
