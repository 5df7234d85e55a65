"""`make run`: the web app, a Celery worker and Celery beat, together, until Ctrl-C.

Honcho starts the three processes, prefixes their output, and on Ctrl-C (or when one of
them dies) stops all of them.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def main() -> int:
    port = os.environ.get("PORT", "8000")
    host = os.environ.get("HOST", "127.0.0.1")
    var = ROOT / "var"
    var.mkdir(exist_ok=True)
    # A beat schedule left by a killed run is harmless, a stale pid file is not.
    (var / "celerybeat.pid").unlink(missing_ok=True)
    # The demo's Bring labels and tracking come from a local sandbox speaking Bring's API
    # (fulfillment/carriers/bring_sandbox.py), unless the environment names a real one.
    bring_port = os.environ.get("OMS_BRING_SANDBOX_PORT", str(int(port) + 90))
    os.environ.setdefault("OMS_BRING_BASE_URL", f"http://127.0.0.1:{bring_port}")
    os.environ.setdefault("OMS_PUBLIC_URL", f"http://{host}:{port}")
    # Vipps MobilePay payments (a customer paying the rest of an exchange) go to a local
    # sandbox speaking its ePayment API, with the sandbox's demo keys, unless the
    # environment names a real account.
    vipps_port = os.environ.get("OMS_VIPPS_SANDBOX_PORT", str(int(port) + 91))
    if not os.environ.get("OMS_VIPPS_BASE_URL"):
        sys.path.insert(0, str(ROOT))
        from demo.sandboxes import vipps

        os.environ.update(
            OMS_VIPPS_BASE_URL=f"http://127.0.0.1:{vipps_port}",
            OMS_VIPPS_CLIENT_ID=vipps.CLIENT_ID,
            OMS_VIPPS_CLIENT_SECRET=vipps.CLIENT_SECRET,
            OMS_VIPPS_SUBSCRIPTION_KEY=vipps.SUBSCRIPTION_KEY,
            OMS_VIPPS_MSN=vipps.MSN,
            OMS_VIPPS_WEBHOOK_SECRET=vipps.WEBHOOK_SECRET,
        )
    # Poll the sandbox often so a demo parcel moves while someone watches.
    os.environ.setdefault("OMS_TRACKING_POLL_MINUTES", "1")
    procfile = var / "Procfile"
    procfile.write_text(
        f"web: {BIN}/gunicorn oms_site.wsgi --bind {host}:{port} --workers 2 --threads 4 "
        "--graceful-timeout 5 --access-logfile -\n"
        f"worker: {BIN}/celery -A oms_site worker --loglevel INFO --concurrency 2 "
        "--queues default,sync,forecast,webhooks --hostname worker@%h\n"
        f"beat: {BIN}/celery -A oms_site beat --loglevel INFO "
        f"--schedule {var / 'celerybeat-schedule'} --pidfile {var / 'celerybeat.pid'}\n"
        f"bring: {BIN}/python -m fulfillment.carriers.bring_sandbox --port {bring_port} "
        "--transit-after 60 --deliver-after 300\n"
        f"vipps: {BIN}/python -m demo.sandboxes.vipps --port {vipps_port} "
        f"--callback-url http://{host}:{port}/callbacks/payments/vipps/\n"
        + "".join(
            # The marketplace sandboxes: ports come from the demo connections' URLs
            # (8411-8414); new orders keep arriving, with the odd 429 and 503.
            f"{code}-sandbox: {BIN}/python -m sandboxes serve --channel {code} "
            f"--seed-orders 15 --orders-per-minute 3 --random-429 0.03 --random-5xx 0.01"
            + (
                f" --webhook-url http://{host}:{port}/integrations/shopify/{code}/webhooks"
                if code == "shopify"
                else ""
            )
            + "\n"
            for code in ("amazon", "ebay", "shopify", "aliexpress")
        )
    )
    print(
        "\n"
        "  OMS is starting: web app, Celery worker and beat, Bring and Vipps MobilePay\n"
        "  sandboxes, and the four marketplace sandboxes (Amazon, eBay, Shopify, AliExpress\n"
        "  on 127.0.0.1:8411-8414); Ctrl-C stops all\n"
        f"  Dashboard:  http://{host}:{port}/\n"
        f"  API docs:   http://{host}:{port}/api/docs/\n"
        f"  Marketplace sync health: http://{host}:{port}/marketplaces/\n"
        "  Demo logins (user / password):\n"
        "    owner / owner-demo-pass      manager / manager-demo-pass\n"
        "    support / support-demo-pass  warehouse / warehouse-demo-pass\n"
        "    viewer / viewer-demo-pass\n"
        f"  Demo API key: see var/demo-api-key.txt\n"
        f"  Warehouse:  http://{host}:{port}/fulfillment/ (log in as warehouse)\n"
        f"  Tracking:   a demo order's customer page is printed by `make demo`\n"
        f"  Bring sandbox: http://127.0.0.1:{bring_port}/\n"
        f"  Vipps MobilePay sandbox: 127.0.0.1:{vipps_port} (customers paying what is due)\n",
        flush=True,
    )
    os.chdir(ROOT)
    os.execv(
        str(BIN / "honcho"),
        [str(BIN / "honcho"), "--no-colour", "-f", str(procfile), "-d", str(ROOT), "start"],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
