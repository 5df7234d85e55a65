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
    procfile = var / "Procfile"
    procfile.write_text(
        f"web: {BIN}/gunicorn oms_site.wsgi --bind {host}:{port} --workers 2 --threads 4 "
        "--graceful-timeout 5 --access-logfile -\n"
        f"worker: {BIN}/celery -A oms_site worker --loglevel INFO --concurrency 2 "
        "--queues default,sync,forecast,webhooks --hostname worker@%h\n"
        f"beat: {BIN}/celery -A oms_site beat --loglevel INFO "
        f"--schedule {var / 'celerybeat-schedule'} --pidfile {var / 'celerybeat.pid'}\n"
    )
    print(
        "\n"
        "  OMS is starting: web app, Celery worker and Celery beat (Ctrl-C stops all three)\n"
        f"  Dashboard:  http://{host}:{port}/\n"
        f"  API docs:   http://{host}:{port}/api/docs/\n"
        "  Demo logins (user / password):\n"
        "    owner / owner-demo-pass      manager / manager-demo-pass\n"
        "    support / support-demo-pass  warehouse / warehouse-demo-pass\n"
        "    viewer / viewer-demo-pass\n"
        f"  Demo API key: see var/demo-api-key.txt\n",
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
