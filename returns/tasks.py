"""Celery tasks of returns."""

from celery import shared_task


@shared_task(
    name="returns.tasks.send_return_email",
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=30,
    max_retries=8,
)
def send_return_email(request_id: int, what: str) -> bool:
    """A return's e-mail to the customer; sent once however often it runs."""
    from .notifications import send_return_email as send

    return send(request_id, what)
