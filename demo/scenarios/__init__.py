"""Demo scenarios, loaded in this order by ``manage.py load_demo``.

Each scenario is a module with a ``load(context) -> str | None`` function that is
idempotent (a second run adds nothing) and returns a one-line summary of what it added, or
None when it added nothing. A new capability adds its demo
as a module here and appends it to ``SCENARIOS``; it may use what earlier scenarios put in
``context.world``.
"""

from . import (
    editing,
    forecasting,
    fulfillment,
    marketplaces,
    money,
    order_history,
    recent,
    returns,
    shop,
)

SCENARIOS = [
    shop,
    order_history,
    money,
    fulfillment,
    recent,
    forecasting,
    marketplaces,
    returns,
    editing,
]

__all__ = ["SCENARIOS"]
