"""Per-process caches of small tables that every order reads and people rarely change.

Routing settings, hold rules, warehouses, webhook subscriptions and sales channels are
read on every order placement; reading them from the database each time costs a round
trip apiece. A ``ProcessCache`` keeps the loaded value in the process and knows when it
went stale:

- A save or delete of one of its models (Django's ``post_save``/``post_delete``) writes a
  new random version token to the cache's row in ``oms_site_cacheversion``, in the
  writer's own transaction. The token commits with the change or rolls back with it, and a
  token is never reused, so a value loaded under one token is the data of that token.
- Every thread re-reads all tokens (one small query) at most once per
  ``CHECK_SECONDS``, and at once after it changed one itself. A value is used only while
  its token equals the one last read: a change committed by another process (another
  gunicorn worker, a Celery worker) is seen within ``CHECK_SECONDS``; a change made in
  this thread is seen by its next read, even inside the writing transaction.

Writes that bypass model signals (``QuerySet.update()``, raw SQL) must call
``invalidate()``. Cached values are shared between threads: treat them as read-only.
"""

import secrets
import threading
import time

from django.db import transaction
from django.db.models.signals import post_delete, post_save

CHECK_SECONDS = 1.0

_registry: dict[str, "ProcessCache"] = {}
_thread = threading.local()


def _new_token() -> int:
    return secrets.randbits(62) + 1


def _read_tokens() -> dict[str, int]:
    from .models import CacheVersion

    return dict(CacheVersion.objects.values_list("name", "version"))


def _tokens() -> dict[str, int]:
    """This thread's view of every cache's token, re-read when older than CHECK_SECONDS."""
    now = time.monotonic()
    if getattr(_thread, "checked_at", None) is None or now - _thread.checked_at > CHECK_SECONDS:
        _thread.tokens = _read_tokens()
        _thread.checked_at = now
    return _thread.tokens


def _recheck_soon() -> None:
    _thread.checked_at = None


def bump(name: str, *, using=None) -> None:
    """Give ``name`` a new token in the current transaction (it commits with the change)."""
    from .models import CacheVersion

    manager = CacheVersion.objects.db_manager(using)
    if not manager.filter(name=name).update(version=_new_token()):
        manager.bulk_create([CacheVersion(name=name, version=_new_token())], ignore_conflicts=True)
        manager.filter(name=name).update(version=_new_token())
    _recheck_soon()
    # After commit every thread of this process should look again soon; this one at once.
    transaction.on_commit(_recheck_soon, using=using)


def clear_all() -> None:
    """Forget every loaded value in this process (tests start from a clean slate)."""
    for cache in _registry.values():
        cache.forget()
    _recheck_soon()


class ProcessCache:
    """``load()``'s result, kept per process until one of ``models`` changes.

    ``load`` returns an immutable value (tuples, frozen dataclasses, or model instances
    the callers promise not to change).
    """

    def __init__(self, name: str, load, *, models):
        if name in _registry:
            raise ValueError(f"A process cache named {name!r} already exists.")
        self.name = name
        self.load = load
        self._lock = threading.Lock()
        self._value = None
        self._token = None
        for model in models:
            uid = f"process-cache:{name}:{model._meta.label}"
            post_save.connect(self._changed, sender=model, weak=False, dispatch_uid=uid)
            post_delete.connect(self._changed, sender=model, weak=False, dispatch_uid=uid)
        _registry[name] = self

    def _changed(self, sender, using=None, **kwargs):
        self.invalidate(using=using)

    def invalidate(self, *, using=None) -> None:
        """Say that the data changed (signals do it for saves and deletes)."""
        self.forget()
        bump(self.name, using=using)

    def forget(self) -> None:
        with self._lock:
            self._value, self._token = None, None

    def get(self):
        token = _tokens().get(self.name, 0)
        with self._lock:
            if self._token == token:
                return self._value
        value = self.load()
        with self._lock:
            self._value, self._token = value, token
        return value
