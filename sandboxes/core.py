"""The common part of every marketplace stub: an order store, a generator, faults on
demand, and a tiny threaded HTTP server. Standard library only, no Django.

Each marketplace module renders the stored orders in its own wire format and speaks its
own auth; this module keeps them in one neutral shape:

    {"id", "created", "updated", "status" (pending | unshipped | partially_shipped |
     shipped | cancelled), "afn", "currency", "buyer": {"name", "email"},
     "address": {...} , "shipping": "4.99", "tax_rate": "0.20", "prices_include_tax",
     "lines": [{"line_id", "sku", "title", "quantity", "unit_price", "shipped",
                "cancelled"}], "shipments": [...], "fulfillments": [...]}

Control endpoints under ``/_sandbox/`` (tests and the load-test command use them):
``GET state``, ``POST faults``, ``POST generate {"count"}``, ``POST orders`` (one given
order), ``POST orders/<id>/<action>`` (pay, cancel, cancel_line, address, ship), ``GET
received`` (shipment confirmations and stock updates it accepted), ``POST reset``.
"""

import json
import random
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import orjson


def _encode(payload) -> bytes:
    """An answer's body. orjson: a page of a hundred orders is a quarter of a megabyte,
    and the sandbox shares the benchmark's two cores with the workers it answers, which a
    real marketplace would not."""
    if isinstance(payload, bytes):
        return payload
    try:
        return orjson.dumps(payload)
    except orjson.JSONEncodeError:
        return json.dumps(payload).encode()


FIRST = [
    "Erika",
    "Lukas",
    "Anna",
    "Jonas",
    "Emma",
    "Louis",
    "Olivia",
    "Noah",
    "Sofia",
    "Mateo",
    "Amelia",
    "Oliver",
]
LAST = [
    "Mustermann",
    "Schmidt",
    "Martin",
    "Dubois",
    "Smith",
    "Jones",
    "Rossi",
    "Garcia",
    "Jansen",
    "Kowalski",
]
ADDRESSES = [
    {
        "line1": "221B Baker Street",
        "city": "London",
        "postal_code": "NW1 6XE",
        "region": "",
        "country": "GB",
    },
    {
        "line1": "10 Downing Street",
        "city": "London",
        "postal_code": "SW1A 2AA",
        "region": "",
        "country": "GB",
    },
    {
        "line1": "Heidestrasse 17",
        "city": "Köln",
        "postal_code": "51147",
        "region": "",
        "country": "DE",
    },
    {
        "line1": "12 Rue de Rivoli",
        "city": "Paris",
        "postal_code": "75004",
        "region": "",
        "country": "FR",
    },
    {
        "line1": "350 Fifth Avenue",
        "city": "New York",
        "postal_code": "10118",
        "region": "NY",
        "country": "US",
    },
    {
        "line1": "1600 Amphitheatre Pkwy",
        "city": "Mountain View",
        "postal_code": "94043",
        "region": "CA",
        "country": "US",
    },
    {
        "line1": "Prinsengracht 263",
        "city": "Amsterdam",
        "postal_code": "1016 GV",
        "region": "",
        "country": "NL",
    },
    {
        "line1": "Calle Mayor 1",
        "city": "Madrid",
        "postal_code": "28013",
        "region": "",
        "country": "ES",
    },
]


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def money(value) -> str:
    return str(Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


class Faults:
    """Faults on demand. Counters are used up one request at a time; rates are random."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.rate_limit = 0  # next N API requests answer 429
            self.retry_after = 1.0
            self.server_error = 0  # next N API requests answer 5xx
            self.error_status = 503
            self.slow = 0  # next N API requests wait slow_seconds first
            self.slow_seconds = 2.0
            self.down = False  # every API request: connection closed, no answer
            self.malformed = 0  # next N order pages carry one broken record
            self.duplicate_across_pages = False  # repeat a page's last order on the next
            self.change_during_paging = 0  # next N pages: an order already read is changed
            self.token_ttl = 3600  # seconds an access token lives
            self.random_429 = 0.0  # probability per request (the demo's weather)
            self.random_5xx = 0.0

    def update(self, data: dict):
        with self.lock:
            for key, value in data.items():
                if not hasattr(self, key) or key in ("lock",):
                    raise KeyError(key)
                setattr(self, key, type(getattr(self, key))(value))

    def take(self, name: str) -> bool:
        with self.lock:
            left = getattr(self, name)
            if left:
                setattr(self, name, left - 1)
                return True
            return False

    def as_dict(self):
        return {k: v for k, v in vars(self).items() if k != "lock"}


class Store:
    """Orders and the catalogue, shared by the request threads and the generator."""

    def __init__(self, *, catalog, currencies, seed=7, id_maker, afn_share=0.0, pending_share=0.15):
        self.lock = threading.RLock()
        self.orders: dict[str, dict] = {}
        self.catalog = {item["sku"]: dict(item) for item in catalog}
        self.currencies = currencies
        self.rng = random.Random(seed)
        self.id_maker = id_maker
        self.afn_share = afn_share
        self.pending_share = pending_share
        self.received = {"shipments": [], "stock": []}
        self.sequence = 0
        self._clock = now()
        # The orders by (updated, id), kept until an order is added or changes its update
        # time: every page of a sync reads it, and sorting ten thousand orders per page
        # made the stub's answer slower with each page.
        self._sorted = None

    def tick_clock(self) -> datetime:
        """Strictly increasing update times (two changes never share a second's order)."""
        moment = now()
        if moment <= self._clock:
            moment = self._clock + timedelta(seconds=1)
        self._clock = moment
        return moment

    def sorted_orders(self) -> list:
        """The orders by last update (then id). Shared between callers: read it only."""
        with self.lock:
            if self._sorted is None or len(self._sorted) != len(self.orders):
                self._sorted = sorted(self.orders.values(), key=lambda o: (o["updated"], o["id"]))
            return self._sorted

    def add(self, order: dict) -> dict:
        with self.lock:
            self.orders[order["id"]] = order
            self._sorted = None
        return order

    def touch(self, order, **changes):
        with self.lock:
            order.update(changes)
            order["updated"] = self.tick_clock()
            self._sorted = None

    def clear(self) -> None:
        with self.lock:
            self.orders.clear()
            self._sorted = None
            self.received = {"shipments": [], "stock": []}

    def generate(
        self, count=1, *, at=None, status=None, afn=None, lines=None, currency=None
    ) -> list:
        made = []
        with self.lock:
            listed = [item for item in self.catalog.values() if int(item.get("quantity", 0)) > 0]
            if not listed and lines is None:
                return made
            for _ in range(count):
                self.sequence += 1
                moment = at or self.tick_clock()
                buyer_first, buyer_last = self.rng.choice(FIRST), self.rng.choice(LAST)
                name = f"{buyer_first} {buyer_last}"
                is_afn = self.rng.random() < self.afn_share if afn is None else afn
                state = status or (
                    "pending" if self.rng.random() < self.pending_share else "unshipped"
                )
                chosen = lines or [
                    {"sku": item["sku"], "quantity": self.rng.choice([1, 1, 1, 2])}
                    for item in self.rng.sample(
                        listed, min(len(listed), self.rng.choice([1, 1, 2, 3]))
                    )
                ]
                order_lines = []
                for index, line in enumerate(chosen, start=1):
                    item = self.catalog.get(line["sku"], {"title": line["sku"], "price": "10.00"})
                    if line["sku"] in self.catalog and not is_afn:
                        item["quantity"] = max(int(item.get("quantity", 0)) - line["quantity"], 0)
                    order_lines.append(
                        {
                            "line_id": f"{self.sequence}{index:02d}{self.rng.randint(1000, 9999)}",
                            "sku": line["sku"],
                            "title": item.get("title", line["sku"]),
                            "quantity": int(line["quantity"]),
                            "unit_price": money(line.get("unit_price", item.get("price", "10.00"))),
                            "shipped": 0,
                            "cancelled": 0,
                        }
                    )
                address = dict(self.rng.choice(ADDRESSES), name=name, phone="+44 20 7946 0000")
                order = {
                    "id": self.id_maker(self.sequence, self.rng),
                    "created": moment,
                    "updated": moment,
                    "status": state,
                    "afn": is_afn,
                    "currency": currency or self.rng.choice(self.currencies),
                    "buyer": {
                        "name": name,
                        "email": f"{buyer_first}.{buyer_last}.{self.sequence}@buyers.example.com".lower(),
                    },
                    "address": address,
                    "shipping": money(self.rng.choice(["0", "3.99", "4.99"])),
                    "tax_rate": "0.20",
                    "lines": order_lines,
                    "shipments": [],
                }
                made.append(self.add(order))
        return made

    def advance(self, order_ids=None, *, paid=0.6, cancel=0.03, address=0.02, afn_ship=0.3):
        """Move some orders on: paid, cancelled by the buyer, address edited, FBA shipped."""
        with self.lock:
            for order in list(self.orders.values()):
                if order_ids is not None and order["id"] not in order_ids:
                    continue
                roll = self.rng.random()
                if order["status"] == "pending" and roll < paid:
                    self.touch(order, status="unshipped")
                elif order["status"] in ("pending", "unshipped") and roll < cancel:
                    self.cancel(order)
                elif (
                    order["status"] == "unshipped" and not order["afn"] and roll < cancel + address
                ):
                    new = dict(self.rng.choice(ADDRESSES), name=order["address"]["name"], phone="")
                    self.touch(order, address=new)
                elif order["status"] == "unshipped" and order["afn"] and roll < afn_ship:
                    for line in order["lines"]:
                        line["shipped"] = line["quantity"] - line["cancelled"]
                    self.touch(order, status="shipped")

    def cancel(self, order):
        for line in order["lines"]:
            line["cancelled"] = line["quantity"] - line["shipped"]
            if line["sku"] in self.catalog and not order["afn"]:
                item = self.catalog[line["sku"]]
                item["quantity"] = int(item.get("quantity", 0)) + line["cancelled"]
        self.touch(order, status="cancelled")

    def act(self, order_id, action, data) -> dict:
        with self.lock:
            order = self.orders.get(order_id)
            if order is None:
                raise KeyError(order_id)
            if action == "pay":
                self.touch(order, status="unshipped")
            elif action == "cancel":
                self.cancel(order)
            elif action == "cancel_line":
                line = order["lines"][int(data.get("index", 0))]
                line["cancelled"] = min(
                    line["quantity"], line["cancelled"] + int(data.get("quantity", 1))
                )
                if all(ln["cancelled"] >= ln["quantity"] for ln in order["lines"]):
                    order["status"] = "cancelled"
                self.touch(order)
            elif action == "address":
                self.touch(order, address={**order["address"], **data})
            elif action == "ship":
                for line in order["lines"]:
                    line["shipped"] = line["quantity"] - line["cancelled"]
                self.touch(order, status="shipped")
            else:
                raise KeyError(action)
            return order

    def ship_lines(self, order, shipped: dict):
        """A confirmation arrived: line_id -> quantity."""
        for line in order["lines"]:
            line["shipped"] = min(
                line["quantity"] - line["cancelled"],
                line["shipped"] + shipped.get(line["line_id"], 0),
            )
        done = all(ln["shipped"] + ln["cancelled"] >= ln["quantity"] for ln in order["lines"])
        self.touch(order, status="shipped" if done else "partially_shipped")


class Marketplace:
    """A marketplace's routes on top of a Store; subclasses implement ``route``."""

    name = "marketplace"

    def __init__(self, store: Store, faults: Faults, credentials: dict):
        self.store = store
        self.faults = faults
        self.credentials = credentials
        self.tokens: dict[str, float] = {}  # access token -> expiry (epoch)
        self.token_lock = threading.Lock()
        self.requests = 0
        self.throttled = 0
        # order id -> ((update time, variant), encoded JSON): see ``rendered``.
        self._rendered: dict[str, tuple] = {}
        self._rendered_lock = threading.Lock()

    def issue_token(self, prefix: str) -> tuple[str, int]:
        token = f"{prefix}{secrets.token_urlsafe(24)}"
        ttl = int(self.faults.token_ttl)
        with self.token_lock:
            self.tokens[token] = time.time() + ttl
        return token, ttl

    def token_valid(self, token: str) -> bool:
        with self.token_lock:
            return self.tokens.get(token, 0) > time.time()

    def expire_tokens(self):
        with self.token_lock:
            self.tokens.clear()

    # --- rendering ---
    def rendered(self, order: dict, variant, render):
        """``render()``'s JSON for the order, encoded once per version of the order (its
        update time, which every change moves on) and variant (what the caller asked to
        include); answers splice the encoded text in. The stub shares the machine with
        the OMS it answers, which a real marketplace would not; Amazon's ``prerender``
        lets a benchmark pay for the encoding before its clock starts. An order orjson
        can't encode comes back as a dict, uncached, for ``_encode``'s fallback (which
        can't read an encoded fragment: the rest of such an answer is plain strings and
        numbers, which orjson always encodes)."""
        key = (order["updated"], variant)
        cached = self._rendered.get(order["id"])
        if cached is not None and cached[0] == key:
            return cached[1]
        data = render()
        try:
            fragment = orjson.Fragment(orjson.dumps(data))
        except orjson.JSONEncodeError:
            return data
        with self._rendered_lock:
            self._rendered[order["id"]] = (key, fragment)
        return fragment

    # --- request handling ---
    def handle(self, method, path, query, headers, body):
        if path.startswith("/_sandbox/"):
            return self.control(method, path[len("/_sandbox/") :], body)
        self.requests += 1
        faults = self.faults
        if faults.down:
            return None  # the server closes the connection without an answer
        if faults.take("slow"):
            time.sleep(faults.slow_seconds)
        if faults.take("rate_limit") or (faults.random_429 and random.random() < faults.random_429):
            self.throttled += 1
            return self.too_many(faults.retry_after)
        if faults.take("server_error") or (
            faults.random_5xx and random.random() < faults.random_5xx
        ):
            return self.server_error(faults.error_status)
        return self.route(method, path, query, headers, body)

    def too_many(self, retry_after):
        return (
            429,
            {"Retry-After": str(retry_after)},
            {"errors": [{"message": "Too many requests"}]},
        )

    def server_error(self, status):
        return status, {}, {"errors": [{"message": "Service temporarily unavailable"}]}

    def route(self, method, path, query, headers, body):
        raise NotImplementedError

    # --- control ---
    def control(self, method, path, body):
        data = json.loads(body or b"{}") if body else {}
        if path == "state" and method == "GET":
            return (
                200,
                {},
                {
                    "orders": len(self.store.orders),
                    "requests": self.requests,
                    "throttled": self.throttled,
                    "faults": self.faults.as_dict(),
                    "catalog": list(self.store.catalog.values()),
                },
            )
        if path == "faults" and method == "POST":
            try:
                self.faults.update(data)
            except (KeyError, ValueError) as exc:
                return 400, {}, {"error": f"unknown or bad fault {exc}"}
            if data.get("token_ttl") is not None and float(data["token_ttl"]) <= 0:
                self.expire_tokens()
            return 200, {}, self.faults.as_dict()
        if path == "reset" and method == "POST":
            self.store.clear()
            self.faults.reset()
            return 200, {}, {"ok": True}
        if path == "expire-tokens" and method == "POST":
            self.expire_tokens()
            return 200, {}, {"ok": True}
        if path == "generate" and method == "POST":
            made = self.store.generate(
                int(data.get("count", 1)),
                status=data.get("status"),
                afn=data.get("afn"),
                lines=data.get("lines"),
                currency=data.get("currency"),
            )
            return 200, {}, {"created": len(made), "ids": [o["id"] for o in made][:1000]}
        if path == "orders" and method == "POST":
            made = self.store.generate(
                1,
                status=data.get("status", "unshipped"),
                afn=bool(data.get("afn", False)),
                lines=data["lines"],
                currency=data.get("currency"),
            )
            order = made[0]
            if data.get("address"):
                order["address"].update(data["address"])
            if data.get("address") is None and "address" in data:
                order["address"] = None
            return 201, {}, {"id": order["id"]}
        if path.startswith("orders/") and method == "POST":
            _, order_id, action = path.split("/", 2)
            try:
                order = self.store.act(order_id, action, data)
            except KeyError as exc:
                return 404, {}, {"error": f"unknown {exc}"}
            return 200, {}, {"id": order["id"], "status": order["status"]}
        if path == "received" and method == "GET":
            return 200, {}, self.store.received
        if path == "advance" and method == "POST":
            self.store.advance(paid=float(data.get("paid", 1.0)), cancel=0, address=0, afn_ship=0)
            return 200, {}, {"ok": True}
        return 404, {}, {"error": "unknown control path"}


def make_handler(marketplace: Marketplace):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body leave in two writes; with Nagle's algorithm on, the body waits
        # for the client's delayed ACK of the headers (~40 ms on Linux) on a keep-alive
        # connection: a latency no marketplace has (their slowness is the "slow" fault).
        disable_nagle_algorithm = True

        def _serve(self):
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            try:
                answer = marketplace.handle(self.command, parts.path, query, self.headers, body)
            except Exception as exc:  # a stub bug must look like a 500, not hang
                answer = (
                    500,
                    {},
                    {"errors": [{"message": f"stub error {type(exc).__name__}: {exc}"}]},
                )
            if answer is None:
                self.close_connection = True
                self.connection.close()
                return
            status, headers, payload = answer
            raw = b"" if payload is None else _encode(payload)
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            if raw or status != 204:
                self.send_header("Content-Type", headers.get("Content-Type", "application/json"))
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            if raw:
                self.wfile.write(raw)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve  # noqa: N815

        def log_message(self, *args):
            pass

    return Handler


class SandboxServer:
    """Run a marketplace on 127.0.0.1:<port> in a thread (tests) or forever (make run)."""

    def __init__(self, marketplace: Marketplace, *, host="127.0.0.1", port=0):
        self.marketplace = marketplace
        ThreadingHTTPServer.daemon_threads = True
        self.server = ThreadingHTTPServer((host, port), make_handler(marketplace))
        self.server.request_queue_size = 128
        self.thread = None
        self.ticker = None
        self._stop = threading.Event()

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def start_generator(self, *, orders_per_minute: float, tick_seconds: float = 5.0):
        """New orders keep arriving and older ones move on (the demo's living market)."""

        def run():
            owed = 0.0
            while not self._stop.wait(tick_seconds):
                owed += orders_per_minute * tick_seconds / 60.0
                count, owed = int(owed), owed - int(owed)
                if count:
                    made = self.marketplace.store.generate(count)
                    notify = getattr(self.marketplace, "send_webhook", None)
                    for order in made if notify else ():
                        notify(order, "orders/create")
                self.marketplace.store.advance()

        self.ticker = threading.Thread(target=run, daemon=True)
        self.ticker.start()

    def stop(self):
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
