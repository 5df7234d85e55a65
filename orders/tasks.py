"""Order tasks: thin wrappers over services, safe to run twice."""

from celery import shared_task

from . import services


@shared_task(name="orders.tasks.allocate_backorders")
def allocate_backorders(sku_ids=None) -> int:
    """Allocate backordered orders oldest first. Idempotent: each order is locked and
    re-checked, so running it twice allocates nothing twice."""
    return services.allocate_backorders(sku_ids=sku_ids)
