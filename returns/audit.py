"""The returns audit (part of ``oms_audit``):

- every ``return_restock`` ledger movement of one of our orders has the return line it
  restocked (movements of references that name no order here — imported history,
  synthetic demand — are not ours to check), and that line's SKU, warehouse and units;
- every line inspected as restock has its movement;
- no order line has more units returned than shipped, and no return line more units
  received than announced.
"""

from django.db.models import F

from inventory.models import MovementReason, StockMovement
from orders.models import Order, OrderLine

from .models import InspectionOutcome, ReturnLine

ORDER_PREFIX = "order:"


def _movement_problems() -> list[str]:
    problems = []
    movements = list(
        StockMovement.objects.filter(reason=MovementReason.RETURN_RESTOCK).values(
            "pk", "reference", "sku_id", "warehouse_id", "on_hand_change"
        )
    )
    numbers = {
        m["reference"][len(ORDER_PREFIX) :]
        for m in movements
        if m["reference"].startswith(ORDER_PREFIX)
    }
    ours = set(Order.objects.filter(number__in=numbers).values_list("number", flat=True))
    linked = {
        line.restock_movement_id: line
        for line in ReturnLine.objects.filter(restock_movement__isnull=False).select_related(
            "order_line", "request__order"
        )
    }
    for movement in movements:
        line = linked.get(movement["pk"])
        reference = movement["reference"]
        if line is None:
            if reference[len(ORDER_PREFIX) :] in ours and reference.startswith(ORDER_PREFIX):
                problems.append(
                    f"restock movement #{movement['pk']} ({reference}) has no return line"
                )
            continue
        label = f"{line.request.number} line {line.pk}"
        if (movement["sku_id"], movement["warehouse_id"]) != (
            line.order_line.sku_id,
            line.request.warehouse_id,
        ):
            problems.append(f"{label}: its movement is of another SKU or warehouse")
        if movement["on_hand_change"] != line.quantity_received:
            problems.append(
                f"{label}: restocked {movement['on_hand_change']}, received "
                f"{line.quantity_received}"
            )
        if reference != f"{ORDER_PREFIX}{line.request.order.number}":
            problems.append(f"{label}: its movement names {reference}")
    for line in ReturnLine.objects.filter(
        outcome=InspectionOutcome.RESTOCK, restock_movement__isnull=True
    ).select_related("request"):
        problems.append(f"{line.request.number} line {line.pk}: restocked without a movement")
    return problems


def _quantity_problems() -> list[str]:
    problems = [
        f"order line {pk}: {returned} returned of {shipped} shipped"
        for pk, returned, shipped in OrderLine.objects.filter(
            quantity_returned__gt=F("quantity_shipped")
        ).values_list("pk", "quantity_returned", "quantity_shipped")
    ]
    problems += [
        f"return line {pk}: {received} received of {quantity} announced"
        for pk, received, quantity in ReturnLine.objects.filter(
            quantity_received__gt=F("quantity")
        ).values_list("pk", "quantity_received", "quantity")
    ]
    return problems


def audit_returns() -> list[str]:
    return _movement_problems() + _quantity_problems()
