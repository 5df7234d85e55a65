"""eBay Sell APIs: Fulfillment v1 (orders, shipping fulfillments), Inventory (quantities).

- Auth: OAuth user token (``Authorization: Bearer``), refreshed at
  ``POST /identity/v1/oauth2/token`` (``grant_type=refresh_token``, Basic client id:secret).
- Orders: ``GET /sell/fulfillment/v1/order?filter=lastmodifieddate:[from..]&limit=&offset=``
  (limit at most 200; the page token is the next offset).
- Tracking: ``POST /sell/fulfillment/v1/order/{orderId}/shipping_fulfillment`` (201, the
  fulfillment's id in ``Location``).
- Stock: ``POST /sell/inventory/v1/bulk_update_price_quantity``, at most 25 SKUs a call.

eBay's order has no single status: payment, fulfilment and cancellation are three fields.
``status_key`` folds them into one word for the mapping table.
"""

import base64
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
    "PAYMENT_PENDING": Target.AWAITING_PAYMENT,
    "NOT_STARTED": Target.TO_SHIP,
    "IN_PROGRESS": Target.PARTIALLY_SHIPPED,
    "FULFILLED": Target.SHIPPED,
    "CANCELED": Target.CANCELLED,
    "CANCEL_REQUESTED": Target.HOLD,
}
BULK_LIMIT = 25
PAGE_LIMIT = 200


def status_key(record: dict) -> str:
    cancel = (record.get("cancelStatus") or {}).get("cancelState")
    if cancel == "CANCELED" or record.get("orderPaymentStatus") == "FULLY_REFUNDED":
        return "CANCELED"
    if cancel == "IN_PROGRESS":
        return "CANCEL_REQUESTED"
    if record.get("orderPaymentStatus") in ("PENDING", "FAILED"):
        return "PAYMENT_PENDING"
    return str(record.get("orderFulfillmentStatus") or "")


class EbayConnector(Connector):
    kind = "ebay"
    label = "eBay"
    STATUS_MAP = STATUS_MAP

    def __init__(self, connection, http):
        super().__init__(connection, http)
        self.base = connection.api_base_url.rstrip("/")
        self.auth_base = (connection.auth_base_url or connection.api_base_url).rstrip("/")
        http.authorize = self._authorize

    def _fetch_token(self):
        creds = self.connection.credentials
        basic = base64.b64encode(
            f"{creds.get('client_id', '')}:{creds.get('client_secret', '')}".encode()
        ).decode()
        body = self.http.json(
            "POST",
            f"{self.auth_base}/identity/v1/oauth2/token",
            operation="oauthToken",
            data={
                "grant_type": "refresh_token",
                "refresh_token": creds.get("refresh_token", ""),
                "scope": "https://api.ebay.com/oauth/api_scope/sell.fulfillment "
                "https://api.ebay.com/oauth/api_scope/sell.inventory",
            },
            headers={"Authorization": f"Basic {basic}"},
            auth=False,
        )
        if "access_token" not in body:
            raise MalformedRecord("eBay token answer has no access_token")
        return body["access_token"], body.get("expires_in", 7200)

    def _authorize(self, headers, params, *, refresh):
        token = tokens.access_token(self.connection, refresh=refresh, fetch=self._fetch_token)
        headers["Authorization"] = f"Bearer {token}"

    # --- orders ---
    def fetch_orders(self, *, updated_after, page_token) -> OrderPage:
        limit = min(max(self.connection.page_size, 1), PAGE_LIMIT)
        offset = int(page_token or 0)
        stamp = updated_after.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        body = self.http.json(
            "GET",
            f"{self.base}/sell/fulfillment/v1/order",
            operation="getOrders",
            params={"filter": f"lastmodifieddate:[{stamp}..]", "limit": limit, "offset": offset},
        )
        orders = list(body.get("orders") or [])
        total = int(body.get("total") or 0)
        more = body.get("next") and offset + len(orders) < total and orders
        return OrderPage(records=orders, next_token=str(offset + len(orders)) if more else None)

    def fetch_order(self, external_id):
        return self.http.json(
            "GET",
            f"{self.base}/sell/fulfillment/v1/order/{quote(external_id, safe='')}",
            operation="getOrder",
        )

    def seller_skus(self, record) -> set[str]:
        return {str(i.get("sku") or "") for i in record.get("lineItems") or []}

    def record_id(self, record) -> str:
        return str(record.get("orderId") or "")

    def record_updated_at(self, record) -> str:
        return str(record.get("lastModifiedDate") or "")

    def map_order(self, record) -> RemoteOrder:
        external_id = self.record_id(record)
        if not external_id:
            raise MalformedRecord("The order has no orderId.")
        status = status_key(record)
        target = self.target_for(status, external_id)
        updated = parse_datetime(str(record.get("lastModifiedDate") or ""))
        created = parse_datetime(str(record.get("creationDate") or ""))
        if updated is None or created is None:
            raise MalformedRecord(
                "lastModifiedDate or creationDate is not a time.", external_id=external_id
            )
        summary = record.get("pricingSummary") or {}
        total = summary.get("total") or {}
        currency = str(total.get("currency") or self.connection.channel.currency).upper()
        lines = []
        for item in record.get("lineItems") or []:
            line_id, sku = str(item.get("lineItemId") or ""), str(item.get("sku") or "")
            if not line_id or not sku:
                raise MalformedRecord(
                    "A line item has no lineItemId or sku.", external_id=external_id
                )
            quantity = whole_number(item.get("quantity"), what="quantity", external_id=external_id)
            if quantity == 0:
                continue
            cost = money(
                (item.get("lineItemCost") or {}).get("value"),
                what="lineItemCost",
                external_id=external_id,
            )
            tax = sum(
                (
                    money(
                        (t.get("amount") or {}).get("value"), what="taxes", external_id=external_id
                    )
                    for t in item.get("taxes") or []
                ),
                start=money(0, what="tax"),
            )
            unit, rounding = split_gross(cost, money(0, what="tax"), quantity)
            discount = sum(
                (
                    money((d.get("amount") or {}).get("value"), what="appliedPromotions")
                    for d in item.get("appliedPromotions") or []
                ),
                start=money(0, what="discount"),
            )
            shipped = quantity if item.get("lineItemFulfillmentStatus") == "FULFILLED" else 0
            lines.append(
                RemoteLine(
                    external_id=line_id,
                    seller_sku=sku,
                    quantity=quantity,
                    unit_price=unit,
                    tax=tax,
                    discount=discount + rounding,
                    title=str(item.get("title") or "")[:200],
                    quantity_shipped=shipped,
                )
            )
        ship_to = {}
        instructions = record.get("fulfillmentStartInstructions") or []
        if instructions:
            ship_to = (instructions[0].get("shippingStep") or {}).get("shipTo") or {}
        contact = ship_to.get("contactAddress") or {}
        address = None
        if contact.get("addressLine1"):
            address = {
                "name": str(ship_to.get("fullName") or ""),
                "line1": str(contact.get("addressLine1") or ""),
                "line2": str(contact.get("addressLine2") or ""),
                "city": str(contact.get("city") or ""),
                "region": str(contact.get("stateOrProvince") or ""),
                "postal_code": str(contact.get("postalCode") or ""),
                "country": str(contact.get("countryCode") or "").upper(),
                "phone": str((ship_to.get("primaryPhone") or {}).get("phoneNumber") or ""),
            }
        delivery = money(
            (summary.get("deliveryCost") or {}).get("value"),
            what="deliveryCost",
            external_id=external_id,
        )
        return RemoteOrder(
            external_id=external_id,
            status=status,
            target=target,
            currency=currency,
            updated_at=updated,
            purchased_at=created,
            lines=lines,
            shipping_address=address,
            email=str(ship_to.get("email") or ""),
            buyer_name=str(
                ship_to.get("fullName") or (record.get("buyer") or {}).get("username") or ""
            ),
            phone=(address or {}).get("phone", ""),
            shipping_total=delivery,
            grand_total=money(total.get("value"), what="total", external_id=external_id)
            if total
            else None,
            marketplace_label="eBay",
            raw=record,
        )

    # --- tracking ---
    def _fulfillments_url(self, link) -> str:
        order = quote(link.external_id, safe="")
        return f"{self.base}/sell/fulfillment/v1/order/{order}/shipping_fulfillment"

    def confirm_shipment(self, *, link, push) -> dict:
        response = self.http.request(
            "POST",
            self._fulfillments_url(link),
            operation="createShippingFulfillment",
            json_body={
                "lineItems": [
                    {"lineItemId": line["external_line_id"], "quantity": line["quantity"]}
                    for line in push.lines
                ],
                "shippedDate": push.created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "shippingCarrierCode": push.carrier or "Other",
                "trackingNumber": push.tracking_number,
            },
        )
        location = response.headers.get("Location", "")
        return {"status": response.status_code, "fulfillment": location.rsplit("/", 1)[-1]}

    def shipment_landed(self, *, link, push) -> bool:
        body = self.http.json(
            "GET",
            self._fulfillments_url(link),
            operation="getShippingFulfillments",
        )
        return any(
            f.get("shipmentTrackingNumber") == push.tracking_number
            for f in body.get("fulfillments") or []
        )

    # --- stock ---
    def push_stock(self, items) -> dict:
        results = {}
        for start in range(0, len(items), BULK_LIMIT):
            chunk = items[start : start + BULK_LIMIT]
            by_sku = {listing.seller_sku: listing for listing, _ in chunk}
            try:
                body = self.http.json(
                    "POST",
                    f"{self.base}/sell/inventory/v1/bulk_update_price_quantity",
                    operation="bulkUpdatePriceQuantity",
                    json_body={
                        "requests": [
                            {
                                "sku": listing.seller_sku,
                                "shipToLocationAvailability": {"quantity": qty},
                            }
                            for listing, qty in chunk
                        ]
                    },
                )
            except PermanentError as exc:
                for listing, _ in chunk:
                    results[listing.pk] = StockResult(ok=False, message=exc.message)
                continue
            for answer in body.get("responses") or []:
                listing = by_sku.get(answer.get("sku"))
                if listing is None:
                    continue
                errors = "; ".join(e.get("message", "") for e in answer.get("errors") or [])
                results[listing.pk] = StockResult(
                    ok=200 <= int(answer.get("statusCode") or 0) < 300, message=errors
                )
            for listing, _ in chunk:
                results.setdefault(
                    listing.pk, StockResult(ok=False, message="No answer for this SKU.")
                )
        return results
