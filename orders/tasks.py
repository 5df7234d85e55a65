"""Order tasks: thin wrappers over services, safe to run twice."""

from celery import shared_task

from . import services


@shared_task(name="orders.tasks.allocate_backorders")
def allocate_backorders(sku_ids=None) -> int:
    """Allocate backordered orders oldest first. Idempotent: each order is locked and
    re-checked, so running it twice allocates nothing twice."""
    return services.allocate_backorders(sku_ids=sku_ids)


@shared_task(name="orders.tasks.compact_status_counts")
def compact_status_counts() -> int:
    """Fold the order counters' delta rows (``services.status_counts``). Idempotent and
    safe beside itself: each delta row is folded exactly once."""
    from .services import status_counts

    return status_counts.compact()
