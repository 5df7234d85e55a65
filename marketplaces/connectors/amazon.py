"""Amazon Selling Partner API: Orders 2026-01-01, Login with Amazon tokens, Listings Items.

- Orders: ``GET /orders/2026-01-01/orders`` (searchOrders) with ``marketplaceIds``,
  ``lastUpdatedAfter``, ``maxResultsPerPage`` (1-100) and ``includedData``; the next page
  by ``paginationToken`` (the previous page's ``pagination.nextToken``) with the same
  parameters again. The items come inline, so a page is one call (Orders v0 needed a
  getOrderItems call per order; Amazon removes v0's order reads in March 2027).
- Auth: the Login-with-Amazon refresh token is exchanged at ``POST /auth/o2/token`` for an
  access token sent as ``x-amz-access-token``.
- Tracking: ``POST /orders/v0/orders/{id}/shipmentConfirmation`` (204), one per package;
  2026-01-01 keeps v0's confirmShipment.
- Stock: ``PATCH /listings/2021-08-01/items/{sellerId}/{sku}`` replacing
  ``fulfillment_availability`` with the ``DEFAULT`` (merchant) channel's quantity.

Money: an item's proceeds break down into ``ITEM`` (the line's total), ``SHIPPING``,
``DISCOUNT`` and ``TAX`` (split by ``detailedBreakdowns`` into the item's and the
shipping's). In the EU and UK prices include VAT (the connection's ``prices_include_tax``
option), so the net unit price is derived and any rounding goes into the line's discount;
shipping is kept as charged, with its tax.
"""

from datetime import datetime
from decimal import Decimal
from urllib.parse import quote

from django.utils.dateparse import parse_datetime

from . import tokens
from .base import (
    Connector,
    MalformedRecord,
    OrderPage,
    PermanentError,
    RemoteLine,
    RemoteOrder,
    StockResult,
    Target,
    money,
    split_gross,
    whole_number,
)

STATUS_MAP = {
    "PENDING_AVAILABILITY": Target.AWAITING_PAYMENT,
    "PENDING": Target.AWAITING_PAYMENT,
    "UNSHIPPED": Target.TO_SHIP,
    "PARTIALLY_SHIPPED": Target.PARTIALLY_SHIPPED,
    "SHIPPED": Target.SHIPPED,
    "CANCELLED": Target.CANCELLED,
    "UNFULFILLABLE": Target.RECORD_ONLY,
}
# The datasets an order needs beyond the basic fields: who, where to, how much, what state.
INCLUDED_DATA = "BUYER,RECIPIENT,PROCEEDS,FULFILLMENT"
ORDERS_PATH = "/orders/2026-01-01/orders"


def parse_time(value, *, what, external_id) -> datetime:
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None or parsed.tzinfo is None:
        raise MalformedRecord(f"{what} is not an ISO 8601 time: {value!r}", external_id=external_id)
    return parsed


class AmazonConnector(Connector):
    kind = "amazon"
    label = "Amazon"
    STATUS_MAP = STATUS_MAP

    def __init__(self, connection, http):
        super().__init__(connection, http)
        self.base = connection.api_base_url.rstrip("/")
        self.auth_base = (connection.auth_base_url or connection.api_base_url).rstrip("/")
        http.authorize = self._authorize

    # --- auth ---
    def _fetch_token(self):
        creds = self.connection.credentials
        body = self.http.json(
            "POST",
            f"{self.auth_base}/auth/o2/token",
            operation="lwaToken",
            data={
                "grant_type": "refresh_token",
                "refresh_token": creds.get("refresh_token", ""),
                "client_id": creds.get("client_id", ""),
                "client_secret": creds.get("client_secret", ""),
            },
            auth=False,
        )
        if "access_token" not in body:
            raise MalformedRecord("LWA answer has no access_token")
        return body["access_token"], body.get("expires_in", 3600)

    def _authorize(self, headers, params, *, refresh):
        headers["x-amz-access-token"] = tokens.access_token(
            self.connection, refresh=refresh, fetch=self._fetch_token
        )

    @property
    def marketplace_ids(self) -> list[str]:
        return list(self.options.get("marketplace_ids") or ["A1F83G8C2ARO7P"])

    # --- orders ---
    def fetch_orders(self, *, updated_after, page_token) -> OrderPage:
        params = {
            "marketplaceIds": ",".join(self.marketplace_ids),
            "lastUpdatedAfter": updated_after.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "maxResultsPerPage": str(min(max(self.connection.page_size, 1), 100)),
            "includedData": INCLUDED_DATA,
        }
        if page_token:
            params["paginationToken"] = page_token
        body = self.http.json(
            "GET", f"{self.base}{ORDERS_PATH}", operation="searchOrders", params=params
        )
        return OrderPage(
            records=list(body.get("orders") or []),
            next_token=(body.get("pagination") or {}).get("nextToken"),
        )

    def fetch_order(self, external_id: str, *, included: str = INCLUDED_DATA) -> dict | None:
        body = self.http.json(
            "GET",
            f"{self.base}{ORDERS_PATH}/{quote(external_id, safe='')}",
            operation="getOrder",
            params={"includedData": included},
        )
        return body.get("order") or None

    def seller_skus(self, record) -> set[str]:
        return {
            str((item.get("product") or {}).get("sellerSku") or "")
            for item in record.get("orderItems") or []
            if isinstance(item, dict)
        }

    def record_id(self, record) -> str:
        return str(record.get("orderId") or "")

    def record_updated_at(self, record) -> str:
        return str(record.get("lastUpdatedTime") or "")

    def map_order(self, record) -> RemoteOrder:
        external_id = self.record_id(record)
        if not external_id:
            raise MalformedRecord("The order has no orderId.")
        fulfillment = record.get("fulfillment") or {}
        status = str(fulfillment.get("fulfillmentStatus") or "")
        target = self.target_for(status, external_id)
        updated_at = parse_time(
            record.get("lastUpdatedTime"), what="lastUpdatedTime", external_id=external_id
        )
        purchased_at = parse_time(
            record.get("createdTime"), what="createdTime", external_id=external_id
        )
        items = record.get("orderItems")
        if not isinstance(items, list):
            raise MalformedRecord("The order has no orderItems.", external_id=external_id)
        total = (record.get("proceeds") or {}).get("grandTotal") or {}
        currency = str(
            total.get("currencyCode")
            or next((_unit_price(i).get("currencyCode") for i in items if _unit_price(i)), "")
            or self.connection.channel.currency
        )
        gross_prices = bool(self.options.get("prices_include_tax", True))
        lines, shipping, shipping_tax = [], Decimal(0), Decimal(0)
        for item in items:
            line, item_shipping, item_shipping_tax = self._line(item, gross_prices, external_id)
            shipping += item_shipping
            shipping_tax += item_shipping_tax
            if line is not None:
                lines.append(line)
        if gross_prices:
            shipping -= shipping_tax  # stored net, with its tax beside it
        recipient = record.get("recipient") or {}
        address = self._address(recipient.get("deliveryAddress"), external_id)
        buyer = record.get("buyer") or {}
        return RemoteOrder(
            external_id=external_id,
            status=status,
            target=target,
            currency=currency.upper(),
            updated_at=updated_at,
            purchased_at=purchased_at,
            lines=lines,
            shipping_address=address,
            email=str(buyer.get("buyerEmail") or ""),
            buyer_name=str(buyer.get("buyerName") or (address or {}).get("name", "")),
            phone=(address or {}).get("phone", ""),
            shipping_total=shipping,
            shipping_tax=shipping_tax,
            grand_total=money(total.get("amount"), what="grandTotal", external_id=external_id)
            if total
            else None,
            shipping_method=str(fulfillment.get("fulfillmentServiceLevel") or ""),
            fulfilled_by_marketplace=fulfillment.get("fulfilledBy") == "AMAZON",
            marketplace_label="Amazon",
            raw=record,
        )

    def _line(self, item, gross_prices, external_id):
        """One order item -> (our line or None, its shipping charged, its shipping's tax)."""
        if not isinstance(item, dict):
            raise MalformedRecord("An order item is not an object.", external_id=external_id)
        product = item.get("product") or {}
        item_id = str(item.get("orderItemId") or "")
        sku = str(product.get("sellerSku") or "")
        if not item_id or not sku:
            raise MalformedRecord(
                "An order item has no orderItemId or product.sellerSku.", external_id=external_id
            )
        quantity = whole_number(
            item.get("quantityOrdered"), what="quantityOrdered", external_id=external_id
        )
        shipped = whole_number(
            (item.get("fulfillment") or {}).get("quantityFulfilled", 0),
            what="quantityFulfilled",
            external_id=external_id,
        )
        proceeds = _Proceeds(item.get("proceeds"), external_id)
        unit_price = _unit_price(item)
        if proceeds.has("ITEM"):
            price = proceeds.total("ITEM")
        elif unit_price:
            price = money(unit_price.get("amount"), what="unitPrice", external_id=external_id)
            price *= quantity
        else:
            raise MalformedRecord(
                f"Order item {item_id} has neither proceeds nor a unit price.",
                external_id=external_id,
            )
        tax = proceeds.part("TAX", "ITEM")
        shipping = proceeds.total("SHIPPING") - proceeds.part("DISCOUNT", "SHIPPING")
        shipping_tax = proceeds.part("TAX", "SHIPPING")
        if quantity == 0:
            return None, shipping, shipping_tax  # a cancelled item: nothing to import
        if gross_prices:
            unit, rounding = split_gross(price, tax, quantity)
        else:
            unit, rounding = split_gross(price + tax, tax, quantity)
        line = RemoteLine(
            external_id=item_id,
            seller_sku=sku,
            quantity=quantity,
            unit_price=unit,
            tax=tax,
            discount=proceeds.part("DISCOUNT", "ITEM") + rounding,
            title=str(product.get("title") or "")[:200],
            quantity_shipped=min(shipped, quantity),
        )
        return line, shipping, shipping_tax

    @staticmethod
    def _address(raw, external_id) -> dict | None:
        if not raw or not raw.get("addressLine1"):
            return None  # Pending orders: Amazon releases the address once paid
        line2 = " ".join(
            str(raw.get(k) or "").strip() for k in ("addressLine2", "addressLine3")
        ).strip()
        return {
            "name": str(raw.get("name") or ""),
            "line1": str(raw.get("addressLine1") or ""),
            "line2": line2,
            "city": str(raw.get("city") or ""),
            "region": str(raw.get("stateOrRegion") or ""),
            "postal_code": str(raw.get("postalCode") or ""),
            "country": str(raw.get("countryCode") or "").upper(),
            "phone": str(raw.get("phone") or ""),
        }

    # --- tracking ---
    def confirm_shipment(self, *, link, push) -> dict:
        order = link.payload
        body = {
            "marketplaceId": (order.get("salesChannel") or {}).get("marketplaceId")
            or self.marketplace_ids[0],
            "packageDetail": {
                "packageReferenceId": push.reference,
                "carrierCode": push.carrier or "Other",
                "carrierName": push.carrier or "Other",
                "shippingMethod": (order.get("fulfillment") or {}).get("fulfillmentServiceLevel")
                or "Standard",
                "trackingNumber": push.tracking_number,
                "shipDate": push.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "orderItems": [
                    {"orderItemId": line["external_line_id"], "quantity": line["quantity"]}
                    for line in push.lines
                ],
            },
        }
        self.http.request(
            "POST",
            f"{self.base}/orders/v0/orders/{quote(link.external_id, safe='')}/shipmentConfirmation",
            operation="confirmShipment",
            json_body=body,
        )
        return {"status": 204, "packageReferenceId": push.reference}

    def shipment_landed(self, *, link, push) -> bool:
        order = self.fetch_order(link.external_id, included="FULFILLMENT") or {}
        shipped = {
            str(i.get("orderItemId")): int(
                (i.get("fulfillment") or {}).get("quantityFulfilled") or 0
            )
            for i in order.get("orderItems") or []
        }
        return all(
            shipped.get(line["external_line_id"], 0) >= line["quantity"] for line in push.lines
        )

    # --- stock ---
    def push_stock(self, items) -> dict:
        seller_id = self.options.get("seller_id", "")
        product_type = self.options.get("product_type", "PRODUCT")
        results = {}
        for listing, quantity in items:
            body = {
                "productType": listing.external_ref.get("product_type", product_type),
                "patches": [
                    {
                        "op": "replace",
                        "path": "/attributes/fulfillment_availability",
                        "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}],
                    }
                ],
            }
            try:
                answer = self.http.json(
                    "PATCH",
                    f"{self.base}/listings/2021-08-01/items/{quote(seller_id, safe='')}/"
                    f"{quote(listing.seller_sku, safe='')}",
                    operation="patchListingsItem",
                    params={"marketplaceIds": ",".join(self.marketplace_ids)},
                    json_body=body,
                )
            except PermanentError as exc:
                results[listing.pk] = StockResult(ok=False, message=exc.message)
                continue
            ok = answer.get("status") == "ACCEPTED"
            issues = "; ".join(i.get("message", "") for i in answer.get("issues") or [])
            results[listing.pk] = StockResult(ok=ok, message=issues or answer.get("status", ""))
        return results


def _unit_price(item) -> dict:
    return ((item.get("product") or {}).get("price") or {}).get("unitPrice") or {}


class _Proceeds:
    """An order item's ``proceeds.breakdowns``: totals by type (``ITEM``, ``SHIPPING``,
    ``TAX``, ``DISCOUNT`` ...) and, for ``TAX`` and ``DISCOUNT``, their parts by subtype.
    Discounts count as positive amounts whatever sign they come with."""

    def __init__(self, raw, external_id):
        self.totals, self.parts = {}, {}
        for entry in (raw or {}).get("breakdowns") or []:
            kind = str(entry.get("type") or "")
            amount = money(
                (entry.get("subtotal") or {}).get("amount"), what=kind, external_id=external_id
            )
            self.totals[kind] = self.totals.get(kind, Decimal(0)) + amount
            for detail in entry.get("detailedBreakdowns") or []:
                key = (kind, str(detail.get("subtype") or ""))
                value = money(
                    (detail.get("value") or {}).get("amount"), what=kind, external_id=external_id
                )
                self.parts[key] = self.parts.get(key, Decimal(0)) + value

    def has(self, kind) -> bool:
        return kind in self.totals

    def total(self, kind) -> Decimal:
        amount = self.totals.get(kind, Decimal(0))
        return abs(amount) if kind == "DISCOUNT" else amount

    def part(self, kind, subtype) -> Decimal:
        """The part of ``kind`` for ``subtype``; without a detailed breakdown, all of it
        counts as the item's."""
        if any(k == kind for k, _ in self.parts):
            amount = self.parts.get((kind, subtype), Decimal(0))
        else:
            amount = self.totals.get(kind, Decimal(0)) if subtype == "ITEM" else Decimal(0)
        return abs(amount) if kind == "DISCOUNT" else amount
