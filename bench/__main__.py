"""``python -m bench [orders|list|routing ...] [options]``: run the benchmarks on PostgreSQL.

The database comes from BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/
oms_bench); it is created when missing and migrated. Prints figures; asserts nothing.
"""

import argparse
import os
import sys
import time

from .common import database_url, setup

SECTIONS = ("orders", "list", "routing", "fulfillment", "import", "dashboard", "marketplaces")


def _load() -> str:
    """Other work on the machine skews every figure; print it next to them."""
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "sections",
        nargs="*",
        help="orders, list, routing, fulfillment, import, dashboard, marketplaces (default: all)",
    )
    parser.add_argument("--count", type=int, default=2000, help="API orders per run")
    parser.add_argument("--clients", type=int, default=8, help="API client threads")
    parser.add_argument("--rate", type=int, default=100, help="paced run: orders per second")
    parser.add_argument("--seconds", type=int, default=10, help="paced run: duration")
    parser.add_argument(
        "--no-webhooks", action="store_true", help="no webhook subscriber during the API run"
    )
    parser.add_argument(
        "--idempotency-keys",
        action="store_true",
        help="every API create carries its own Idempotency-Key",
    )
    parser.add_argument("--orders-in-list", type=int, default=100_000, help="list page size")
    parser.add_argument("--big", action="store_true", help="also time the list at 1M orders")
    parser.add_argument(
        "--dashboard-sizes",
        default="1000000",
        help="dashboard: order counts to load and measure, e.g. 1000000,10000000",
    )
    parser.add_argument("--routing-orders", type=int, default=10_000)
    parser.add_argument("--routing-threads", type=int, default=4)
    parser.add_argument(
        "--routing-seconds",
        type=float,
        default=0,
        help="stop the routed run after this many seconds (drafts: a third); 0: no cap",
    )
    parser.add_argument("--hot-attempts", type=int, default=1000)
    parser.add_argument("--hot-units", type=int, default=500)
    parser.add_argument("--hot-clients", type=int, default=64)
    parser.add_argument("--quality-orders", type=int, default=1000)
    parser.add_argument("--pick-orders", type=int, default=5000, help="orders to make waves of")
    parser.add_argument("--scans", type=int, default=600, help="pick-screen scans to time")
    parser.add_argument("--import-rows", type=int, default=20_000, help="stock CSV rows")
    parser.add_argument("--import-baseline-rows", type=int, default=2_000)
    parser.add_argument(
        "--ingest-orders", type=int, default=10_000, help="marketplace orders to ingest per run"
    )
    parser.add_argument(
        "--ingest-api-orders", type=int, default=2000, help="the same orders through the API"
    )
    args = parser.parse_args(argv)
    sections = args.sections or list(SECTIONS)
    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")

    started = time.monotonic()
    url = database_url()
    print(f"bench database: {url}")
    setup(url)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    print(
        f"PostgreSQL {version}; {os.cpu_count()} CPUs; load average {_load()}; "
        f"sections: {', '.join(sections)}",
        flush=True,
    )

    if "orders" in sections:
        from . import orders_api

        orders_api.run(
            count=args.count,
            clients=args.clients,
            rate=args.rate,
            seconds=args.seconds,
            webhooks=not args.no_webhooks,
            keys=args.idempotency_keys,
        )
    if "list" in sections:
        from . import list_page

        list_page.run(orders=args.orders_in_list, big=args.big)
    if "routing" in sections:
        from . import routing

        routing.run(
            orders=args.routing_orders,
            threads=args.routing_threads,
            max_seconds=args.routing_seconds or None,
            hot_attempts=args.hot_attempts,
            hot_units=args.hot_units,
            hot_clients=args.hot_clients,
            quality_orders=args.quality_orders,
        )
    if "fulfillment" in sections:
        from . import fulfillment

        fulfillment.run(orders=args.pick_orders, scans=args.scans)
    if "import" in sections:
        from . import csv_import

        csv_import.run(rows=args.import_rows, baseline_rows=args.import_baseline_rows)
    if "dashboard" in sections:
        from . import dashboard

        dashboard.run(sizes=[int(size) for size in args.dashboard_sizes.split(",") if size])
    if "marketplaces" in sections:
        from . import marketplace_ingest

        marketplace_ingest.run(count=args.ingest_orders, api_count=args.ingest_api_orders)
    print(f"\nbench finished in {time.monotonic() - started:.0f} s (load average {_load()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
