"""Shared pieces of the benchmarks: the database, Django, gunicorn, timing and printing.

Nothing here asserts: the benchmarks print figures and ratios for people to read.
"""

import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(sys.executable).parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/oms_bench"
# Environment for this process and every subprocess (migrate, gunicorn).
BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "DEBUG": "false",
    # No broker needed: enqueued tasks (webhooks, backorder allocation) stay in memory.
    "CELERY_BROKER_URL": "memory://localhost/",
    # Persistent connections, as a production deployment would configure them.
    "CONN_MAX_AGE": "60",
    "LOG_LEVEL": "WARNING",
    # The benchmark's marketplace connections keep their (sandbox) credentials encrypted.
    "OMS_CREDENTIALS_KEYS": "YmVuY2gtb25seS1jcmVkZW50aWFscy1rZXktMzJieXQ=",
}


def database_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)


def ensure_database(url: str) -> bool:
    """Create the benchmark database when it is missing. True when it was created."""
    import psycopg
    from psycopg import sql

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            return True
    return False


def setup(url: str) -> None:
    """Environment, migrations (in a subprocess, as `make` would) and django.setup()."""
    os.environ.update(BENCH_ENV)
    os.environ["DATABASE_URL"] = url
    created = ensure_database(url)
    started = time.monotonic()
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=os.environ.copy(),
        check=True,
    )
    if created:
        print(
            f"created database {urlparse(url).path.lstrip('/')} and migrated it "
            f"({time.monotonic() - started:.1f} s)"
        )
    import django

    django.setup()
    _vacuum_when_autovacuum_is_off()


def _vacuum_when_autovacuum_is_off() -> None:
    """The bench database lives on between runs, and every run adds orders, updates and
    dead rows. A server with autovacuum off (some test machines) never cleans them, and
    each run measures slower than the last; vacuum first, as autovacuum would have."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        if cursor.fetchone()[0] == "on":
            return
        started = time.monotonic()
        cursor.execute("VACUUM (ANALYZE)")
    print(
        "autovacuum is off on this server: vacuumed the bench database first, as it would "
        f"have ({time.monotonic() - started:.1f} s)"
    )


def postgres_dsn() -> str:
    """A libpq connection string for psycopg (the raw SQL baseline)."""
    return os.environ["DATABASE_URL"]


# --- statistics and printing ----------------------------------------------------------------


def percentile(values, fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class RunResult:
    name: str
    count: int = 0
    seconds: float = 0.0
    latencies: list = field(default_factory=list)  # seconds
    errors: dict = field(default_factory=dict)  # label -> count
    error_sample: str = ""
    note: str = ""
    cpu_ms: dict = field(default_factory=dict)  # per request: server, postgres, clients

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def ms(self, fraction) -> float:
        return percentile(self.latencies, fraction) * 1000

    def line(self, width=34) -> str:
        if not self.count and self.note:
            return f"  {self.name:<{width}} {self.note}"
        text = (
            f"  {self.name:<{width}} {self.rate:8.1f}/s   p50 {self.ms(0.5):7.1f} ms"
            f"   p95 {self.ms(0.95):7.1f} ms   p99 {self.ms(0.99):7.1f} ms"
        )
        if self.errors:
            text += "   errors " + ", ".join(f"{k}: {v}" for k, v in self.errors.items())
        if self.note:
            text += f"   ({self.note})"
        if self.cpu_ms:
            text += "\n  {:<{}} CPU per request: {}".format(
                "",
                width,
                ", ".join(f"{key} {value:.2f} ms" for key, value in self.cpu_ms.items()),
            )
        return text

    @property
    def cpu_total_ms(self) -> float:
        return sum(self.cpu_ms.values())


# --- CPU per request ------------------------------------------------------------------------

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _processes():
    """(pid, command name, parent, process group, CPU seconds, CPU seconds of its exited
    children) of every process /proc shows."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                text = stat.read()
        except OSError:
            continue  # it ended meanwhile
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        cpu = (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
        children = (int(fields[13]) + int(fields[14])) / _CLOCK_TICKS
        yield int(entry.name), name, int(fields[1]), int(fields[2]), cpu, children


class CpuMeter:
    """CPU seconds spent by the server (gunicorn's process group), PostgreSQL (every
    ``postgres`` process) and this process (the load generator's threads) between two
    readings. Throughput on a shared machine moves with its neighbours; the CPU an order
    costs does much less, so it is the steadier figure for comparing two versions."""

    def __init__(self, server_groups, *, server_label="server", own_label="clients"):
        """``server_groups``: the process group (or groups) of the processes measured as
        the server; ``own_label`` names what this process does meanwhile."""
        if isinstance(server_groups, int):
            server_groups = {server_groups}
        self.server_groups = set(server_groups or ())
        self.server_label, self.own_label = server_label, own_label

    def read(self) -> dict:
        totals = {self.server_label: 0.0, "postgres": 0.0}
        if os.path.isdir("/proc"):
            processes = list(_processes())
            postgres = {pid for pid, name, *_ in processes if name == "postgres"}
            for pid, _name, parent, group, cpu, children in processes:
                if group in self.server_groups:
                    totals[self.server_label] += cpu + children
                elif pid in postgres:
                    totals["postgres"] += cpu
                    if parent not in postgres:
                        # The postmaster: what its backends that ended (a connection
                        # closed after a task) spent is counted in it.
                        totals["postgres"] += children
        totals[self.own_label] = time.process_time()
        return totals

    @staticmethod
    def per_request(before: dict, after: dict, count: int) -> dict:
        if not count:
            return {}
        return {key: 1000 * (after[key] - before[key]) / count for key in before}


def header(title: str) -> None:
    print(f"\n== {title} ==", flush=True)


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "n/a"


def mean(values) -> float:
    return statistics.fmean(values) if values else float("nan")


# --- gunicorn ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """A real gunicorn serving oms_site.wsgi on a free port, for the duration of a block."""

    def __init__(self, *, workers=2, threads=4):
        self.workers, self.threads = workers, threads
        self.port = free_port()
        self.process = None
        self.log = ROOT / "var" / "bench-gunicorn.log"

    def __enter__(self):
        self.log.parent.mkdir(exist_ok=True)
        self._log_file = open(self.log, "w")  # noqa: SIM115 (closed in __exit__)
        self.process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "oms_site.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--threads",
                str(self.threads),
                "--keep-alive",
                "30",
                "--graceful-timeout",
                "5",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=os.environ.copy(),
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log}")
            try:
                status, _ = request_once(self.port, "GET", "/healthz")
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer /healthz within 60 s; see {self.log}")

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log_file.close()
        return False


def request_once(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# --- load generators -----------------------------------------------------------------------


class Client:
    """One keep-alive HTTP connection; reconnects when the server closes it."""

    def __init__(self, port):
        self.port = port
        self.conn = None

    def post(self, path, payload: dict, headers: dict):
        body = json.dumps(payload).encode()
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.conn.request("POST", path, body=body, headers=headers)
                response = self.conn.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise RuntimeError("unreachable")

    def close(self):
        if self.conn is not None:
            self.conn.close()


def run_closed_loop(name, count, clients, make_request, *, ok=(201,), meter=None) -> RunResult:
    """``clients`` threads send ``count`` requests back to back (each waits for its answer).

    ``make_request(index, state)`` does one request and returns (status, body); ``state``
    is a per-thread dict (for its connection). With a ``CpuMeter``, the result also says
    what CPU a request cost each side.
    """
    result = RunResult(name)
    cpu_before = meter.read() if meter is not None else None
    counter = iter(range(count))
    lock = threading.Lock()
    latencies = []

    def worker():
        state = {}
        local = []
        try:
            while True:
                with lock:
                    index = next(counter, None)
                if index is None:
                    break
                started = time.perf_counter()
                try:
                    status, body = make_request(index, state)
                except Exception as exc:  # a benchmark reports errors, it does not stop
                    status, body = type(exc).__name__, str(exc).encode()
                local.append(time.perf_counter() - started)
                if status not in ok:
                    with lock:
                        result.errors[str(status)] = result.errors.get(str(status), 0) + 1
                        if not result.error_sample:
                            result.error_sample = body[:300].decode(errors="replace")
        finally:
            for closer in state.get("closers", []):
                closer()
            with lock:
                latencies.extend(local)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.seconds = time.perf_counter() - started
    result.latencies = latencies
    result.count = count - sum(result.errors.values())
    if meter is not None:
        result.cpu_ms = CpuMeter.per_request(cpu_before, meter.read(), count)
    return result


def run_paced(name, rate, seconds, clients, make_request, *, ok=(201,)) -> RunResult:
    """Open loop: request i is due at start + i/rate, whatever happened to the others.

    Latency counts from the moment a request was due, so a server that falls behind shows
    it (no coordinated omission). Requests still unsent at twice the planned duration are
    given up (a server far too slow would otherwise keep the run going for minutes); they
    are reported as "not sent".
    """
    total = int(rate * seconds)
    result = RunResult(name)
    deadline_offset = 2 * seconds
    unsent = []
    counter = iter(range(total))
    lock = threading.Lock()
    latencies = []
    start = time.perf_counter() + 0.2

    def worker():
        state = {}
        local = []
        try:
            while True:
                with lock:
                    index = next(counter, None)
                if index is None:
                    break
                due = start + index / rate
                now = time.perf_counter()
                if now > start + deadline_offset:
                    with lock:
                        unsent.append(index)
                    continue
                if due > now:
                    time.sleep(due - now)
                try:
                    status, body = make_request(index, state)
                except Exception as exc:
                    status, body = type(exc).__name__, str(exc).encode()
                local.append(time.perf_counter() - due)
                if status not in ok:
                    with lock:
                        result.errors[str(status)] = result.errors.get(str(status), 0) + 1
                        if not result.error_sample:
                            result.error_sample = body[:300].decode(errors="replace")
        finally:
            for closer in state.get("closers", []):
                closer()
            with lock:
                latencies.extend(local)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.seconds = time.perf_counter() - start
    result.latencies = latencies
    result.count = total - len(unsent) - sum(result.errors.values())
    if unsent:
        result.note = f"{len(unsent)} of {total} not sent: the server fell too far behind"
    return result
