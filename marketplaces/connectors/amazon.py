"""Amazon Selling Partner API: Orders v0, Login with Amazon tokens, Listings Items.

- Orders: ``GET /orders/v0/orders`` with ``MarketplaceIds``, ``LastUpdatedAfter``,
  ``MaxResultsPerPage`` (1-100) and ``NextToken``; lines from
  ``GET /orders/v0/orders/{id}/orderItems`` (paged by ``NextToken`` too), fetched for the
  orders of a page concurrently, after the page's rate-limit tokens are taken in one go.
- Auth: the Login-with-Amazon refresh token is exchanged at ``POST /auth/o2/token`` for an
  access token sent as ``x-amz-access-token``.
- Tracking: ``POST /orders/v0/orders/{id}/shipmentConfirmation`` (204), one per package.
- Stock: ``PATCH /listings/2021-08-01/items/{sellerId}/{sku}`` replacing
  ``fulfillment_availability`` with the ``DEFAULT`` (merchant) channel's quantity.

Money: ``ItemPrice`` is the line's total; in the EU and UK it includes VAT (the
connection's ``prices_include_tax`` option), so the net unit price is derived and any
rounding goes into the line's discount; shipping is kept as charged, with its tax.
"""

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from decimal import Decimal
from urllib.parse import quote

from django.db import connection as db_connection
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
    TemporaryError,
    money,
    split_gross,
    whole_number,
)

STATUS_MAP = {
    "Pending": Target.AWAITING_PAYMENT,
    "PendingAvailability": Target.AWAITING_PAYMENT,
    "Unshipped": Target.TO_SHIP,
    "PartiallyShipped": Target.PARTIALLY_SHIPPED,
    "Shipped": Target.SHIPPED,
    "Canceled": Target.CANCELLED,
    "Unfulfillable": Target.RECORD_ONLY,
    "InvoiceUnconfirmed": Target.HOLD,
}
ITEMS_KEY = "OrderItems"  # where complete() puts the getOrderItems answer


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
        params = {"MarketplaceIds": ",".join(self.marketplace_ids)}
        if page_token:
            params["NextToken"] = page_token
        else:
            params["LastUpdatedAfter"] = updated_after.strftime("%Y-%m-%dT%H:%M:%SZ")
            params["MaxResultsPerPage"] = str(min(max(self.connection.page_size, 1), 100))
        body = self.http.json(
            "GET", f"{self.base}/orders/v0/orders", operation="getOrders", params=params
        )
        payload = body.get("payload") or {}
        return OrderPage(
            records=list(payload.get("Orders") or []), next_token=payload.get("NextToken")
        )

    def fetch_order(self, external_id: str) -> dict | None:
        body = self.http.json(
            "GET",
            f"{self.base}/orders/v0/orders/{quote(external_id, safe='')}",
            operation="getOrder",
        )
        return body.get("payload") or None

    def _items(self, order_id: str) -> list[dict]:
        items, token = [], None
        while True:
            params = {"NextToken": token} if token else None
            body = self.http.json(
                "GET",
                f"{self.base}/orders/v0/orders/{quote(order_id, safe='')}/orderItems",
                operation="getOrderItems",
                params=params,
                take_token=token is not None,
            )
            payload = body.get("payload") or {}
            items.extend(payload.get("OrderItems") or [])
            token = payload.get("NextToken")
            if not token:
                return items

    def complete(self, records, *, skip_ids=frozenset()) -> list[dict]:
        """Fetch each order's lines (getOrderItems) unless we already have this version."""
        wanted = [
            r for r in records if r.get("AmazonOrderId") and r["AmazonOrderId"] not in skip_ids
        ]
        if not wanted:
            return records
        # Take the page's tokens in bursts here, so the threads below only do HTTP.
        _rate, burst = self.http.limits("getOrderItems")
        remaining = len(wanted)
        while remaining:
            take = min(remaining, burst)
            self.http.take("getOrderItems", take)
            remaining -= take

        def fetch(record):
            try:
                record[ITEMS_KEY] = self._items(record["AmazonOrderId"])
            except (TemporaryError, PermanentError) as exc:
                # Kept on the record: that order fails alone and is replayable.
                record["_fetch_error"] = exc.message

        def fetch_in_thread(record):
            try:
                fetch(record)
            finally:
                db_connection.close()  # this thread's own connection, if it opened one

        workers = int(self.options.get("item_fetch_concurrency", 4))
        if workers <= 1 or len(wanted) == 1:
            for record in wanted:
                fetch(record)
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                list(pool.map(fetch_in_thread, wanted))
        return records

    def seller_skus(self, record) -> set[str]:
        return {str(i.get("SellerSKU") or "") for i in record.get(ITEMS_KEY) or []}

    def record_id(self, record) -> str:
        return str(record.get("AmazonOrderId") or "")

    def record_updated_at(self, record) -> str:
        return str(record.get("LastUpdateDate") or "")

    def map_order(self, record) -> RemoteOrder:
        external_id = self.record_id(record)
        if not external_id:
            raise MalformedRecord("The order has no AmazonOrderId.")
        if record.get("_fetch_error"):
            raise MalformedRecord(
                f"Its lines could not be fetched: {record['_fetch_error']}",
                external_id=external_id,
            )
        status = str(record.get("OrderStatus") or "")
        target = self.target_for(status, external_id)
        updated_at = parse_time(
            record.get("LastUpdateDate"), what="LastUpdateDate", external_id=external_id
        )
        purchased_at = parse_time(
            record.get("PurchaseDate"), what="PurchaseDate", external_id=external_id
        )
        total = record.get("OrderTotal") or {}
        items = record.get(ITEMS_KEY)
        if items is None:
            raise MalformedRecord("The order's lines were not fetched.", external_id=external_id)
        currency = str(
            total.get("CurrencyCode")
            or next((i["ItemPrice"].get("CurrencyCode") for i in items if i.get("ItemPrice")), "")
            or self.connection.channel.currency
        )
        gross_prices = bool(self.options.get("prices_include_tax", True))
        lines, shipping, shipping_tax = [], Decimal(0), Decimal(0)
        for item in items:
            item_id = str(item.get("OrderItemId") or "")
            sku = str(item.get("SellerSKU") or "")
            if not item_id or not sku:
                raise MalformedRecord(
                    "An order item has no OrderItemId or SellerSKU.", external_id=external_id
                )
            quantity = whole_number(
                item.get("QuantityOrdered"), what="QuantityOrdered", external_id=external_id
            )
            shipped = whole_number(
                item.get("QuantityShipped", 0), what="QuantityShipped", external_id=external_id
            )

            def amount(key, _item=item):
                return money(
                    (_item.get(key) or {}).get("Amount"), what=key, external_id=external_id
                )

            price, tax = amount("ItemPrice"), amount("ItemTax")
            promotion = amount("PromotionDiscount")
            shipping += amount("ShippingPrice") - amount("ShippingDiscount")
            shipping_tax += amount("ShippingTax")
            if quantity == 0:
                # Amazon zeroes the quantity of cancelled items; nothing to import there.
                continue
            if gross_prices:
                unit, rounding = split_gross(price, tax, quantity)
            else:
                unit, rounding = split_gross(price + tax, tax, quantity)
            lines.append(
                RemoteLine(
                    external_id=item_id,
                    seller_sku=sku,
                    quantity=quantity,
                    unit_price=unit,
                    tax=tax,
                    discount=promotion + rounding,
                    title=str(item.get("Title") or "")[:200],
                    quantity_shipped=min(shipped, quantity),
                )
            )
        if gross_prices:
            shipping -= shipping_tax  # stored net, with its tax beside it
        address = self._address(record.get("ShippingAddress"), external_id)
        buyer = record.get("BuyerInfo") or {}
        return RemoteOrder(
            external_id=external_id,
            status=status,
            target=target,
            currency=currency.upper(),
            updated_at=updated_at,
            purchased_at=purchased_at,
            lines=lines,
            shipping_address=address,
            email=str(buyer.get("BuyerEmail") or ""),
            buyer_name=str(buyer.get("BuyerName") or (address or {}).get("name", "")),
            phone=(address or {}).get("phone", ""),
            shipping_total=shipping,
            shipping_tax=shipping_tax,
            grand_total=money(total.get("Amount"), what="OrderTotal", external_id=external_id)
            if total
            else None,
            shipping_method=str(record.get("ShipServiceLevel") or ""),
            fulfilled_by_marketplace=record.get("FulfillmentChannel") == "AFN",
            marketplace_label="Amazon",
            raw=record,
        )

    @staticmethod
    def _address(raw, external_id) -> dict | None:
        if not raw or not raw.get("AddressLine1"):
            return None  # Pending orders: Amazon releases the address once paid
        line2 = " ".join(
            str(raw.get(k) or "").strip() for k in ("AddressLine2", "AddressLine3")
        ).strip()
        return {
            "name": str(raw.get("Name") or ""),
            "line1": str(raw.get("AddressLine1") or ""),
            "line2": line2,
            "city": str(raw.get("City") or ""),
            "region": str(raw.get("StateOrRegion") or ""),
            "postal_code": str(raw.get("PostalCode") or ""),
            "country": str(raw.get("CountryCode") or "").upper(),
            "phone": str(raw.get("Phone") or ""),
        }

    # --- tracking ---
    def confirm_shipment(self, *, link, push) -> dict:
        body = {
            "marketplaceId": link.payload.get("MarketplaceId") or self.marketplace_ids[0],
            "packageDetail": {
                "packageReferenceId": push.reference,
                "carrierCode": push.carrier or "Other",
                "carrierName": push.carrier or "Other",
                "shippingMethod": link.payload.get("ShipServiceLevel") or "Standard",
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
        items = self._items(link.external_id)
        shipped = {str(i.get("OrderItemId")): int(i.get("QuantityShipped") or 0) for i in items}
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
