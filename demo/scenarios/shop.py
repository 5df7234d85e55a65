"""The shop itself: warehouses, suppliers, catalogue, channels, customers, rates, rules."""

from ..world import load_world


def load(context) -> str | None:
    world = load_world(
        skus=context.skus, customers=context.customers, seed=context.seed, now=context.now
    )
    context.world.update(world)
    if not world["created"]:
        return None
    return (
        f"{len(world['warehouses'])} warehouses, {len(world['skus'])} SKUs, "
        f"{len(world['channels'])} channels, {len(world['customers'])} customers, "
        f"{world['rates']} new exchange rates"
    )
