"""The order list at 100k orders (and 1M with --big): first page of the dashboard list
/orders/ and of the API list GET /api/v1/orders/, as an owner.

The orders are demo-like history written by the demo's ``HistoryWriter`` with
``bulk_create`` (past stock movements left out; open allocations are in the ledger). The
database keeps them between runs: a run only tops the count up to the target.
Timing is in-process (django.test.Client), so it is the server's time without HTTP.
"""

import time

from django.db import connection, reset_queries
from django.db.models import JSONField
from django.test import Client
from django.test.utils import CaptureQueriesContext

from demo import world as demo_world
from demo.history import HistoryWriter
from orders import selectors
from orders.models import Order
from orders.services import status_counts as order_status_counts

from . import data
from .common import RunResult, header

REQUESTS = 20
TABLES = [
    "orders_order",
    "orders_orderline",
    "orders_orderevent",
    "orders_allocation",
    "orders_customer",
    "inventory_stockmovement",
    "inventory_stocklevel",
]


class CopyHistoryWriter(HistoryWriter):
    """The demo generator, writing with PostgreSQL COPY instead of INSERT."""

    def insert(self, model, objects):
        from psycopg.types.json import Jsonb

        if not objects:
            return
        fields = [
            f
            for f in model._meta.concrete_fields
            if not (f.primary_key and getattr(objects[0], f.attname) is None)
        ]
        json_at = [i for i, f in enumerate(fields) if isinstance(f, JSONField)]
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        table = connection.ops.quote_name(model._meta.db_table)
        attnames = [f.attname for f in fields]
        sql = f"COPY {table} ({columns}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for obj in objects:
                row = [getattr(obj, name) for name in attnames]
                for i in json_at:
                    row[i] = Jsonb(row[i])
                copy.write_row(row)


def _approximate_count() -> int:
    """Exact counts of 1M rows take a while; the planner's estimate is enough to decide."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'orders_order'")
        row = cursor.fetchone()
    estimate = row[0] if row else -1
    if estimate < 0 or estimate < 200_000:
        return Order.objects.count()
    return estimate


def ensure_orders(target: int) -> int:
    """Top the orders table up to ``target`` rows. Returns how many were written."""
    have = _approximate_count()
    missing = target - have
    if missing <= 0:
        return 0
    started = time.monotonic()
    print(f"  loading {missing:,} orders (have {have:,}) ...", flush=True)
    world = demo_world.load_world(skus=200, customers=3000, seed=11)
    writer = CopyHistoryWriter(
        warehouses=world["warehouses"],
        skus=world["skus"],
        channels=world["channels"],
        customers=world["customers"],
        seed=have + 1,
        ship_movements=False,
        batch_size=5000,
    )

    def progress(done):
        if done % 50_000 < writer.batch_size:
            rate = done / (time.monotonic() - started)
            print(f"    {done:,} orders ({rate:,.0f}/s)", flush=True)

    counts = writer.write(missing, progress=progress)
    # The triggers counted every COPYed order; fold those deltas now, as beat would.
    order_status_counts.compact()
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"ANALYZE {table}")
    seconds = time.monotonic() - started
    print(
        f"  loaded {counts.orders:,} orders, {counts.lines:,} lines, {counts.events:,} events "
        f"in {seconds:.0f} s ({counts.orders / seconds:,.0f} orders/s)",
        flush=True,
    )
    return counts.orders


def _time_page(client, path, label) -> RunResult:
    result = RunResult(label)
    response = client.get(path)
    if response.status_code != 200:
        result.note = f"GET {path} answered {response.status_code}: not measured"
        if response.status_code == 404:
            result.note += " (the page is not there yet)"
        return result
    client.get(path)  # warm caches
    # The request clears the query log when it starts (django.db.reset_queries), so the
    # capture must start from an empty log to count what the request ran.
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    query_count = len(queries.captured_queries)  # read now: later requests clear the log
    size = len(response.content)
    for _ in range(REQUESTS):
        started = time.perf_counter()
        client.get(path)
        result.latencies.append(time.perf_counter() - started)
    result.count = len(result.latencies)
    result.seconds = sum(result.latencies)
    result.note = f"{query_count} queries, {size / 1024:.0f} KiB"
    return result


def _time_counts(label_suffix) -> list[RunResult]:
    """The list's counts per status from the counters, against the COUNT they replace."""
    counters = RunResult(f"status counts (counters) {label_suffix}")
    order_status_counts.compact()
    for _ in range(REQUESTS):
        started = time.perf_counter()
        counted = selectors.status_counts(filters={})
        counters.latencies.append(time.perf_counter() - started)
    counters.count = REQUESTS
    scan = RunResult(f"status counts (COUNT) {label_suffix}")
    for _ in range(3):
        started = time.perf_counter()
        real = order_status_counts.table_counts()
        scan.latencies.append(time.perf_counter() - started)
    scan.count = 3
    counters.note = "exact" if counted == real else f"DIFFERENT from COUNT: {counted} != {real}"
    scan.note = f"{sum(real.values()):,} orders"
    return [counters, scan]


def _measure(label_suffix):
    client = Client()
    client.force_login(data.owner())
    for result in _time_counts(label_suffix):
        print(
            f"  {result.name:<40} p50 {result.ms(0.5):7.1f} ms   p95 {result.ms(0.95):7.1f} ms"
            f"   ({result.note}, {result.count} runs)",
            flush=True,
        )
    results = [
        _time_page(client, "/orders/", f"dashboard /orders/ {label_suffix}"),
        _time_page(client, "/api/v1/orders/", f"API GET /api/v1/orders/ {label_suffix}"),
    ]
    for result in results:
        if result.count:
            print(
                f"  {result.name:<40} p50 {result.ms(0.5):7.1f} ms   p95 {result.ms(0.95):7.1f} ms"
                f"   ({result.note}, {REQUESTS} requests)",
                flush=True,
            )
        else:
            print(f"  {result.name:<40} {result.note}", flush=True)
    return results


def run(*, orders=100_000, big=False):
    header(f"Order list, first page, as an owner ({REQUESTS} requests each, in-process)")
    ensure_orders(orders)
    results = {"100k": _measure(f"@ {orders // 1000}k")}
    if big:
        ensure_orders(1_000_000)
        results["1M"] = _measure("@ 1M")
        dashboard = results["1M"][0]
        if dashboard.count:
            measured = dashboard.ms(0.95)
            print(f"  target: dashboard list p95 <= 150 ms at 1M (measured {measured:.0f} ms)")
    else:
        print("  (1M orders: run with --big; target p95 <= 150 ms at 1M)")
    return results
