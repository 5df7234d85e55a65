"""Sales channels as (code, label) choices for the base layer's own pages (API keys are
scoped by channel code). Channels belong to the orders app, which the base layer must not
import: orders registers the provider when it starts (``OrdersConfig.ready``)."""

from collections.abc import Callable

_provider: Callable[[], list[tuple[str, str]]] | None = None


def register(provider: Callable[[], list[tuple[str, str]]]) -> None:
    global _provider
    _provider = provider


def channel_choices() -> list[tuple[str, str]]:
    return _provider() if _provider is not None else []
