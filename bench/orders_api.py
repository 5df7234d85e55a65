"""Orders API throughput and latency, against two baselines.

1. POST /api/v1/orders/ through a real gunicorn (2 workers x 4 threads), 3 lines per order,
   from N keep-alive client threads: orders/s and p50/p95/p99 latency.
2. The same at a fixed 100 orders/s for 10 s (open loop): p50/p99.
3. Baselines for the same rows (an order, 3 lines, 1 event; one transaction per order):
   (a) raw SQL through psycopg 3 from the same number of threads: the database's limit;
   (b) the bare Django view ``bench/bare_view.py`` through the same gunicorn.
"""

import json
import random
import re
import secrets
import threading
import time

from django.db import connection
from django.utils import timezone

from . import data
from .common import (
    Client,
    CpuMeter,
    Gunicorn,
    RunResult,
    header,
    postgres_dsn,
    ratio,
    request_once,
    run_closed_loop,
    run_paced,
)

API_PATH = "/api/v1/orders/"
BARE_PATH = "/bench/bare-orders/"
SKU_PREFIX = "BENCH-API"
SKU_COUNT = 60
WAREHOUSES = ("ber", "lyo", "lds")


def _payload(run_id, index, sku_codes, rng):
    return {
        "channel": "web",
        "currency": "EUR",
        "external_id": f"bench-{run_id}-{index}",
        "customer": {
            "email": f"bench.customer{index % 500}@example.com",
            "name": "Erika Mustermann",
        },
        "shipping_address": {
            "name": "Erika Mustermann",
            "line1": "Invalidenstraße 117",
            "city": "Berlin",
            "postal_code": "10115",
            "country": "DE",
        },
        "lines": [{"sku": code, "quantity": 1} for code in rng.sample(sku_codes, 3)],
    }


def _http_request(port, path, headers, run_id, sku_codes, seed, *, keys=False):
    """``keys``: every request carries its own ``Idempotency-Key``, as the README's
    example create does."""
    rng = random.Random(seed)
    lock = threading.Lock()

    def make(index, state):
        client = state.get("client")
        if client is None:
            client = state["client"] = Client(port)
            state.setdefault("closers", []).append(client.close)
        with lock:
            payload = _payload(run_id, index, sku_codes, rng)
        own = headers | {"Idempotency-Key": f"bench-{run_id}-{index}"} if keys else headers
        return client.post(path, payload, own)

    return make


# --- raw SQL baseline ----------------------------------------------------------------------


def _row_template(obj, *, skip=("id",)):
    """Column names and database values of an unsaved model instance (Django's own
    adaptation, so JSON and decimals come out as the ORM would send them)."""
    columns, values = [], []
    for f in obj._meta.concrete_fields:
        if f.column in skip:
            continue
        columns.append(f.column)
        values.append(f.get_db_prep_save(getattr(obj, f.attname), connection))
    return columns, values


def _raw_sql_request(channel, skus):
    """One order = one transaction: INSERT order (number from the sequence), 3 lines, 1 event."""
    import psycopg

    from orders.models import Order, OrderEvent, OrderLine

    now = timezone.now()
    address = _payload("x", 0, [s.code for s in skus], random.Random(0))["shipping_address"]
    order = Order(
        channel=channel,
        status="pending",
        currency="EUR",
        email="bench.customer@example.com",
        subtotal=30,
        grand_total=30,
        shipping_address=address,
        ship_to_country="DE",
        tracking_token="x",
        placed_at=now,
        created_at=now,
        updated_at=now,
        external_id="x",
    )
    order_columns, order_values = _row_template(order, skip=("id", "number"))
    ext_at = order_columns.index("external_id")
    token_at = order_columns.index("tracking_token")
    line = OrderLine(
        order_id=0, sku=skus[0], sku_code="x", name="x", quantity=1, unit_price=10, line_total=10
    )
    line_columns, line_values = _row_template(line)
    line_order_at = line_columns.index("order_id")
    line_sku_at = line_columns.index("sku_id")
    line_code_at = line_columns.index("sku_code")
    event = OrderEvent(
        order_id=0,
        kind="created",
        to_status="pending",
        message="bench",
        actor_kind="system",
        actor_label="bench",
        created_at=now,
    )
    event_columns, event_values = _row_template(event)
    event_order_at = event_columns.index("order_id")

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence('orders_order', 'id')")
        sequence = cursor.fetchone()[0]

    def insert(table, columns):
        placeholders = ", ".join(["%s"] * len(columns))
        return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"

    order_sql = (
        f"INSERT INTO orders_order (id, number, {', '.join(order_columns)}) "
        f"VALUES (nextval('{sequence}'), 'SO-' || lpad(currval('{sequence}')::text, "
        f"greatest(length(currval('{sequence}')::text), 7), '0'), "
        f"{', '.join(['%s'] * len(order_columns))}) RETURNING id"
    )
    line_sql = insert("orders_orderline", line_columns)
    event_sql = insert("orders_orderevent", event_columns)
    run_id = secrets.token_hex(4)
    dsn = postgres_dsn()
    rng = random.Random(3)

    def make(index, state):
        conn = state.get("conn")
        if conn is None:
            conn = state["conn"] = psycopg.connect(dsn)
            state.setdefault("closers", []).append(conn.close)
        values = list(order_values)
        values[ext_at] = f"raw-{run_id}-{index}"
        values[token_at] = secrets.token_urlsafe(32)
        chosen = rng.sample(skus, 3)
        with conn.transaction(), conn.cursor() as cur:
            cur.execute(order_sql, values)
            order_id = cur.fetchone()[0]
            rows = []
            for sku in chosen:
                row = list(line_values)
                row[line_order_at], row[line_sku_at], row[line_code_at] = order_id, sku.pk, sku.code
                rows.append(row)
            cur.executemany(line_sql, rows)
            row = list(event_values)
            row[event_order_at] = order_id
            cur.execute(event_sql, row)
        return 201, b""

    return make


# --- the benchmark --------------------------------------------------------------------------


def _enqueue_problems(log_path) -> int:
    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        return 0
    return len(re.findall(r"could not enqueue|Traceback", text))


def run(*, count=2000, clients=8, warmup=100, rate=100, seconds=10, webhooks=True, keys=False):
    from oms_site.models import WebhookSubscription

    header(
        f"Orders API: {count} orders x 3 lines, {clients} client threads, "
        "gunicorn 2 workers x 4 threads, PostgreSQL"
    )
    data.ensure_places()
    skus = data.ensure_skus(SKU_PREFIX, SKU_COUNT)
    sku_codes = [s.code for s in skus]
    needed = (count * 2 + warmup * 2 + rate * seconds) * 3 // SKU_COUNT + 50
    data.stock_up(skus, WAREHOUSES, at_least=needed, fill_to=needed * 3)
    channel = data.web_channel()
    key = data.api_key()
    subscription = None
    if webhooks:
        # One subscriber, as in production: every order also writes outbox deliveries and
        # enqueues them after commit (to the in-memory broker; nothing is sent).
        subscription = WebhookSubscription.objects.create(
            name="bench", url="http://127.0.0.1:9/hook", secret="bench", event_types=[]
        )
    run_id = f"{int(time.time())}"
    api_headers = {"Content-Type": "application/json", "Authorization": f"Api-Key {key}"}
    bare_headers = {"Content-Type": "application/json"}
    results = {}
    try:
        with Gunicorn(workers=2, threads=4) as server:
            probe = _payload(f"{run_id}-probe", 0, sku_codes, random.Random(0))
            status, body = request_once(
                server.port, "POST", API_PATH, body=json.dumps(probe), headers=api_headers
            )
            api_ready = status == 201
            if not api_ready:
                print(
                    f"  POST {API_PATH} answered {status}: {body[:200]!r}"
                    + ("  (the orders API is not there yet)" if status == 404 else "")
                )
            if api_ready:
                run_closed_loop(
                    "warm-up",
                    warmup,
                    clients,
                    _http_request(server.port, API_PATH, api_headers, f"{run_id}w", sku_codes, 1),
                )
                results["api"] = run_closed_loop(
                    f"API POST {API_PATH}" + (" (keys)" if keys else ""),
                    count,
                    clients,
                    _http_request(
                        server.port, API_PATH, api_headers, run_id, sku_codes, 2, keys=keys
                    ),
                    meter=CpuMeter(server.process.pid),
                )
                print(results["api"].line(), flush=True)
                results["paced"] = run_paced(
                    f"API at {rate}/s for {seconds} s",
                    rate,
                    seconds,
                    max(clients * 4, 32),
                    _http_request(
                        server.port, API_PATH, api_headers, f"{run_id}p", sku_codes, 3, keys=keys
                    ),
                )
                print(results["paced"].line(), flush=True)
            else:
                results["api"] = RunResult(f"API POST {API_PATH}", note="not measured")
            run_closed_loop(
                "warm-up",
                warmup,
                clients,
                _http_request(server.port, BARE_PATH, bare_headers, f"{run_id}bw", sku_codes, 4),
            )
            results["bare"] = run_closed_loop(
                f"bare Django view {BARE_PATH}",
                count,
                clients,
                _http_request(server.port, BARE_PATH, bare_headers, f"{run_id}b", sku_codes, 5),
                meter=CpuMeter(server.process.pid),
            )
            print(results["bare"].line(), flush=True)
        problems = _enqueue_problems(server.log)
    finally:
        if subscription is not None:
            subscription.delete()

    run_closed_loop("warm-up", warmup, clients, _raw_sql_request(channel, skus))
    results["raw"] = run_closed_loop(
        f"raw SQL (psycopg, {clients} threads)",
        count,
        clients,
        _raw_sql_request(channel, skus),
    )
    print(results["raw"].line(), flush=True)

    for name in ("api", "paced", "bare", "raw"):
        result = results.get(name)
        if result is not None and result.errors:
            print(f"  {result.name}: first error: {result.error_sample}")
    if webhooks:
        print(
            "  webhook/backorder enqueueing on memory:// broker: "
            + (
                "no errors in the gunicorn log"
                if not problems
                else f"{problems} error(s), see {server.log}"
            )
        )
    api, bare, raw_result = results.get("api"), results["bare"], results["raw"]
    if api is not None and api.count:
        print(f"  ratio API / raw SQL:    {ratio(api.rate, raw_result.rate)}")
        print(f"  ratio API / bare view:  {ratio(api.rate, bare.rate)}   (target >= 0.50)")
        if api.cpu_ms and bare.cpu_ms:
            print(
                "  the same in CPU (bare view's CPU per order / the API's): "
                f"{ratio(bare.cpu_total_ms, api.cpu_total_ms)}"
            )
        print(
            f"  targets: >= 200 orders/s sustained (measured {api.rate:.0f}); "
            f"p99 <= 200 ms at {rate}/s (measured {results['paced'].ms(0.99):.0f} ms)"
        )
    else:
        print(f"  ratio bare view / raw SQL: {ratio(bare.rate, raw_result.rate)}")
        print("  API rows: not measured (the orders API did not answer 201).")
    return results
