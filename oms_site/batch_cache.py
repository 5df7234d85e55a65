"""Lookups shared by the orders of one batch (a marketplace page, an import).

Placing an order reads reference data — SKUs, tax rates, hold rules, exchange rates —
that do not change while a batch is placed. Inside ``with batch_cache():`` each such read
is made once and reused; outside one, every call reads the database as before, so nothing
can go stale across requests.
"""

from contextlib import contextmanager
from contextvars import ContextVar

_cache: ContextVar[dict | None] = ContextVar("oms_batch_cache", default=None)


@contextmanager
def batch_cache():
    token = _cache.set({})
    try:
        yield
    finally:
        _cache.reset(token)


def cached(key, compute):
    """``compute()`` once per batch for ``key`` (every time outside a batch)."""
    store = _cache.get()
    if store is None:
        return compute()
    if key not in store:
        store[key] = compute()
    return store[key]


def remember(key, value) -> None:
    """Put a value fetched in bulk where ``cached`` will find it (no-op outside a batch)."""
    store = _cache.get()
    if store is not None:
        store[key] = value


def active() -> bool:
    return _cache.get() is not None


def peek(key, default=None):
    """What the batch holds for ``key``, without computing anything."""
    store = _cache.get()
    return default if store is None else store.get(key, default)
