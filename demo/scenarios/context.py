"""What the scenarios share while the demo loads."""

import random
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class DemoContext:
    now: datetime
    seed: int = 7
    orders: int = 2000
    skus: int = 200
    customers: int = 600
    # Filled by the scenarios as they run (warehouses, skus, channels, customers, ...).
    world: dict = field(default_factory=dict)

    def rng(self, name: str) -> random.Random:
        """A random stream of its own per scenario, so adding one changes no other."""
        return random.Random(f"{self.seed}-{name}")
