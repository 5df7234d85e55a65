"""The stock audit: do the levels agree with the ledger and with what is promised?

- every ``StockLevel``'s on_hand and allocated equal the sums of its ledger rows;
- every level's allocated equals the open order allocations plus active checkout holds
  at that SKU and warehouse;
- no level breaks ``0 <= allocated <= on_hand``.
It lives in orders because "what is promised" includes order allocations.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Sum

from inventory.models import Reservation, StockLevel, StockMovement

from .models import Allocation


@dataclass(frozen=True)
class Mismatch:
    sku: str
    warehouse: str
    what: str
    level: int
    expected: int

    def __str__(self):
        return f"{self.sku}@{self.warehouse}: {self.what} is {self.level}, expected {self.expected}"


def audit_stock() -> list[Mismatch]:
    ledger = {
        (row["sku_id"], row["warehouse_id"]): (row["on_hand"] or 0, row["allocated"] or 0)
        for row in StockMovement.objects.values("sku_id", "warehouse_id").annotate(
            on_hand=Sum("on_hand_change"), allocated=Sum("allocated_change")
        )
    }
    promised = defaultdict(int)
    for row in (
        Allocation.objects.filter(warehouse__isnull=False)
        .values("line__sku_id", "warehouse_id")
        .annotate(units=Sum("quantity"))
    ):
        promised[(row["line__sku_id"], row["warehouse_id"])] += row["units"]
    for row in (
        Reservation.objects.filter(status=Reservation.Status.ACTIVE)
        .values("sku_id", "warehouse_id")
        .annotate(units=Sum("quantity"))
    ):
        promised[(row["sku_id"], row["warehouse_id"])] += row["units"]

    mismatches = []
    seen = set()
    levels = StockLevel.objects.select_related("sku", "warehouse").order_by("pk")
    for level in levels.iterator(chunk_size=2000):
        key = (level.sku_id, level.warehouse_id)
        seen.add(key)
        on_hand, allocated = ledger.get(key, (0, 0))
        label = (level.sku.code, level.warehouse.code)
        if level.on_hand != on_hand:
            mismatches.append(Mismatch(*label, "on_hand vs ledger", level.on_hand, on_hand))
        if level.allocated != allocated:
            mismatches.append(Mismatch(*label, "allocated vs ledger", level.allocated, allocated))
        if level.allocated != promised.get(key, 0):
            mismatches.append(
                Mismatch(
                    *label, "allocated vs open allocations", level.allocated, promised.get(key, 0)
                )
            )
        if not 0 <= level.allocated <= level.on_hand:
            mismatches.append(
                Mismatch(*label, "allocated within on_hand", level.allocated, level.on_hand)
            )
    for key in set(ledger) - seen:
        if ledger[key] != (0, 0):
            mismatches.append(
                Mismatch(str(key[0]), str(key[1]), "ledger without level", 0, ledger[key][0])
            )
    for key in set(promised) - seen:
        mismatches.append(
            Mismatch(str(key[0]), str(key[1]), "allocations without level", 0, promised[key])
        )
    return mismatches


# --- every audit ------------------------------------------------------------------------
# `oms_audit` runs each registered audit. Apps above orders (returns) register theirs in
# their AppConfig.ready(), so the command never imports them.
AUDITS: dict[str, object] = {}


def register_audit(name: str, audit) -> None:
    """``audit()`` returns a list of problems (anything printable); empty when clean."""
    AUDITS[name] = audit


def run_audits() -> list[str]:
    problems = []
    for name, audit in AUDITS.items():
        problems += [f"{name}: {problem}" for problem in audit()]
    return problems


def _register_builtin_audits():
    from .payments.audit import audit_money

    register_audit("stock", audit_stock)
    register_audit("money", audit_money)


_register_builtin_audits()
