"""A year of orders in every status, with the ledger that backs them (written once)."""

from datetime import timedelta

from orders.services.reporting import rebuild_sales

from ..history import HistoryWriter, demo_loaded


def load(context) -> str | None:
    if demo_loaded():
        return None
    world = context.world
    writer = HistoryWriter(
        warehouses=world["warehouses"],
        skus=world["skus"],
        channels=world["channels"],
        customers=world["customers"],
        now=context.now,
        seed=context.seed,
        ship_movements=True,
    )
    counts = writer.write(context.orders)
    # The history is written in bulk, past the services: build the home page's rollup.
    rebuild_sales(first=(context.now - timedelta(days=400)).date(), last=context.now.date())
    return (
        f"{counts.orders} orders ({counts.lines} lines, {counts.events} events, "
        f"{len(counts.statuses)} statuses), {counts.levels} stock levels, "
        f"{counts.movements} ledger rows"
    )
