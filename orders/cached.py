"""Per-process copies of the sales channels and hold rules, which every order placement
reads (see ``oms_site.process_cache`` for how they notice changes)."""

import copy

from oms_site.process_cache import ProcessCache

from .models import HoldRule, SalesChannel

_channels = ProcessCache(
    "orders.channels",
    lambda: {channel.code: channel for channel in SalesChannel.objects.all()},
    models=[SalesChannel],
)
_hold_rules = ProcessCache(
    "orders.hold_rules",
    lambda: tuple(HoldRule.objects.filter(enabled=True).order_by("pk")),
    models=[HoldRule],
)


def channel(code) -> SalesChannel | None:
    """The channel with this code: a private copy the caller may keep or change."""
    found = _channels.get().get(code)
    return copy.copy(found) if found is not None else None


def enabled_hold_rules() -> tuple[HoldRule, ...]:
    """The enabled pre-fulfillment checks (shared: read, don't change)."""
    return _hold_rules.get()
