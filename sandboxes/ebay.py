"""eBay stub: OAuth refresh, Fulfillment getOrders / getOrder / shipping_fulfillment,
Inventory bulk_update_price_quantity. Amounts are ``{"value": "12.34", "currency"}``;
errors ``{"errors": [{"errorId", "domain", "category", "message"}]}``."""

import base64
import json
import re
from datetime import datetime
from decimal import Decimal
from urllib.parse import parse_qs, unquote

from .core import Faults, Marketplace, Store, iso, money

FILTER = re.compile(r"lastmodifieddate:\[([^\].]+(?:\.\d+)?Z?)\.\.\]")


def ebay_id(sequence, rng) -> str:
    return f"{rng.randint(100, 299)}-{rng.randint(10000, 99999)}-{sequence:05d}"


def error(status, error_id, message):
    return (
        status,
        {},
        {
            "errors": [
                {
                    "errorId": error_id,
                    "domain": "API_FULFILLMENT",
                    "category": "REQUEST",
                    "message": message,
                }
            ]
        },
    )


def amount(value, currency):
    return {"value": money(value), "currency": currency}


class EbaySandbox(Marketplace):
    name = "ebay"

    def order_json(self, order) -> dict:
        cur = order["currency"]
        status = order["status"]
        subtotal = sum(Decimal(ln["unit_price"]) * ln["quantity"] for ln in order["lines"])
        tax = (subtotal * Decimal("0.07")).quantize(Decimal("0.01"))
        shipping = Decimal(order["shipping"])
        fulfillment = {
            "pending": "NOT_STARTED",
            "unshipped": "NOT_STARTED",
            "partially_shipped": "IN_PROGRESS",
            "shipped": "FULFILLED",
            "cancelled": "NOT_STARTED",
        }[status]
        address = order.get("address") or {}
        lines = []
        for line in order["lines"]:
            cost = Decimal(line["unit_price"]) * line["quantity"]
            lines.append(
                {
                    "lineItemId": line["line_id"],
                    "legacyItemId": f"1{line['line_id']}",
                    "sku": line["sku"],
                    "title": line["title"],
                    "quantity": line["quantity"],
                    "lineItemCost": amount(cost, cur),
                    "total": amount(cost + (cost * Decimal("0.07")).quantize(Decimal("0.01")), cur),
                    "taxes": [
                        {
                            "amount": amount(
                                (cost * Decimal("0.07")).quantize(Decimal("0.01")), cur
                            ),
                            "taxType": "STATE_SALES_TAX",
                        }
                    ],
                    "lineItemFulfillmentStatus": "FULFILLED"
                    if line["shipped"] >= line["quantity"] - line["cancelled"] and line["shipped"]
                    else "NOT_STARTED",
                }
            )
        return {
            "orderId": order["id"],
            "legacyOrderId": f"1{order['id'].replace('-', '')}",
            "creationDate": iso(order["created"]).replace("Z", ".000Z"),
            "lastModifiedDate": iso(order["updated"]).replace("Z", ".000Z"),
            "orderFulfillmentStatus": fulfillment,
            "orderPaymentStatus": "PENDING" if status == "pending" else "PAID",
            "cancelStatus": {
                "cancelState": "CANCELED" if status == "cancelled" else "NONE_REQUESTED",
                "cancelRequests": [],
            },
            "buyer": {"username": order["buyer"]["name"].lower().replace(" ", "_")},
            "pricingSummary": {
                "priceSubtotal": amount(subtotal, cur),
                "deliveryCost": amount(shipping, cur),
                "tax": amount(tax, cur),
                "total": amount(subtotal + shipping + tax, cur),
            },
            "fulfillmentStartInstructions": [
                {
                    "fulfillmentInstructionsType": "SHIP_TO",
                    "shippingStep": {
                        "shipTo": {
                            "fullName": address.get("name", ""),
                            "contactAddress": {
                                "addressLine1": address.get("line1", ""),
                                "city": address.get("city", ""),
                                "stateOrProvince": address.get("region", ""),
                                "postalCode": address.get("postal_code", ""),
                                "countryCode": address.get("country", ""),
                            },
                            "primaryPhone": {"phoneNumber": address.get("phone", "")},
                            "email": order["buyer"]["email"],
                        }
                    },
                }
            ],
            "lineItems": lines,
        }

    def route(self, method, path, query, headers, body):
        if path == "/identity/v1/oauth2/token" and method == "POST":
            expected = base64.b64encode(
                f"{self.credentials.get('client_id')}:{self.credentials.get('client_secret')}".encode()
            ).decode()
            form = {k: v[-1] for k, v in parse_qs(body.decode()).items()}
            if headers.get("Authorization") != f"Basic {expected}" or form.get(
                "refresh_token"
            ) != self.credentials.get("refresh_token"):
                return (
                    401,
                    {},
                    {
                        "error": "invalid_client",
                        "error_description": "client authentication failed",
                    },
                )
            token, ttl = self.issue_token("v^1.1#i^1#")
            return (
                200,
                {},
                {"access_token": token, "expires_in": ttl, "token_type": "User Access Token"},
            )
        auth = headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or not self.token_valid(auth[7:]):
            return error(
                401,
                1001,
                "Invalid access token. Check the value of the Authorization HTTP request header.",
            )
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if parts[:4] == ["sell", "fulfillment", "v1", "order"]:
            if len(parts) == 4 and method == "GET":
                return self.get_orders(query)
            order = self.store.orders.get(parts[4]) if len(parts) > 4 else None
            if order is None:
                return error(404, 32100, "No order found for the given order id.")
            if len(parts) == 5 and method == "GET":
                return 200, {}, self.order_json(order)
            if len(parts) == 6 and parts[5] == "shipping_fulfillment":
                if method == "POST":
                    return self.fulfill(order, body)
                return (
                    200,
                    {},
                    {"fulfillments": order["shipments"], "total": len(order["shipments"])},
                )
        if parts == ["sell", "inventory", "v1", "bulk_update_price_quantity"] and method == "POST":
            return self.bulk_quantity(body)
        return error(404, 2002, f"Resource not found: {method} {path}")

    def get_orders(self, query):
        try:
            limit = int(query.get("limit", "50"))
            offset = int(query.get("offset", "0"))
        except ValueError:
            return error(400, 30700, "limit and offset must be integers.")
        if not 1 <= limit <= 200 or offset < 0:
            return error(400, 30700, "The limit must be between 1 and 200.")
        match = FILTER.search(query.get("filter", ""))
        after = None
        if match:
            try:
                after = datetime.fromisoformat(match.group(1).replace("Z", "+00:00"))
            except ValueError:
                return error(400, 30800, "Invalid filter: lastmodifieddate.")
        orders = [o for o in self.store.sorted_orders() if after is None or o["updated"] >= after]
        page = orders[offset : offset + limit]
        records = [self.order_json(o) for o in page]
        if self.faults.take("malformed"):
            records.append(
                {
                    "orderId": "99-99999-99999",
                    "lastModifiedDate": "garbage",
                    "creationDate": None,
                    "lineItems": [{"sku": None}],
                }
            )
        data = {
            "href": f"/sell/fulfillment/v1/order?limit={limit}&offset={offset}",
            "total": len(orders),
            "limit": limit,
            "offset": offset,
            "orders": records,
        }
        if offset + limit < len(orders):
            data["next"] = f"/sell/fulfillment/v1/order?limit={limit}&offset={offset + limit}"
            if page and self.faults.take("change_during_paging"):
                self.store.touch(page[0])
        return 200, {}, data

    def fulfill(self, order, body):
        try:
            data = json.loads(body or b"{}")
            items = data["lineItems"]
            assert data.get("trackingNumber") and data.get("shippingCarrierCode")
        except (ValueError, KeyError, AssertionError):
            return error(
                400, 32200, "lineItems, shippingCarrierCode and trackingNumber are required."
            )
        known = {ln["line_id"]: ln for ln in order["lines"]}
        shipped = {}
        for item in items:
            line = known.get(str(item.get("lineItemId")))
            if line is None:
                return error(400, 32210, f"Invalid lineItemId {item.get('lineItemId')}.")
            shipped[line["line_id"]] = int(item.get("quantity") or line["quantity"])
        fulfillment_id = f"{len(order['shipments']) + 1:02d}{order['id'][-5:]}"
        with self.store.lock:
            order["shipments"].append(
                {
                    "fulfillmentId": fulfillment_id,
                    "shipmentTrackingNumber": data["trackingNumber"],
                    "shippingCarrierCode": data["shippingCarrierCode"],
                }
            )
            self.store.ship_lines(order, shipped)
            self.store.received["shipments"].append({"order": order["id"], **data})
        return (
            201,
            {
                "Location": f"/sell/fulfillment/v1/order/{order['id']}/shipping_fulfillment/{fulfillment_id}"
            },
            None,
        )

    def bulk_quantity(self, body):
        try:
            requests = json.loads(body or b"{}")["requests"]
        except (ValueError, KeyError):
            return error(400, 25001, "requests is required.")
        if not 1 <= len(requests) <= 25:
            return error(400, 25002, "Between 1 and 25 requests per call.")
        responses = []
        with self.store.lock:
            for entry in requests:
                sku = entry.get("sku")
                item = self.store.catalog.get(sku)
                quantity = (entry.get("shipToLocationAvailability") or {}).get("quantity")
                if item is None:
                    responses.append(
                        {
                            "statusCode": 404,
                            "sku": sku,
                            "errors": [{"errorId": 25702, "message": "SKU not found."}],
                        }
                    )
                    continue
                if not isinstance(quantity, int) or quantity < 0:
                    responses.append(
                        {
                            "statusCode": 400,
                            "sku": sku,
                            "errors": [{"errorId": 25709, "message": "Invalid quantity."}],
                        }
                    )
                    continue
                item["quantity"] = quantity
                self.store.received["stock"].append({"sku": sku, "quantity": quantity})
                responses.append({"statusCode": 200, "sku": sku, "warnings": []})
        return 200, {}, {"responses": responses}


def build(catalog, *, credentials, seed=11) -> EbaySandbox:
    store = Store(catalog=catalog, currencies=["USD"], seed=seed, id_maker=ebay_id)
    return EbaySandbox(store, Faults(), credentials)
