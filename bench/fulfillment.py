"""Fulfillment: making pick lists for 5,000 allocated orders in one warehouse, and the
scan round trip on the pick screen.

- **Pick-list creation** (target ≤ 2 s for 5,000 orders): ``create_pick_lists`` with
  waves of 50 orders over one warehouse's freshly allocated orders, beside a baseline in
  the same run: the same rows (lists, tote entries, shipments, their lines and events, pick
  lines, order events) bulk-inserted with no reads and no decisions, rolled back — the
  floor any implementation that writes them pays.
- **Scan round trip** (target p95 ≤ 50 ms at the server): a logged-in picker's scans
  (bin, then each unit) POSTed to the pick screen's scan endpoint of a real gunicorn, one
  after another, as the page's script sends them; baseline: ``GET /healthz`` on the same
  server in the same run.
"""

import http.client
import random
import secrets
import time
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Sum

from .common import Client, Gunicorn, RunResult, header, percentile, ratio
from .data import ACTOR, ensure_places, ensure_skus, stock_up, web_channel

WAREHOUSE = "ber"


def _assign_bins(warehouse, skus):
    from inventory.models import Bin, StockLevel

    bins = list(Bin.objects.filter(warehouse=warehouse).order_by("pick_sequence"))
    levels = list(StockLevel.objects.filter(warehouse=warehouse, sku__in=skus, bin__isnull=True))
    for n, level in enumerate(levels):
        level.bin = bins[n % len(bins)]
    StockLevel.objects.bulk_update(levels, ["bin"])


def allocated_orders(count: int, *, seed: int) -> int:
    """``count`` orders allocated at Berlin, written in bulk with their allocation ledger
    rows (so the stock audit stays clean): 1-3 lines, 1-2 units each, a third single-line."""
    from inventory.models import MovementReason, StockLevel, StockMovement, Warehouse
    from orders.models import Allocation, Order, OrderLine, OrderStatus

    warehouse = Warehouse.objects.get(code=WAREHOUSE)
    skus = ensure_skus("FUL", 200)
    stock_up(skus, [WAREHOUSE], at_least=count, fill_to=count * 2)
    _assign_bins(warehouse, skus)
    rng = random.Random(seed)
    channel = web_channel()
    address = {"name": "Bench", "line1": "Street 1", "city": "Berlin", "country": "DE"}
    plans = []
    for _ in range(count):
        n_lines = 1 if rng.random() < 0.35 else rng.randint(2, 3)
        picked = rng.sample(skus, n_lines)
        plans.append([(sku, rng.randint(1, 2)) for sku in picked])
    with transaction.atomic():
        orders = Order.objects.bulk_create(
            [
                Order(
                    channel=channel,
                    status=OrderStatus.ALLOCATED,
                    currency="EUR",
                    subtotal=Decimal(10 * sum(q for _s, q in plan)),
                    grand_total=Decimal(10 * sum(q for _s, q in plan)),
                    shipping_address=address,
                    ship_to_country="DE",
                    placed_at=None,
                    tracking_token=secrets.token_urlsafe(32),
                )
                for plan in plans
            ],
            batch_size=2000,
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE orders_order SET "
                "number = 'SO-' || lpad(id::text, greatest(length(id::text), 7), '0'), "
                "placed_at = created_at WHERE number IS NULL"
            )
        lines = OrderLine.objects.bulk_create(
            [
                OrderLine(
                    order=order,
                    sku=sku,
                    sku_code=sku.code,
                    name=sku.name,
                    quantity=quantity,
                    unit_price=Decimal(10),
                    line_total=Decimal(10 * quantity),
                    quantity_allocated=quantity,
                )
                for order, plan in zip(orders, plans, strict=True)
                for sku, quantity in plan
            ],
            batch_size=5000,
        )
        Allocation.objects.bulk_create(
            [Allocation(line=line, warehouse=warehouse, quantity=line.quantity) for line in lines],
            batch_size=5000,
        )
        numbers = dict(
            Order.objects.filter(pk__in=[o.pk for o in orders]).values_list("pk", "number")
        )
        StockMovement.objects.bulk_create(
            [
                StockMovement(
                    sku_id=line.sku_id,
                    warehouse=warehouse,
                    allocated_change=line.quantity,
                    reason=MovementReason.ALLOCATION,
                    reference=f"order:{numbers[line.order_id]}",
                    actor_label=ACTOR.label,
                )
                for line in lines
            ],
            batch_size=5000,
        )
        per_sku = {}
        for line in lines:
            per_sku[line.sku_id] = per_sku.get(line.sku_id, 0) + line.quantity
        levels = list(
            StockLevel.objects.select_for_update().filter(warehouse=warehouse, sku_id__in=per_sku)
        )
        for level in levels:
            level.allocated += per_sku[level.sku_id]
        StockLevel.objects.bulk_update(levels, ["allocated"])
    return len(orders)


def _floor(lists, *, orders, lines) -> float:
    """The same rows, written the same way (``insert_rows``: COPY on PostgreSQL) with
    nothing read or decided, their foreign keys checked as a commit would, then rolled
    back."""
    from fulfillment.models import (
        PickList,
        PickListLine,
        PickListOrder,
        Shipment,
        ShipmentEvent,
        ShipmentLine,
    )
    from inventory.models import Warehouse
    from oms_site.bulk_rows import insert_rows
    from orders.models import OrderEvent, OrderLine

    warehouse = Warehouse.objects.get(code=WAREHOUSE)
    sample = list(
        OrderLine.objects.filter(allocations__warehouse=warehouse).values_list(
            "pk", "order_id", "sku_id"
        )[:lines]
    )
    from django.utils import timezone

    now = timezone.now()
    started = time.perf_counter()
    with transaction.atomic():
        pick_lists = PickList.objects.bulk_create(
            [PickList(warehouse=warehouse, created_by="floor") for _ in range(lists)]
        )
        order_ids = sorted({o for _l, o, _s in sample})[:orders]
        shipment_ids = insert_rows(
            Shipment,
            [
                {"order_id": o, "warehouse_id": warehouse.pk, "status": "cancelled"}
                for o in order_ids
            ],
            ids=True,
        )
        entries = [
            {
                "pick_list_id": pick_lists[i % lists].pk,
                "order_id": o,
                "shipment_id": s,
                "tote_slot": i // lists + 1,
            }
            for i, (o, s) in enumerate(zip(order_ids, shipment_ids, strict=False))
        ]
        entry_ids = insert_rows(PickListOrder, entries, ids=True)
        entry_of = {e["order_id"]: (e, pk) for e, pk in zip(entries, entry_ids, strict=True)}
        shipment_of = dict(zip(order_ids, shipment_ids, strict=False))
        rows = [(ln, o, sk) for ln, o, sk in sample if o in entry_of]
        insert_rows(
            PickListLine,
            [
                {
                    "pick_list_id": entry_of[o][0]["pick_list_id"],
                    "pick_order_id": entry_of[o][1],
                    "order_line_id": ln,
                    "sku_id": sk,
                    "quantity": 1,
                }
                for ln, o, sk in rows
            ],
        )
        insert_rows(
            ShipmentLine,
            [
                {"shipment_id": shipment_of[o], "order_line_id": ln, "quantity": 1}
                for ln, o, _sk in rows
            ],
        )
        insert_rows(
            ShipmentEvent,
            [
                {"shipment_id": s, "kind": "created", "occurred_at": now, "actor_label": "floor"}
                for s in shipment_ids
            ],
        )
        insert_rows(
            OrderEvent,
            [
                {"order_id": o, "kind": "note", "actor_kind": "system", "actor_label": "floor"}
                for o in order_ids
            ],
        )
        # The foreign keys are checked at commit (deferred): a wave pays that, so the
        # floor does too before it rolls back.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        transaction.set_rollback(True)
    return time.perf_counter() - started


def pick_list_creation(count: int) -> None:
    from fulfillment.models import PickListLine, PickListOrder
    from fulfillment.services import WaveRules, create_pick_lists
    from inventory.models import Warehouse

    header(f"Fulfillment: pick lists for {count:,} allocated orders at {WAREHOUSE}")
    started = time.perf_counter()
    made = allocated_orders(count, seed=int(time.time()))
    print(f"  set-up: {made:,} allocated orders written in {time.perf_counter() - started:.1f} s")
    warehouse = Warehouse.objects.get(code=WAREHOUSE)
    connection.close()  # a fresh connection, as a request would have
    started = time.perf_counter()
    lists = create_pick_lists(
        warehouse=warehouse, actor=ACTOR, rules=WaveRules(max_orders=50, max_lists=0)
    )
    ours = time.perf_counter() - started
    orders = PickListOrder.objects.filter(pick_list__in=lists).count()
    lines = PickListLine.objects.filter(pick_list__in=lists).count()
    units = PickListLine.objects.filter(pick_list__in=lists).aggregate(n=Sum("quantity"))["n"]
    floor = _floor(len(lists), orders=orders, lines=lines)
    print(
        f"  create_pick_lists: {len(lists)} lists, {orders:,} orders, {lines:,} lines, "
        f"{units:,} units in {ours:.2f} s (target <= 2 s)"
    )
    print(
        "  baseline (same rows COPY-written and FK-checked, nothing read or decided): "
        f"{floor:.2f} s"
    )
    print(f"  ratio ours / baseline: {ratio(ours, floor)}")


def scan_round_trip(scans: int) -> None:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from fulfillment.models import PickList
    from fulfillment.services import WaveRules, create_pick_lists
    from inventory.models import Warehouse, WarehouseAccess
    from oms_site.models import StaffProfile
    from oms_site.roles import Role

    header(f"Fulfillment: scan round trip on the pick screen ({scans} scans)")
    from django.contrib.auth import get_user_model

    warehouse = Warehouse.objects.get(code=WAREHOUSE)
    allocated_orders(max(scans // 3, 50), seed=int(time.time()) + 1)
    lists = create_pick_lists(
        warehouse=warehouse, actor=ACTOR, rules=WaveRules(max_orders=200, max_lists=0)
    )
    user, _ = get_user_model().objects.get_or_create(username="bench-picker")
    StaffProfile.objects.update_or_create(user=user, defaults={"role": Role.WAREHOUSE})
    WarehouseAccess.objects.get_or_create(user=user, warehouse=warehouse)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    csrf = "b" * 32
    headers = {
        "Cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}; csrftoken={csrf}",
        "X-CSRFToken": csrf,
        "Accept": "application/json",
        "Content-Type": "application/x-www-form-urlencoded",
        "Referer": "http://127.0.0.1/",
    }
    plan = []
    for pick_list in PickList.objects.filter(pk__in=[pl.pk for pl in lists]):
        for line in pick_list.lines.select_related("sku").order_by(
            "pick_sequence", "bin_code", "id"
        ):
            plan.append((pick_list.number, line.bin_code))
            plan += [(pick_list.number, line.sku.code)] * line.quantity
    plan = plan[:scans]
    with Gunicorn(workers=2, threads=4) as server:
        client = Client(server.port)
        health = RunResult("GET /healthz (baseline)")
        for _ in range(300):
            started = time.perf_counter()
            client.conn = client.conn or http.client.HTTPConnection(
                "127.0.0.1", server.port, timeout=30
            )
            client.conn.request("GET", "/healthz")
            client.conn.getresponse().read()
            health.latencies.append(time.perf_counter() - started)
        health.count, health.seconds = 300, sum(health.latencies)
        result = RunResult("POST pick scan")
        refused = 0
        for number, code in plan:
            body = f"code={code}"
            started = time.perf_counter()
            client.conn.request(
                "POST", f"/fulfillment/pick-lists/{number}/scan/", body=body, headers=headers
            )
            response = client.conn.getresponse()
            response.read()
            result.latencies.append(time.perf_counter() - started)
            if response.status != 200:
                refused += 1
                result.errors[str(response.status)] = result.errors.get(str(response.status), 0) + 1
        result.count, result.seconds = len(plan) - refused, sum(result.latencies)
        client.close()
    print(health.line())
    print(result.line())
    scan_p95 = percentile(result.latencies, 0.95)
    print(
        f"  scan p95 {scan_p95 * 1000:.1f} ms (target <= 50 ms); "
        f"ratio scan / healthz p95: {ratio(scan_p95, percentile(health.latencies, 0.95))}"
    )


def run(*, orders=5000, scans=600):
    ensure_places()
    pick_list_creation(orders)
    scan_round_trip(scans)
