"""A token bucket per marketplace connection and operation, shared by every worker.

The bucket lives in the database (one row per connection and operation, locked for the
moment it takes to take tokens), so it works on the embedded SQLite default as on
PostgreSQL, and two workers syncing for one seller never spend the seller's quota twice.
A 429 from the marketplace empties the bucket and blocks it until its ``Retry-After``:
every worker then waits, instead of each finding out on its own.
"""

import time
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .models import RateBucket


class RateLimitWaitTooLong(Exception):
    """Waiting for the bucket would take longer than the caller allows."""

    def __init__(self, wait_seconds: float):
        super().__init__(f"rate limit: next token in {wait_seconds:.1f} s")
        self.wait_seconds = wait_seconds


def _bucket(connection_id: int, operation: str, burst: int) -> RateBucket:
    """The bucket, locked; made full the first time (every call of a sync takes one
    token: the locked read alone, save that first time)."""
    locked = RateBucket.objects.select_for_update(of=("self",))
    bucket = locked.filter(connection_id=connection_id, operation=operation).first()
    if bucket is not None:
        return bucket
    RateBucket.objects.get_or_create(
        connection_id=connection_id,
        operation=operation,
        defaults={"tokens": float(burst), "refreshed_at": timezone.now()},
    )
    return locked.get(connection_id=connection_id, operation=operation)


def _try_take(connection_id, operation, *, rate, burst, tokens) -> float:
    """Take ``tokens`` if the bucket has them: 0.0; else how long to wait for them."""
    with transaction.atomic():
        bucket = _bucket(connection_id, operation, burst)
        now = timezone.now()
        if bucket.blocked_until and bucket.blocked_until > now:
            return (bucket.blocked_until - now).total_seconds()
        elapsed = max((now - bucket.refreshed_at).total_seconds(), 0.0)
        available = min(float(burst), bucket.tokens + elapsed * rate)
        if available >= tokens:
            available -= tokens
            wait = 0.0
        else:
            wait = (tokens - available) / rate
        RateBucket.objects.filter(pk=bucket.pk).update(tokens=available, refreshed_at=now)
        return wait


def acquire(
    connection_id: int,
    operation: str,
    *,
    rate: float,
    burst: int,
    tokens: int = 1,
    max_wait_seconds: float = 120.0,
) -> float:
    """Block until ``tokens`` are taken from the bucket; returns the seconds waited.

    Raises ``RateLimitWaitTooLong`` instead of waiting past ``max_wait_seconds`` in all
    (the task then retries later rather than holding a worker).
    """
    rate = max(rate, 1e-6)
    tokens = max(1, min(tokens, burst))
    waited = 0.0
    while True:
        wait = _try_take(connection_id, operation, rate=rate, burst=burst, tokens=tokens)
        if wait <= 0:
            return waited
        if waited + wait > max_wait_seconds:
            raise RateLimitWaitTooLong(wait)
        time.sleep(wait)
        waited += wait


def block(connection_id: int, operation: str, *, seconds: float, burst: int) -> None:
    """The marketplace said 429: nobody calls this operation for ``seconds``."""
    with transaction.atomic():
        bucket = _bucket(connection_id, operation, burst)
        until = timezone.now() + timedelta(seconds=max(seconds, 0.0))
        if bucket.blocked_until is None or bucket.blocked_until < until:
            bucket.blocked_until = until
        RateBucket.objects.filter(pk=bucket.pk).update(
            tokens=0.0,
            refreshed_at=until,
            blocked_until=bucket.blocked_until,
            throttled_count=bucket.throttled_count + 1,
        )
