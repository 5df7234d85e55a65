"""``python -m sandboxes``: run a marketplace stub, or load it with orders.

python -m sandboxes serve --channel amazon --port 8411 --orders-per-minute 6
    Serve the stub for the OMS channel ``amazon``: its kind, credentials (decrypted
    from the OMS database) and listed SKUs become the stub's. Seeds --seed-orders
    orders first; new ones keep arriving at the given rate. Runs until Ctrl-C.
python -m sandboxes generate --url http://127.0.0.1:8411 --count 10000
    Create N orders in a running stub (load tests).
"""

import argparse
import json
import os
import signal
import sys
import threading
import urllib.request


def _from_database(channel_code: str):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms_site.settings")
    import django

    django.setup()
    from django.db import connection

    from marketplaces.models import MarketplaceConnection, MarketplaceListing

    account = MarketplaceConnection.objects.select_related("channel").get(
        channel__code=channel_code
    )
    catalog = [
        {
            "sku": listing.seller_sku,
            "title": listing.sku.display_name,
            "price": str(listing.external_ref.get("price") or listing.sku.price),
            "quantity": int(listing.pushed_quantity if listing.pushed_quantity is not None else 25),
            "product_id": listing.external_ref.get("product_id", ""),
        }
        for listing in MarketplaceListing.objects.filter(
            connection=account, active=True
        ).select_related("sku__product")
    ]
    credentials = dict(account.credentials) | dict(account.options or {})
    kind = account.channel.kind
    port = int(account.api_base_url.rsplit(":", 1)[-1].split("/")[0])
    connection.close()
    return kind, catalog, credentials, port


def serve(args) -> int:
    from . import SandboxServer, build

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    found = _from_database(args.channel)
    if found is None:
        # Keep running quietly: under `make run` an exit would stop every other process.
        print(f"no marketplace connection for channel {args.channel!r}; sandbox idle", flush=True)
        stop.wait()
        return 0
    kind, catalog, credentials, port = found
    marketplace = build(kind, catalog, credentials=credentials)
    marketplace.faults.random_429 = args.random_429
    marketplace.faults.random_5xx = args.random_5xx
    if args.webhook_url and hasattr(marketplace, "webhook_url"):
        marketplace.webhook_url = args.webhook_url
    if args.seed_orders:
        marketplace.store.generate(args.seed_orders)
    server = SandboxServer(marketplace, host=args.host, port=args.port or port)
    server.start()
    if args.orders_per_minute:
        server.start_generator(orders_per_minute=args.orders_per_minute, tick_seconds=args.tick)
    print(
        f"{kind} sandbox for channel {args.channel} on {server.url} ({len(catalog)} listings)",
        flush=True,
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    server.stop()
    return 0


def generate(args) -> int:
    request = urllib.request.Request(
        f"{args.url.rstrip('/')}/_sandbox/generate",
        data=json.dumps({"count": args.count}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310 (local stub)
        print(response.read().decode())
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sandboxes",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="serve the stub of an OMS channel")
    s.add_argument("--channel", required=True, help="the OMS sales channel code")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=0, help="default: the port of the connection's URL")
    s.add_argument("--seed-orders", type=int, default=0)
    s.add_argument("--orders-per-minute", type=float, default=0)
    s.add_argument("--tick", type=float, default=5.0)
    s.add_argument("--random-429", type=float, default=0.0, help="share of API calls answered 429")
    s.add_argument("--random-5xx", type=float, default=0.0, help="share of API calls answered 503")
    s.add_argument("--webhook-url", default="", help="Shopify: where to deliver order webhooks")
    g = sub.add_parser("generate", help="create N orders in a running stub")
    g.add_argument("--url", required=True)
    g.add_argument("--count", type=int, required=True)
    args = parser.parse_args(argv)
    return serve(args) if args.command == "serve" else generate(args)


if __name__ == "__main__":
    sys.exit(main())
