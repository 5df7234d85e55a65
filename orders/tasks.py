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
    """Fold the order counters' delta rows (``services.status_counts``), and give the
    delta table's pages back after a burst. Idempotent and safe beside itself: each delta
    row is folded exactly once."""
    from .services import status_counts

    folded = status_counts.compact()
    status_counts.shrink_if_bloated()
    return folded


@shared_task(name="orders.tasks.reconcile_sales_rollup")
def reconcile_sales_rollup(days: int = 3) -> int:
    """Recompute the home page's sales rollup of the last closed days from the orders (a
    rate added for a past day, an order changed outside the services). Idempotent: the
    result depends only on the orders."""
    from .services.reporting import rebuild_recent_sales

    return rebuild_recent_sales(days=days)


@shared_task(name="orders.tasks.run_bulk_job")
def run_bulk_job(job_id: int) -> str:
    """Run a bulk job's pending orders. Idempotent: each order is claimed, acted on and
    marked in one transaction, so a second run only does what the first left."""
    from .services.bulk_jobs import run_bulk_job as run

    return run(job_id)


@shared_task(name="orders.tasks.resume_bulk_jobs")
def resume_bulk_jobs() -> int:
    """Queue again the bulk jobs that stopped making progress (lost message, dead worker)."""
    from .services.bulk_jobs import stalled_jobs

    ids = list(stalled_jobs())
    for job_id in ids:
        run_bulk_job.delay(job_id)
    return len(ids)


@shared_task(name="orders.tasks.execute_payment_transaction", acks_late=True)
def execute_payment_transaction(transaction_id: int) -> str:
    """Ask the gateway about one pending payment transaction and record the answer.
    Idempotent: a settled transaction is left alone, and the provider answers a repeated
    request (same idempotency key) with the first outcome."""
    from .payments.services import execute_transaction

    txn = execute_transaction(transaction_id)
    return txn.status if txn is not None else "missing"


@shared_task(name="orders.tasks.retry_pending_transactions")
def retry_pending_transactions() -> int:
    """Ask again about payment transactions whose outcome is unknown (beat)."""
    from .payments.services import retry_pending_transactions as retry

    return retry()


@shared_task(name="orders.tasks.render_invoice_pdf", acks_late=True)
def render_invoice_pdf(invoice_id: int) -> bool:
    """Render an issued document's PDF and attach it once. Idempotent: a document that
    has its PDF keeps it."""
    from .invoicing.models import Invoice
    from .invoicing.pdf import pdf_of

    invoice = Invoice.objects.filter(pk=invoice_id).first()
    if invoice is None:
        return False
    pdf_of(invoice)
    return True
