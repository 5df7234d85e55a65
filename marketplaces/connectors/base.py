"""The connector interface: what every marketplace adapter does, in our terms.

A connector speaks one marketplace's documented wire format over HTTP (through
``http.MarketplaceHttp``: rate limits, retries, token refresh) and translates:

- ``fetch_orders``: one page of orders changed since a time, plus the next page's token;
- ``complete``: whatever else a record needs before it can be mapped (Amazon's line items
  come from a second call per order), done outside any database transaction;
- ``map_order``: a raw record -> ``RemoteOrder`` (our vocabulary: lines by seller SKU,
  buyer, address, money as ``Decimal``, the marketplace status and what it means for us
  through the connector's ``STATUS_MAP``); a record that can't be read raises
  ``MalformedRecord``;
- ``confirm_shipment``: carrier + tracking for some lines, once per package;
- ``push_stock``: sellable quantities per listing, in the marketplace's batch size.
"""

import enum
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation


class Target(enum.StrEnum):
    """What a marketplace status means for our order."""

    AWAITING_PAYMENT = "awaiting_payment"  # import, hold, never allocate or ship
    TO_SHIP = "to_ship"  # paid: route and allocate
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"
    HOLD = "hold"  # needs a person (e.g. Amazon's InvoiceUnconfirmed)
    RECORD_ONLY = "record_only"  # e.g. an FBA order Amazon can't fulfil


class MarketplaceError(Exception):
    def __init__(self, message: str, *, status: int | None = None, body: str = ""):
        super().__init__(message)
        self.message = message
        self.status = status
        self.body = body[:2000]


class TemporaryError(MarketplaceError):
    """Worth trying again later: 5xx, timeouts, refused connections, throttling."""


class RateLimited(TemporaryError):
    def __init__(self, message: str, *, retry_after: float, status: int | None = 429, body=""):
        super().__init__(message, status=status, body=body)
        self.retry_after = retry_after


class PermanentError(MarketplaceError):
    """The marketplace refused the request as it is (4xx): retrying won't help."""


class AuthError(PermanentError):
    """Credentials refused: a person must rotate them."""


class MalformedRecord(Exception):
    """A record we can't read; it is logged with its payload and skipped."""

    def __init__(self, reason: str, *, external_id: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.external_id = external_id


@dataclass
class RemoteLine:
    external_id: str
    seller_sku: str
    quantity: int
    unit_price: Decimal  # net of tax, per unit
    tax: Decimal = Decimal(0)  # for the whole line
    discount: Decimal = Decimal(0)  # for the whole line
    title: str = ""
    quantity_shipped: int = 0
    quantity_cancelled: int = 0


@dataclass
class RemoteOrder:
    external_id: str
    status: str  # the marketplace's own word
    target: Target
    currency: str
    updated_at: datetime
    purchased_at: datetime | None
    lines: list[RemoteLine]
    shipping_address: dict | None  # our address keys, None while the marketplace hides it
    email: str = ""
    buyer_name: str = ""
    phone: str = ""
    shipping_total: Decimal = Decimal(0)  # net of tax
    shipping_tax: Decimal = Decimal(0)  # as the marketplace states it
    grand_total: Decimal | None = None  # as the marketplace states it
    shipping_method: str = ""
    fulfilled_by_marketplace: bool = False
    marketplace_label: str = ""
    raw: dict = field(default_factory=dict)

    def content_hash(self) -> str:
        """What we import of the order; a re-read with the same hash changes nothing."""
        data = {
            "status": self.status,
            "target": self.target.value,
            "address": self.shipping_address,
            "email": self.email,
            "lines": [
                (ln.external_id, ln.seller_sku, ln.quantity, ln.quantity_cancelled)
                for ln in self.lines
            ],
            "fba": self.fulfilled_by_marketplace,
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class OrderPage:
    records: list[dict]
    next_token: str | None


@dataclass
class StockResult:
    ok: bool
    message: str = ""


def money(value, *, what: str, external_id: str = "") -> Decimal:
    """A marketplace amount (a decimal string, usually) as Decimal, or MalformedRecord."""
    if value is None or value == "":
        return Decimal(0)
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise MalformedRecord(f"{what} is not an amount: {value!r}", external_id=external_id)
    if not amount.is_finite():
        raise MalformedRecord(f"{what} is not an amount: {value!r}", external_id=external_id)
    return amount


def whole_number(value, *, what: str, external_id: str = "") -> int:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        raise MalformedRecord(f"{what} is not a whole number: {value!r}", external_id=external_id)
    if number < 0:
        raise MalformedRecord(f"{what} is negative: {value!r}", external_id=external_id)
    return number


def split_gross(gross: Decimal, tax: Decimal, quantity: int, *, places: int = 2):
    """A line total that includes tax -> (net unit price, discount that absorbs rounding).

    ``unit_price * quantity - discount + tax == gross`` exactly, with the unit price in
    the currency's minor unit (rounded up, so the discount is never negative).
    """
    from decimal import ROUND_CEILING

    net = gross - tax
    step = Decimal(1).scaleb(-places)
    unit = (net / quantity).quantize(step, rounding=ROUND_CEILING) if quantity else Decimal(0)
    return unit, unit * quantity - net


class Connector:
    """Base class; subclasses set ``kind``, ``STATUS_MAP`` and the operations."""

    kind = ""
    label = ""
    STATUS_MAP: dict[str, Target] = {}

    def __init__(self, connection, http):
        self.connection = connection
        self.http = http
        self.options = connection.options or {}

    # --- orders in ---
    def fetch_orders(self, *, updated_after: datetime, page_token: str | None) -> OrderPage:
        raise NotImplementedError

    # A connector whose order list lacks part of each order (AliExpress's details) says so
    # and fetches the rest in complete().
    completes_records = False

    def complete(self, records: list[dict], *, skip_ids=frozenset()) -> list[dict]:
        """Fetch what the records lack (``skip_ids``: versions we already have)."""
        return records

    def map_order(self, record: dict) -> RemoteOrder:
        raise NotImplementedError

    def seller_skus(self, record: dict) -> set[str]:
        """The seller SKUs a raw record names (to look them up for a whole page at once)."""
        raise NotImplementedError

    def record_id(self, record: dict) -> str:
        """The order id of a raw record, for logs, even when the rest is unreadable."""
        raise NotImplementedError

    def target_for(self, status: str, external_id: str) -> Target:
        try:
            return self.STATUS_MAP[status]
        except KeyError:
            raise MalformedRecord(
                f"Unknown {self.label} order status {status!r}.", external_id=external_id
            )

    # --- tracking and stock out ---
    def confirm_shipment(self, *, link, push) -> dict:
        raise NotImplementedError

    def shipment_landed(self, *, link, push) -> bool:
        """After a timeout: did the confirmation arrive anyway? (Then don't send it twice.)"""
        return False

    def push_stock(self, items) -> dict:
        """``items``: list of (listing, quantity) -> {listing.pk: StockResult}."""
        raise NotImplementedError
