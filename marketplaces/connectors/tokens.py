"""Short-lived access tokens, refreshed once for every worker.

The token is kept (encrypted) on the connection row, so a refresh made by one worker
serves all of them; each process also remembers it until shortly before it expires, so
a page of calls costs no database read. A refresh locks the connection row: two workers
that find the token expired at the same moment refresh it once.
"""

import threading
import time

from django.db import transaction
from django.utils import timezone

_memo: dict[int, tuple[str, float]] = {}
_memo_lock = threading.Lock()
EARLY_SECONDS = 60


def access_token(connection, *, refresh: bool, fetch) -> str:
    """``fetch() -> (token, expires_in_seconds)`` asks the marketplace for a new token."""
    from ..models import MarketplaceConnection

    now = time.time()
    if not refresh:
        with _memo_lock:
            memo = _memo.get(connection.pk)
        if memo and memo[1] - EARLY_SECONDS > now:
            return memo[0]
    stale = _memo.get(connection.pk, ("", 0))[0] if refresh else None
    with transaction.atomic():
        locked = MarketplaceConnection.objects.select_for_update(of=("self",)).get(pk=connection.pk)
        cache = locked.token_cache or {}
        expires_at = cache.get("expires_at", 0)
        usable = cache.get("access_token") and expires_at - EARLY_SECONDS > now
        # Another worker may have refreshed while we waited for the lock.
        if usable and (not refresh or cache["access_token"] != stale):
            token = cache["access_token"]
        else:
            token, expires_in = fetch()
            expires_at = now + float(expires_in)
            locked.token_cache = {
                "access_token": token,
                "expires_at": expires_at,
                "refreshed_at": timezone.now().isoformat(),
            }
            MarketplaceConnection.objects.filter(pk=locked.pk).update(
                token_cache=locked.token_cache
            )
    with _memo_lock:
        _memo[connection.pk] = (token, expires_at)
    return token


def forget(connection_id: int) -> None:
    with _memo_lock:
        _memo.pop(connection_id, None)
