"""A year of orders in every status, with the ledger that backs them (written once)."""

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
    return (
        f"{counts.orders} orders ({counts.lines} lines, {counts.events} events, "
        f"{len(counts.statuses)} statuses), {counts.levels} stock levels, "
        f"{counts.movements} ledger rows"
    )
