"""Marketplace ingest: orders/s pulled from the Amazon stub by one and by two Celery
workers, beside the REST API creating the same orders, in one run.

The Amazon sandbox runs in this process (its own threads) with ``--count`` generated
orders (1-3 lines, paid, merchant-fulfilled). For each worker count a fresh Amazon
channel and connection point at a fresh copy of those orders; the workers are real
``celery worker`` processes on the real broker (Redis: ``BENCH_BROKER_URL``, default
``redis://127.0.0.1:6379/4``); the clock runs from enqueueing the sync to the run's
success (every page fetched with searchOrders, the orders' items inline, every
order placed, routed, allocated, with events, ledger and outbox, and the cursor moved).
The API baseline POSTs the same orders (``--api-count`` of them) to
``/api/v1/orders/`` through gunicorn (2 workers x 4 threads) from 8 client threads.
"""

import os
import subprocess
import time
from decimal import Decimal

from . import data
from .common import BIN, ROOT, CpuMeter, Gunicorn, RunResult, header, ratio, run_closed_loop

SKU_PREFIX = "BENCH-MKT"
SKU_COUNT = 60
WAREHOUSES = ("ber", "lyo", "lds")
TARGET = 1000.0
CREDENTIALS = {"client_id": "bench", "client_secret": "bench-secret", "refresh_token": "bench-rt"}
OPTIONS = {
    "seller_id": "A2BENCH",
    "marketplace_ids": ["A1F83G8C2ARO7P"],
    "country": "GB",
}


def broker_url() -> str:
    return os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/4")


def _catalog(skus):
    return [{"sku": s.code, "title": s.code, "price": "12.00", "quantity": 10**9} for s in skus]


def _start_workers(count: int, log_dir) -> list:
    env = os.environ.copy() | {"CELERY_BROKER_URL": broker_url(), "LOG_LEVEL": "WARNING"}
    workers = []
    for n in range(count):
        log = open(log_dir / f"bench-ingest-worker-{n}.log", "w")  # noqa: SIM115
        process = subprocess.Popen(
            [
                str(BIN / "celery"), "-A", "oms_site", "worker", "--pool", "solo",
                "--queues", "sync", "--hostname", f"bench-ingest-{n}@%h", "--loglevel", "INFO",
                "--without-heartbeat", "--without-gossip", "--without-mingle",
            ],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        workers.append((process, log))
    deadline = time.monotonic() + 90
    for process, log in workers:
        path = log.name
        while time.monotonic() < deadline:
            with open(path, errors="replace") as f:
                if "ready." in f.read():
                    break
            if process.poll() is not None:
                raise RuntimeError(f"a worker exited; see {path}")
            time.sleep(0.3)
    return workers


def _stop_workers(workers):
    for process, _log in workers:
        process.terminate()
    for process, log in workers:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _connection(run_id, label, url, skus):
    from marketplaces.models import MarketplaceConnection, MarketplaceListing
    from orders.models import SalesChannel

    channel = SalesChannel.objects.create(
        code=f"amz-bench-{run_id}-{label}",
        name=f"Amazon bench {label}",
        kind="amazon",
        currency="GBP",
    )
    connection = MarketplaceConnection(
        channel=channel,
        api_base_url=url,
        options=OPTIONS,
        page_size=100,
        rate_per_second=100_000,
        rate_burst=1000,
        lease_seconds=600,
        initial_lookback_days=1,
    )
    connection.credentials = CREDENTIALS
    connection.save()
    MarketplaceListing.objects.bulk_create(
        [MarketplaceListing(connection=connection, sku=s, seller_sku=s.code) for s in skus]
    )
    return connection


def _ingest(label, workers_count, *, count, skus, run_id, log_dir) -> RunResult:
    from kombu import Connection

    from marketplaces.connectors.amazon import INCLUDED_DATA
    from marketplaces.models import SyncRun
    from marketplaces.tasks import sync_channel
    from sandboxes import SandboxServer, build

    # Orders of their own each run (their marketplace ids come from the seed): the bench
    # database lives on, and orders of earlier runs with the same ids on other channels
    # would be found, and grow, in every page's lookup of known ids.
    seed = int(run_id) * 10 + workers_count
    market = build(
        "amazon", _catalog(skus), credentials=CREDENTIALS | OPTIONS, seed=seed, afn_share=0
    )
    market.store.pending_share = 0
    market.store.generate(count, status="unshipped", afn=False)
    # The stub encodes its orders before the clock starts: its CPU shares the machine's
    # two cores with the workers it answers, which a real marketplace's would not.
    market.prerender(INCLUDED_DATA)
    server = SandboxServer(market).start()
    connection = _connection(run_id, label, server.url, skus)
    workers = _start_workers(workers_count, log_dir)
    result = RunResult(f"ingest, {workers_count} worker{'s' if workers_count > 1 else ''}")
    meter = CpuMeter(
        {process.pid for process, _log in workers}, server_label="workers", own_label="sandbox"
    )
    try:
        cpu_before = meter.read()
        started = time.monotonic()
        with Connection(broker_url()) as broker:
            sync_channel.apply_async(
                (connection.pk,), {"kind": "manual", "triggered_by": "bench"}, connection=broker
            )
        deadline = started + 1800
        run = None
        while time.monotonic() < deadline:
            run = SyncRun.objects.filter(connection=connection).order_by("-pk").first()
            if run and run.status != SyncRun.Status.RUNNING:
                break
            time.sleep(0.05)
        result.seconds = time.monotonic() - started
        result.cpu_ms = CpuMeter.per_request(cpu_before, meter.read(), count)
        if run is None or run.status != SyncRun.Status.SUCCEEDED:
            result.note = (
                f"run {run.status if run else 'missing'}: {run.error[:200] if run else ''}"
            )
            return result
        result.count = run.created
        result.note = (
            f"{run.created} created, {run.failed} failed, {run.pages} pages, "
            f"{market.requests} HTTP calls to the stub"
        )
    finally:
        _stop_workers(workers)
        server.stop()
    return result


def _api_payloads(skus, count, run_id):
    """The same kind of orders, as an integrator would POST them."""
    from sandboxes import build

    market = build("amazon", _catalog(skus), credentials=CREDENTIALS | OPTIONS, seed=5, afn_share=0)
    market.store.pending_share = 0
    orders = market.store.generate(count, status="unshipped", afn=False)
    payloads = []
    for index, order in enumerate(orders):
        address = order["address"]
        rate = Decimal(order["tax_rate"])
        lines = []
        for line in order["lines"]:
            gross = Decimal(line["unit_price"])
            net = (gross / (1 + rate)).quantize(Decimal("0.01"))
            lines.append({"sku": line["sku"], "quantity": line["quantity"], "unit_price": str(net)})
        payloads.append(
            {
                "channel": f"api-bench-{run_id}",
                "external_id": f"api-{run_id}-{index}",
                "currency": "GBP",
                "customer": {"email": order["buyer"]["email"], "name": order["buyer"]["name"]},
                "shipping_address": {
                    "name": address["name"], "line1": address["line1"], "city": address["city"],
                    "postal_code": address["postal_code"], "country": address["country"],
                },
                "lines": lines,
                "shipping_total": order["shipping"],
            }
        )  # fmt: skip
    return payloads


def _api(skus, count, run_id) -> RunResult:
    from orders.models import SalesChannel

    from .common import Client

    SalesChannel.objects.create(
        code=f"api-bench-{run_id}", name="API bench", kind="api", currency="GBP"
    )
    payloads = _api_payloads(skus, count, run_id)
    key = data.api_key()
    headers = {"Content-Type": "application/json", "Authorization": f"Api-Key {key}"}

    def make(index, state):
        client = state.get("client")
        if client is None:
            client = state["client"] = Client(server.port)
            state.setdefault("closers", []).append(client.close)
        return client.post("/api/v1/orders/", payloads[index], headers)

    with Gunicorn(workers=2, threads=4) as server:
        return run_closed_loop(
            "REST API POST /api/v1/orders/", count, 8, make, meter=CpuMeter(server.process.pid)
        )


def _line(result: RunResult, width=34) -> str:
    if not result.count:
        return f"  {result.name:<{width}} {result.note}"
    text = (
        f"  {result.name:<{width}} {result.rate:8.1f} orders/s   {result.seconds:6.1f} s   "
        f"({result.note})"
    )
    if result.cpu_ms:
        text += "\n  {:<{}} CPU per order: {} (all: {:.2f} ms)".format(
            "",
            width,
            ", ".join(f"{key} {value:.2f} ms" for key, value in result.cpu_ms.items()),
            result.cpu_total_ms,
        )
    return text


def run(*, count=10_000, api_count=2000, worker_counts=(1, 2)):
    header(
        f"Marketplace ingest: {count} Amazon orders (searchOrders, 100 a page, items inline) "
        f"by Celery workers on {broker_url()}, beside the REST API"
    )
    data.ensure_places()
    skus = data.ensure_skus(SKU_PREFIX, SKU_COUNT)
    needed = (count * len(worker_counts) + api_count) * 5 // SKU_COUNT + 100
    data.stock_up(skus, WAREHOUSES, at_least=needed, fill_to=needed * 2)
    run_id = f"{int(time.time())}"
    log_dir = ROOT / "var"
    log_dir.mkdir(exist_ok=True)
    results = {}
    for workers_count in worker_counts:
        result = _ingest(
            f"w{workers_count}",
            workers_count,
            count=count,
            skus=skus,
            run_id=run_id,
            log_dir=log_dir,
        )
        results[workers_count] = result
        print(_line(result), flush=True)
    api = _api(skus, api_count, run_id)
    print(api.line(), flush=True)
    best = results.get(max(worker_counts))
    if best is not None and best.count:
        print(
            f"  {'ingest with ' + str(max(worker_counts)) + ' workers / target':<34} "
            f"{ratio(best.rate, TARGET)}  (target {TARGET:,.0f} orders/s)"
        )
        print(f"  {'ingest / REST API':<34} {ratio(best.rate, api.rate)}")
    if 1 in results and 2 in results and results[1].rate:
        print(f"  {'two workers / one worker':<34} {ratio(results[2].rate, results[1].rate)}")
    return results, api
