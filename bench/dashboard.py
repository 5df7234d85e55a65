"""The merchant's dashboard at 1 million and 10 million orders: the order list's first page
with its counts by status, a filtered page, search by e-mail / external id / SKU and for a
name no order has (the trigram index's worst case), and the home page. Target: each p95
<= 150 ms, with a query count that does not grow with the data.

Loading: the first ``SEED`` orders are demo-like history written by the demo's
``HistoryWriter`` through PostgreSQL COPY (``list_page.CopyHistoryWriter``: every status,
1-4 lines, the event trail, open allocations in the ledger). Planning each order in Python
runs at about a thousand orders a second, which would take hours for 10 million, so the
rest are copies of those orders streamed with COPY: new ids, numbers, external ids and
tracking tokens, placement times spread back over the years before the seed, their lines
with them; no event trail and no allocations (the list and the home page read neither).
The database keeps them between runs; a run only tops it up. After a load the sales rollup
is rebuilt from the orders (``rebuild_sales``) and the tables are analysed.

Timing is in-process (django.test.Client, logged in as an owner): the server's time
without HTTP, 20 requests each after two warm-ups; the query count of one request.
"""

import time
from datetime import timedelta

from django.core.cache import cache
from django.core.management.color import no_style
from django.db import connection, reset_queries
from django.db.models import Max, Min
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.models import Order, OrderLine
from orders.services import status_counts
from orders.services.reporting import rebuild_sales

from . import data
from .common import RunResult, header
from .list_page import TABLES, ensure_orders

REQUESTS = 20
SEED = 100_000
STEP = 250_000
# The copies span this many years at 10M orders (proportionally fewer at 1M).
YEARS_PER_10M = 5
TARGET_MS = 150


def _count_estimate() -> int:
    with connection.cursor() as cursor:
        # Fresh statistics first (a second or two): a stale estimate would skip a load.
        cursor.execute("ANALYZE orders_order")
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'orders_order'")
        row = cursor.fetchone()
    estimate = row[0] if row else -1
    return Order.objects.count() if estimate < 200_000 else estimate


def replicate(target: int) -> int:
    """Top the orders up to ``target`` with copies of the seed orders (see the module),
    made inside PostgreSQL with ``INSERT ... SELECT`` from ``generate_series`` in steps of
    ``STEP`` orders: no row travels through Python."""
    have = _count_estimate()
    missing = target - have
    if missing <= 0:
        return 0
    started = time.monotonic()
    print(f"  copying {missing:,} orders from the first {SEED:,} (have {have:,}) ...", flush=True)
    bounds = Order.objects.aggregate(last=Max("pk"))
    seed_last = Order.objects.order_by("pk").values_list("pk", flat=True)[SEED - 1]
    order_table = connection.ops.quote_name(Order._meta.db_table)
    line_table = connection.ops.quote_name(OrderLine._meta.db_table)
    # Ids follow time as in a real shop: the copies fill the years up to now, the newest
    # id placed last, and the seed (the demo history, the lowest ids) moves back before
    # them. A few minutes of jitter from the id; the three timestamps of an order agree.
    shift = (
        "((%(last)s - s.id) * %(step)s * interval '1 second' "
        "+ ((s.id * 2654435761) %% 600) * interval '1 second')"
    )
    special = {
        "id": "s.id",
        "number": "'SO-' || lpad(s.id::text, greatest(length(s.id::text), 7), '0')",
        "external_id": "CASE WHEN o.external_id IS NULL THEN NULL "
        "ELSE o.external_id || '-R' || s.id END",
        "tracking_token": "substr(md5(s.id::text || 'a') || md5(s.id::text || 'b'), 1, 43)",
        "placed_at": f"CASE WHEN o.placed_at IS NULL THEN NULL ELSE %(now)s - {shift} END",
        "created_at": f"%(now)s - {shift}",
        "updated_at": f"%(now)s - {shift}",
        "routing_decision": "'{}'::jsonb",
        "billing_address": "'{}'::jsonb",
    }
    order_columns = [f.column for f in Order._meta.concrete_fields]
    select = ", ".join(special.get(c, f"o.{connection.ops.quote_name(c)}") for c in order_columns)
    insert_orders = (
        f"INSERT INTO {order_table} ({', '.join(map(connection.ops.quote_name, order_columns))}) "
        f"SELECT {select} FROM generate_series(%(start)s, %(end)s) AS s(id) "
        f"JOIN {order_table} o ON o.id = ((s.id - 1) %% %(seed)s) + 1"
    )
    line_columns = [f.column for f in OrderLine._meta.concrete_fields if not f.primary_key]
    line_select = ", ".join(
        "s.id" if c == "order_id" else f"l.{connection.ops.quote_name(c)}" for c in line_columns
    )
    insert_lines = (
        f"INSERT INTO {line_table} ({', '.join(map(connection.ops.quote_name, line_columns))}) "
        f"SELECT {line_select} FROM generate_series(%(start)s, %(end)s) AS s(id) "
        f"JOIN {line_table} l ON l.order_id = ((s.id - 1) %% %(seed)s) + 1"
    )
    next_pk = bounds["last"] + 1
    end_pk = next_pk + missing - 1
    now = timezone.now()
    years = YEARS_PER_10M * max(target, 1_000_000) / 10_000_000
    step = years * 365 * 86400 / missing  # seconds between two copies
    written = 0
    with connection.cursor() as cursor:
        # The seed goes back before the copies (once: it is then older than a year).
        seed_moved = Order.objects.filter(
            pk__lte=seed_last, placed_at__gt=now - timedelta(days=400)
        )
        if seed_moved.exists():
            back = timedelta(days=365 * YEARS_PER_10M + 30)
            for model, fields in ((Order, ("placed_at", "created_at", "updated_at")),):
                table = connection.ops.quote_name(model._meta.db_table)
                sets = ", ".join(f"{f} = {f} - %(back)s" for f in fields)
                cursor.execute(
                    f"UPDATE {table} SET {sets} WHERE id <= %(seed)s",
                    {"back": back, "seed": seed_last},
                )
        for start in range(next_pk, end_pk + 1, STEP):
            end = min(start + STEP - 1, end_pk)
            params = {
                "start": start,
                "end": end,
                "last": end_pk,
                "seed": seed_last,
                "now": now,
                "step": step,
            }
            cursor.execute(insert_orders, params)
            cursor.execute(insert_lines, params)
            written += end - start + 1
            rate = written / (time.monotonic() - started)
            print(f"    {written:,} orders ({rate:,.0f}/s)", flush=True)
        for sql in connection.ops.sequence_reset_sql(no_style(), [Order, OrderLine]):
            cursor.execute(sql)
    seconds = time.monotonic() - started
    print(f"  copied {written:,} orders in {seconds:.0f} s ({written / seconds:,.0f} orders/s)")
    return written


def load(target: int) -> None:
    started = time.monotonic()
    wrote = ensure_orders(min(target, SEED))
    wrote += replicate(target)
    if not wrote:
        return
    print("  rebuilding the sales rollup, folding the status counters, vacuuming ...", flush=True)
    first = timezone.localdate(Order.objects.aggregate(m=Min("placed_at"))["m"])
    rebuild_sales(first=first, last=timezone.localdate())
    # What beat and autovacuum do after a bulk load in production: the status deltas the
    # triggers wrote are folded and their table given back its pages (the beat task's
    # own steps), and the visibility map lets index-only scans skip the heap.
    status_counts.compact()
    status_counts.shrink_if_bloated()
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cursor.fetchone()[0]
    print(f"  load took {time.monotonic() - started:.0f} s; database size now {size}")


def _probe_values() -> dict:
    """Real keys from the loaded data to search for (a seed order's, so it exists)."""
    order = (
        Order.objects.filter(customer__isnull=False, external_id__isnull=False)
        .exclude(email="")
        .order_by("pk")
        .only("email", "external_id")
        .first()
    )
    sku_code = OrderLine.objects.order_by("pk").values_list("sku_code", flat=True).first()
    return {"email": order.email, "external_id": order.external_id, "sku": sku_code}


def _time(client, path) -> RunResult:
    result = RunResult(path)
    response = client.get(path)
    if response.status_code != 200:
        result.note = f"answered {response.status_code}"
        return result
    client.get(path)
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    count = len(queries.captured_queries)
    for _ in range(REQUESTS):
        started = time.perf_counter()
        client.get(path)
        result.latencies.append(time.perf_counter() - started)
    result.count = len(result.latencies)
    result.note = f"{count} queries, {len(response.content) / 1024:.0f} KiB"
    return result


def measure(label: str) -> list[tuple[str, RunResult]]:
    client = Client()
    client.force_login(data.owner())
    keys = _probe_values()
    month_ago = (timezone.localdate() - timedelta(days=30)).isoformat()
    pages = [
        ("order list, first page + counts", "/orders/"),
        (
            "filtered: web, allocated, 30 days",
            f"/orders/?channel=web&status=allocated&created_from={month_ago}",
        ),
        ("search by e-mail", f"/orders/?q={keys['email']}"),
        ("search by external id", f"/orders/?q={keys['external_id']}"),
        ("search by SKU", f"/orders/?q={keys['sku']}"),
        # Matches no key, so the search falls back to the names and streets (trigram index).
        ("search, a name no order has", "/orders/?q=Quetzalcoatl"),
        ("home page", "/"),
    ]
    cache.clear()
    started = time.perf_counter()
    client.get("/orders/")
    cold = (time.perf_counter() - started) * 1000
    results = []
    for name, path in pages:
        result = _time(client, path)
        results.append((name, result))
        if result.count:
            verdict = "ok" if result.ms(0.95) <= TARGET_MS else "OVER"
            print(
                f"  {name:<36} {label:>5}  p50 {result.ms(0.5):7.1f} ms"
                f"   p95 {result.ms(0.95):7.1f} ms   ({result.note})  {verdict}",
                flush=True,
            )
        else:
            print(f"  {name:<36} {label:>5}  {result.note}", flush=True)
    print(
        f"  (first /orders/ with every cache cleared: {cold:.0f} ms; the counts by status "
        "come from the status counters, no request counts the orders table)",
        flush=True,
    )
    return results


def run(*, sizes=(1_000_000,)):
    header(f"Dashboard pages, as an owner ({REQUESTS} requests each, in-process)")
    for size in sizes:
        load(size)
        measure(f"{size // 1_000_000}M" if size >= 1_000_000 else f"{size // 1000}k")
