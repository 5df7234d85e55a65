"""Pick lists: waves of allocated orders of one warehouse, scan-verified picking, short
picks.

Creating a wave is one pass over the warehouse's allocations, written in bulk (a pick
list, a shipment per order in state picking, their lines, one order event each) as plain
rows with ``COPY`` on PostgreSQL (``oms_site.bulk_rows``): about 45,000 rows for 5,000
orders (timings in ``bench/README.md``). Orders are locked with
``SKIP LOCKED`` so two people making waves at once split the orders between them instead
of waiting; a database constraint (one open shipment per order and warehouse) keeps an
order off two lists.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory.access import check_warehouse_access
from inventory.models import StockLevel
from oms_site.actors import Actor
from oms_site.bulk_rows import insert_rows
from oms_site.errors import Conflict, NotFound, ValidationFailed
from orders import services as order_services
from orders.models import Allocation, Order, OrderEvent, OrderStatus
from orders.services import editing as order_editing
from orders.services.events import lock_order

from ..models import (
    OPEN_SHIPMENT_STATUSES,
    CarrierAccount,
    PickList,
    PickListLine,
    PickListOrder,
    PickListStatus,
    Shipment,
    ShipmentEvent,
    ShipmentLine,
    ShipmentStatus,
)
from .events import record_shipment_event, run_shipment_transition

PRIORITY_WORDS = ("priority", "express", "expedited", "next day", "overnight")
MAX_ORDERS_PER_LIST = 200


@dataclass
class WaveRules:
    """How a wave is chosen. Everything is optional; the defaults make one list of up to
    20 orders, most urgent first, single-line orders on lists of their own."""

    order_numbers: list[str] = field(default_factory=list)
    ship_by: date | None = None
    priority_only: bool = False
    carrier: CarrierAccount | None = None
    max_orders: int = 20
    max_lines: int = 0
    max_lists: int = 1
    single_line_together: bool = True

    def as_dict(self) -> dict:
        return {
            "order_numbers": list(self.order_numbers),
            "ship_by": self.ship_by.isoformat() if self.ship_by else None,
            "priority_only": self.priority_only,
            "carrier": self.carrier.code if self.carrier else None,
            "max_orders": self.max_orders,
            "max_lines": self.max_lines,
            "max_lists": self.max_lists,
            "single_line_together": self.single_line_together,
        }


@dataclass
class Candidate:
    order_id: int
    number: str
    placed_at: datetime | None
    ship_by: date
    priority: bool
    shipping_method: str
    lines: list = field(default_factory=list)  # (line_id, sku_id, quantity)


def ship_by_date(placed_at, warehouse) -> date:
    """The day an order is due to leave: the day it was placed, or the next day when it
    came in after the warehouse's cut-off time (local time)."""
    moment = timezone.localtime(placed_at) if placed_at else timezone.localtime()
    day = moment.date()
    if warehouse.cutoff_time and moment.time() > warehouse.cutoff_time:
        day += timedelta(days=1)
    return day


def is_priority(tags, shipping_method: str) -> bool:
    words = " ".join([*(str(t) for t in (tags or [])), shipping_method or ""]).lower()
    return any(word in words for word in PRIORITY_WORDS)


def _validate(rules: WaveRules) -> None:
    for name in ("max_orders", "max_lines", "max_lists"):
        value = getattr(rules, name)
        if not isinstance(value, int) or value < 0:
            raise ValidationFailed(
                f"{name} must be zero or more.", fields={name: ["Must be >= 0."]}
            )
    if rules.max_orders == 0 or rules.max_orders > MAX_ORDERS_PER_LIST:
        raise ValidationFailed(
            f"A pick list holds 1 to {MAX_ORDERS_PER_LIST} orders.",
            fields={"max_orders": [f"Between 1 and {MAX_ORDERS_PER_LIST}."]},
        )


def _candidates(warehouse, rules: WaveRules) -> list[Candidate]:
    open_shipment = Shipment.objects.filter(
        order_id=OuterRef("line__order_id"),
        warehouse=warehouse,
        status__in=OPEN_SHIPMENT_STATUSES,
    )
    allocations = (
        Allocation.objects.filter(
            warehouse=warehouse,
            line__order__status__in=[OrderStatus.ALLOCATED, OrderStatus.PARTIALLY_SHIPPED],
        )
        .filter(~Exists(open_shipment))
        .order_by("line__order_id", "line_id")
    )
    if rules.order_numbers:
        allocations = allocations.filter(line__order__number__in=rules.order_numbers)
    rows = allocations.values_list(
        "line__order_id",
        "line__order__number",
        "line__order__placed_at",
        "line__order__tags",
        "line__order__shipping_method",
        "line_id",
        "line__sku_id",
        "quantity",
    )
    by_order: dict[int, Candidate] = {}
    for order_id, number, placed_at, tags, method, line_id, sku_id, quantity in rows.iterator(
        chunk_size=5000
    ):
        candidate = by_order.get(order_id)
        if candidate is None:
            candidate = by_order[order_id] = Candidate(
                order_id=order_id,
                number=number,
                placed_at=placed_at,
                ship_by=ship_by_date(placed_at, warehouse),
                priority=is_priority(tags, method),
                shipping_method=method or "",
            )
        if candidate.lines and candidate.lines[-1][0] == line_id:
            # Two allocations of one line at the same warehouse: one pick line.
            last = candidate.lines[-1]
            candidate.lines[-1] = (line_id, sku_id, last[2] + quantity)
        else:
            candidate.lines.append((line_id, sku_id, quantity))
    candidates = list(by_order.values())
    if rules.ship_by:
        candidates = [c for c in candidates if c.ship_by <= rules.ship_by]
    if rules.priority_only:
        candidates = [c for c in candidates if c.priority]
    if rules.carrier is not None:
        methods = {
            m.lower()
            for service in rules.carrier.services.filter(active=True)
            for m in service.shipping_methods
        }
        candidates = [c for c in candidates if c.shipping_method.lower() in methods]
    candidates.sort(
        key=lambda c: (c.ship_by, not c.priority, c.placed_at or timezone.now(), c.order_id)
    )
    return candidates


def _lock_free_orders(candidates: list[Candidate], warehouse) -> list[Candidate]:
    """Keep the candidates whose order rows we could lock now (others are being worked on
    by someone else: another wave, a cancel) and that still wait to be picked here. A
    wave that committed between our read of the candidates and our lock has given some
    of them a shipment: once the rows are ours, a new statement sees it. SQLite has no
    row locks: it serialises writers anyway."""
    if connection.vendor != "postgresql" or not candidates:
        return candidates
    ids = [c.order_id for c in candidates]
    kept = set()
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        locked = list(
            Order.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk__in=chunk, status__in=[OrderStatus.ALLOCATED, OrderStatus.PARTIALLY_SHIPPED])
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        taken = Shipment.objects.filter(
            order_id__in=locked, warehouse=warehouse, status__in=OPEN_SHIPMENT_STATUSES
        ).values_list("order_id", flat=True)
        kept.update(set(locked) - set(taken))
    return [c for c in candidates if c.order_id in kept]


def _chunks(candidates: list[Candidate], rules: WaveRules) -> list[list[Candidate]]:
    groups = [candidates]
    if rules.single_line_together:
        single = [c for c in candidates if len(c.lines) == 1]
        multi = [c for c in candidates if len(c.lines) > 1]
        groups = [g for g in (single, multi) if g]
    chunks = []
    for group in groups:
        current, lines = [], 0
        for candidate in group:
            too_many_lines = rules.max_lines and lines + len(candidate.lines) > rules.max_lines
            if current and (len(current) >= rules.max_orders or too_many_lines):
                chunks.append(current)
                current, lines = [], 0
            current.append(candidate)
            lines += len(candidate.lines)
        if current:
            chunks.append(current)
    # The most urgent chunk first, whichever group it is in.
    chunks.sort(key=lambda chunk: (chunk[0].ship_by, not chunk[0].priority))
    if rules.max_lists:
        chunks = chunks[: rules.max_lists]
    return chunks


@transaction.atomic
def create_pick_lists(*, warehouse, actor: Actor, rules: WaveRules | None = None, assign_to=None):
    """Make pick lists from the warehouse's allocated orders by ``rules``. Returns the new
    lists (none when no order qualifies)."""
    rules = rules or WaveRules()
    _validate(rules)
    candidates = _lock_free_orders(_candidates(warehouse, rules), warehouse)
    if rules.order_numbers and not candidates:
        raise Conflict(
            "None of these orders has units allocated at "
            f"{warehouse.code} waiting to be picked: " + ", ".join(rules.order_numbers[:10]),
            fields={"orders": ["Nothing to pick here."]},
            code="nothing_to_pick",
        )
    chunks = _chunks(candidates, rules)
    if not chunks:
        return []
    return _write(warehouse, chunks, rules=rules, actor=actor, assign_to=assign_to)


def _write(warehouse, chunks, *, rules, actor, assign_to) -> list[PickList]:
    now = timezone.now()
    sku_ids = {sku_id for chunk in chunks for c in chunk for _l, sku_id, _q in c.lines}
    bins = {
        sku_id: (bin_id, code or "", sequence or 0)
        for sku_id, bin_id, code, sequence in StockLevel.objects.filter(
            warehouse=warehouse, sku_id__in=sku_ids
        ).values_list("sku_id", "bin_id", "bin__code", "bin__pick_sequence")
    }
    pick_lists = PickList.objects.bulk_create(
        [
            PickList(
                warehouse=warehouse,
                assigned_to=assign_to,
                rules=rules.as_dict() | {"orders": len(chunk)},
                created_by=actor.label[:150],
            )
            for chunk in chunks
        ]
    )
    flat = [
        (pick_list, c) for pick_list, chunk in zip(pick_lists, chunks, strict=True) for c in chunk
    ]
    # Rows, not model instances: a wave of 5,000 orders writes about 45,000 of them.
    shipment_ids = insert_rows(
        Shipment,
        [
            {"order_id": c.order_id, "warehouse_id": warehouse.pk, "status": ShipmentStatus.PICKING}
            for _pl, c in flat
        ],
        ids=True,
    )
    slots = defaultdict(int)
    entry_rows = []
    for (pick_list, candidate), shipment_id in zip(flat, shipment_ids, strict=True):
        slots[pick_list.pk] += 1
        entry_rows.append(
            {
                "pick_list_id": pick_list.pk,
                "order_id": candidate.order_id,
                "shipment_id": shipment_id,
                "tote_slot": slots[pick_list.pk],
            }
        )
    entry_ids = insert_rows(PickListOrder, entry_rows, ids=True)
    actor_label = actor.label[:150]
    pick_lines, shipment_lines, shipment_events, order_events = [], [], [], []
    for (pick_list, candidate), entry_id, entry, shipment_id in zip(
        flat, entry_ids, entry_rows, shipment_ids, strict=True
    ):
        for line_id, sku_id, quantity in candidate.lines:
            bin_id, bin_code, sequence = bins.get(sku_id, (None, "", 0))
            pick_lines.append(
                {
                    "pick_list_id": pick_list.pk,
                    "pick_order_id": entry_id,
                    "order_line_id": line_id,
                    "sku_id": sku_id,
                    "bin_id": bin_id,
                    "bin_code": bin_code,
                    "pick_sequence": sequence,
                    "quantity": quantity,
                }
            )
            shipment_lines.append(
                {"shipment_id": shipment_id, "order_line_id": line_id, "quantity": quantity}
            )
        list_number, shipment_number = pick_list.number, Shipment.number_for(shipment_id)
        message = f"On pick list {list_number} at {warehouse.code}, tote slot {entry['tote_slot']}"
        shipment_events.append(
            {
                "shipment_id": shipment_id,
                "kind": ShipmentEvent.Kind.CREATED,
                "to_status": ShipmentStatus.PICKING,
                "message": message,
                "occurred_at": now,
                "actor_label": actor_label,
                "actor_user_id": actor.user_id,
            }
        )
        order_events.append(
            {
                "order_id": candidate.order_id,
                "kind": OrderEvent.Kind.NOTE,
                "message": f"Picking: {message} (shipment {shipment_number})",
                "details": {"pick_list": list_number, "shipment": shipment_number},
                "actor_kind": actor.kind,
                "actor_label": actor_label,
                "actor_user_id": actor.user_id,
            }
        )
    insert_rows(PickListLine, pick_lines)
    insert_rows(ShipmentLine, shipment_lines)
    insert_rows(ShipmentEvent, shipment_events)
    insert_rows(OrderEvent, order_events)
    return pick_lists


# --- working a list --------------------------------------------------------------------------


@dataclass
class ScanResult:
    ok: bool
    message: str
    kind: str = ""  # "bin" | "item" | "done" | "error"
    line: PickListLine | None = None
    done: bool = False
    # After a scan that reached the list: the locked list and its first open lines as
    # they are now (at least SCAN_HEAD - 1 when more follow), so the pick screen
    # re-renders without reading them again.
    pick_list: PickList | None = None
    open_lines: list[PickListLine] | None = None


def _lock_pick_list(pick_list_or_id) -> PickList:
    pk = pick_list_or_id.pk if isinstance(pick_list_or_id, PickList) else pick_list_or_id
    pick_list = (
        PickList.objects.select_for_update(of=("self",))
        .select_related("warehouse")
        .filter(pk=pk)
        .first()
    )
    if pick_list is None:
        raise NotFound(f"Pick list {pk} does not exist.")
    return pick_list


def open_lines_query(pick_list):
    """Lines still to pick, in walking order (lines of cancelled shipments are void).
    Filtered in the database: a scan reads only what is left, not the whole list."""
    return (
        pick_list.lines.filter(quantity__gt=F("quantity_picked") + F("quantity_short"))
        .exclude(pick_order__shipment__status=ShipmentStatus.CANCELLED)
        .select_related("sku__product", "pick_order")
        .annotate(order_number=F("pick_order__order__number"))
        .order_by("pick_sequence", "bin_code", "id")
    )


def _mark_picking_started(pick_list_id, actor) -> None:
    """Picking starts with the first scan or short of a list: its orders can't be edited
    from then on. The orders are locked (pk order) before the list, as every path that
    locks an order and a list does, so an edit in flight finishes first, and the scan
    then reads the lines it left."""
    pick_list = PickList.objects.filter(pk=pick_list_id).only("pk", "status").first()
    if pick_list is None or pick_list.status != PickListStatus.OPEN:
        return
    entries = PickListOrder.objects.filter(pick_list_id=pick_list_id)

    def still_on_list(order_ids):
        return (
            entries.filter(order_id__in=order_ids)
            .exclude(shipment__status=ShipmentStatus.CANCELLED)
            .values_list("order_id", flat=True)
        )

    order_editing.mark_picking_started(
        entries.values_list("order_id", flat=True),
        actor=actor,
        pick_list=pick_list.number,
        still_on_list=still_on_list,
    )


def _start(pick_list, actor):
    if pick_list.status == PickListStatus.OPEN:
        pick_list.start()
        pick_list.started_at = timezone.now()
        pick_list.save(update_fields=["status", "started_at"])


def _finish_if_done(pick_list, actor) -> bool:
    if open_lines_query(pick_list).exists():
        return False
    _complete(pick_list)
    return True


def _complete(pick_list) -> None:
    pick_list.complete()
    pick_list.completed_at = timezone.now()
    pick_list.save(update_fields=["status", "completed_at"])


def _ensure_workable(pick_list):
    if not pick_list.is_active:
        raise Conflict(
            _("Pick list %(number)s is %(status)s.")
            % {"number": pick_list.number, "status": pick_list.get_status_display().lower()},
            fields={"status": ["Not open."]},
        )


def _matches_item(sku, code: str) -> bool:
    code = code.upper()
    return code == (sku.barcode or "").upper() or code == sku.code.upper()


@transaction.atomic
def scan_pick(pick_list, *, code: str, actor: Actor) -> ScanResult:
    """One scan on the pick screen: a bin (the picker is there) or an item (one unit
    picked into its tote). A wrong bin or a wrong item is refused and nothing changes."""
    code = (code or "").strip()
    if not code:
        return ScanResult(False, _("Nothing scanned."), kind="error")
    if pick_list.status == PickListStatus.OPEN:  # a list never goes back to open
        _mark_picking_started(pick_list.pk, actor)
    pick_list = _lock_pick_list(pick_list)
    _ensure_workable(pick_list)
    lines, head = _lines_for_scan(pick_list, code)
    result = _scan_lines(pick_list, lines, code=code, actor=actor)
    result.pick_list = pick_list
    result.open_lines = [line for line in head if line.quantity_open > 0]
    return result


# The open lines a scan reads from the top of the list: the current stop and the next
# ones (more than the pick screen shows, so it still knows whether more follow).
SCAN_HEAD = 10


def _lines_for_scan(pick_list, code: str):
    """What a scan decides on: the first open lines (``head``), and the open lines
    anywhere on the list at the current bin, at the scanned bin or of the scanned item.
    For the rules of ``_scan_lines`` that is as good as every open line, and a 400-line
    list reads a dozen rows, not 400. Returns (those lines in walking order, head)."""
    query = open_lines_query(pick_list)
    head = list(query[:SCAN_HEAD])
    if len(head) < SCAN_HEAD:
        return head, head  # every open line
    relevant = Q(bin_code=head[0].bin_code) | Q(bin_code__iexact=code) | Q(sku__code__iexact=code)
    relevant |= Q(sku__barcode__iexact=code)
    more = list(query.filter(relevant).exclude(pk__in=[line.pk for line in head]))
    lines = sorted(head + more, key=lambda line: (line.pick_sequence, line.bin_code, line.pk))
    return lines, head


def _scan_lines(pick_list, lines, *, code: str, actor: Actor) -> ScanResult:
    """The scan against the list's open lines (read under the list's lock); the lines in
    memory are kept as the database now has them."""
    if not lines:
        return ScanResult(True, _("Everything is picked."), kind="done", done=True)
    current = lines[0]
    upper = code.upper()
    at_bin = [line for line in lines if line.bin_code and line.bin_code.upper() == upper]
    if at_bin:
        if at_bin[0].bin_code != current.bin_code:
            return ScanResult(
                False,
                _("Wrong bin %(scanned)s: go to %(expected)s.")
                % {"scanned": code, "expected": current.bin_code or "-"},
                kind="error",
                line=current,
            )
        PickListLine.objects.filter(pk__in=[line.pk for line in at_bin]).update(bin_confirmed=True)
        for line in at_bin:
            line.bin_confirmed = True
        _start(pick_list, actor)
        return ScanResult(
            True,
            _("Bin %(bin)s: pick %(quantity)s x %(sku)s.")
            % {"bin": current.bin_code, "quantity": current.quantity_open, "sku": current.sku.code},
            kind="bin",
            line=current,
        )
    # An item: it must be the current bin's SKU, and the bin must have been scanned.
    here = [line for line in lines if line.bin_code == current.bin_code]
    matching = [line for line in here if _matches_item(line.sku, code)]
    if not matching:
        elsewhere = any(_matches_item(line.sku, code) for line in lines)
        message = (
            _("Not this item: pick %(sku)s from %(bin)s first.")
            if elsewhere
            else _("Wrong item %(scanned)s: expected %(sku)s.")
        )
        return ScanResult(
            False,
            message % {"scanned": code, "sku": current.sku.code, "bin": current.bin_code or "-"},
            kind="error",
            line=current,
        )
    line = matching[0]
    if line.bin_code and not line.bin_confirmed:
        return ScanResult(
            False,
            _("Scan bin %(bin)s first.") % {"bin": line.bin_code},
            kind="error",
            line=line,
        )
    line.quantity_picked += 1
    line.save(update_fields=["quantity_picked"])
    _start(pick_list, actor)
    # The list is locked; when another line is open it is among these: done when none is.
    done = all(other.quantity_open == 0 for other in lines)
    if done:
        _complete(pick_list)
    message = _("%(sku)s %(picked)s/%(quantity)s into slot %(slot)s.") % {
        "sku": line.sku.code,
        "picked": line.quantity_picked,
        "quantity": line.quantity - line.quantity_short,
        "slot": line.pick_order.tote_slot,
    }
    if done:
        message += " " + _("Pick list complete: take the totes to packing.")
    return ScanResult(True, message, kind="item", line=line, done=done)


@transaction.atomic
def short_pick(pick_list, *, line_id: int, missing: int, actor: Actor) -> PickListLine:
    """The bin holds fewer units than the line needs: the missing units are deallocated
    and written off at that warehouse (ledger), the order's open units go back to routing
    (another warehouse, or backorder), and the shipment carries only what was found."""
    line = (
        PickListLine.objects.select_related("pick_order__shipment", "order_line", "sku")
        .filter(pk=line_id, pick_list_id=pick_list.pk)
        .first()
    )
    if line is None:
        raise NotFound(f"Line {line_id} is not on pick list {pick_list.number}.")
    _mark_picking_started(pick_list.pk, actor)
    order = lock_order(line.pick_order.order_id)
    pick_list = _lock_pick_list(pick_list)
    _ensure_workable(pick_list)
    line = PickListLine.objects.select_for_update(of=("self",)).get(pk=line.pk)
    if (
        not isinstance(missing, int)
        or isinstance(missing, bool)
        or not 0 < missing <= line.quantity_open
    ):
        raise ValidationFailed(
            f"Between 1 and {line.quantity_open} unit(s) can be reported missing.",
            fields={"missing": [f"Between 1 and {line.quantity_open}."]},
        )
    shipment = Shipment.objects.select_for_update(of=("self",)).get(pk=line.pick_order.shipment_id)
    line.quantity_short += missing
    line.save(update_fields=["quantity_short"])
    shipment_line = shipment.lines.select_for_update(of=("self",)).get(
        order_line_id=line.order_line_id
    )
    shipment_line.quantity -= missing
    if shipment_line.quantity == 0:
        shipment_line.delete()
    else:
        shipment_line.save(update_fields=["quantity"])
    where = (
        f"{pick_list.warehouse.code}/{line.bin_code}" if line.bin_code else pick_list.warehouse.code
    )
    note = f"Short pick at {where} on {pick_list.number}"
    order_services.deallocate_units(
        order,
        line_id=line.order_line_id,
        warehouse_id=pick_list.warehouse_id,
        quantity=missing,
        actor=actor,
        write_off_note=note,
    )
    shipment.order = order
    record_shipment_event(
        shipment,
        kind=ShipmentEvent.Kind.NOTE,
        actor=actor,
        message=f"{missing} x {line.sku.code} short at {where}; sent back to routing",
    )
    if not shipment.lines.exists():
        run_shipment_transition(
            shipment, "cancel", actor=actor, message="Cancelled: nothing was found to ship"
        )
    _start(pick_list, actor)
    _finish_if_done(pick_list, actor)
    return line


@transaction.atomic
def assign_pick_list(pick_list, *, user, actor: Actor) -> PickList:
    pick_list = _lock_pick_list(pick_list)
    _ensure_workable(pick_list)
    if user is not None:
        check_warehouse_access(user, pick_list.warehouse)
    pick_list.assigned_to = user
    pick_list.save(update_fields=["assigned_to"])
    return pick_list


@transaction.atomic
def cancel_pick_list(pick_list, *, actor: Actor) -> PickList:
    """Give a list up: its shipments not yet packed are cancelled, so their orders can be
    put on another list (units already in totes go back to their bins), and orders no
    other list works on may be edited again."""
    giving_up = Shipment.objects.filter(
        pick_list_entry__pick_list_id=pick_list.pk,
        status__in=[ShipmentStatus.DRAFT, ShipmentStatus.PICKING],
    )

    def idle(order_ids):
        busy = (
            Shipment.objects.filter(
                order_id__in=order_ids,
                status__in=[ShipmentStatus.PICKING, ShipmentStatus.PACKED],
            )
            .exclude(pk__in=giving_up.values("pk"))
            .values_list("order_id", flat=True)
        )
        return set(order_ids) - set(busy)

    # Orders before the list: the lock order of scans and short picks.
    order_editing.mark_picking_stopped(
        PickListOrder.objects.filter(pick_list_id=pick_list.pk).values_list("order_id", flat=True),
        actor=actor,
        pick_list=pick_list.number,
        idle=idle,
    )
    pick_list = _lock_pick_list(pick_list)
    _ensure_workable(pick_list)
    for entry in pick_list.orders.select_related("shipment__order__channel"):
        shipment = Shipment.objects.select_for_update(of=("self",)).get(pk=entry.shipment_id)
        if shipment.status in (ShipmentStatus.DRAFT, ShipmentStatus.PICKING):
            shipment.order = entry.shipment.order
            run_shipment_transition(
                shipment,
                "cancel",
                actor=actor,
                message=f"Cancelled with pick list {pick_list.number}",
            )
    pick_list.cancel()
    pick_list.save(update_fields=["status"])
    return pick_list
