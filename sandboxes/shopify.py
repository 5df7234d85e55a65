"""Shopify Admin GraphQL stub (``POST /admin/api/<version>/graphql.json``).

It answers the operations the connector sends, recognised by their operation name
(``Orders``, ``Order``, ``FulfillmentOrders``, ``FulfillmentCreate``, ``VariantBySku``,
``SetQuantities``), with the documented shapes: ``nodes`` + ``pageInfo``, money sets,
``userErrors`` with HTTP 200, and cost-based throttling (``THROTTLED`` errors with
``extensions.cost.throttleStatus``). It can also deliver ``orders/create`` and
``orders/updated`` webhooks signed with HMAC-SHA256 of the raw body (base64) under the
app's client secret, to the URL set with ``POST /_sandbox/webhooks``.
"""

import base64
import hashlib
import hmac
import json
import re
import threading
import urllib.request
from datetime import datetime
from decimal import Decimal

from .core import Faults, Marketplace, Store, iso, money

GRAPHQL = re.compile(r"^/admin/api/\d{4}-\d{2}/graphql\.json$")
OPERATION = re.compile(r"\b(query|mutation)\s+(\w+)")


def shopify_id(sequence, rng) -> str:
    return f"gid://shopify/Order/{5_000_000 + sequence}"


def money_set(value, currency):
    return {"shopMoney": {"amount": money(value), "currencyCode": currency}}


class ShopifySandbox(Marketplace):
    name = "shopify"

    def __init__(self, store, faults, credentials):
        super().__init__(store, faults, credentials)
        self.webhook_url = ""
        self.location_id = credentials.get("location_id", "gid://shopify/Location/1")

    def too_many(self, retry_after):
        return (
            200,
            {},
            {
                "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                "extensions": {
                    "cost": {
                        "requestedQueryCost": 52,
                        "actualQueryCost": None,
                        "throttleStatus": {
                            "maximumAvailable": 2000.0,
                            "currentlyAvailable": 2.0,
                            "restoreRate": max(50.0 / max(retry_after, 0.01), 1.0),
                        },
                    }
                },
            },
        )

    def order_json(self, order) -> dict:
        cur = order["currency"]
        number = order["id"].rsplit("/", 1)[-1]
        financial = {"pending": "PENDING", "cancelled": "REFUNDED"}.get(order["status"], "PAID")
        fulfillment = {"partially_shipped": "PARTIALLY_FULFILLED", "shipped": "FULFILLED"}.get(
            order["status"], "UNFULFILLED"
        )
        subtotal = sum(
            Decimal(ln["unit_price"]) * (ln["quantity"] - ln["cancelled"]) for ln in order["lines"]
        )
        tax_rate = Decimal("0.0725")
        lines = []
        for line in order["lines"]:
            qty = line["quantity"] - line["cancelled"]
            tax = (Decimal(line["unit_price"]) * qty * tax_rate).quantize(Decimal("0.01"))
            lines.append(
                {
                    "id": f"gid://shopify/LineItem/{line['line_id']}",
                    "sku": line["sku"],
                    "name": line["title"],
                    "quantity": line["quantity"],
                    "currentQuantity": qty,
                    "originalUnitPriceSet": money_set(line["unit_price"], cur),
                    "taxLines": [{"priceSet": money_set(tax, cur)}],
                    "discountAllocations": [],
                }
            )
        tax_total = sum(Decimal(t["taxLines"][0]["priceSet"]["shopMoney"]["amount"]) for t in lines)
        shipping = Decimal(order["shipping"])
        address = order.get("address")
        return {
            "id": order["id"],
            "name": f"#{number[-4:]}",
            "createdAt": iso(order["created"]),
            "updatedAt": iso(order["updated"]),
            "cancelledAt": iso(order["updated"]) if order["status"] == "cancelled" else None,
            "cancelReason": "CUSTOMER" if order["status"] == "cancelled" else None,
            "currencyCode": cur,
            "taxesIncluded": False,
            "displayFinancialStatus": financial,
            "displayFulfillmentStatus": fulfillment,
            "email": order["buyer"]["email"],
            "phone": None,
            "shippingAddress": None
            if not address
            else {
                "name": address.get("name"),
                "company": None,
                "address1": address.get("line1"),
                "address2": address.get("line2"),
                "city": address.get("city"),
                "provinceCode": address.get("region"),
                "zip": address.get("postal_code"),
                "countryCodeV2": address.get("country"),
                "phone": address.get("phone"),
            },
            "totalPriceSet": money_set(subtotal + tax_total + shipping, cur),
            "totalShippingPriceSet": money_set(shipping, cur),
            "totalTaxSet": money_set(tax_total, cur),
            "shippingLine": {"title": "Standard", "taxLines": []},
            "lineItems": {"nodes": lines},
        }

    def fulfillment_orders(self, order) -> dict:
        number = order["id"].rsplit("/", 1)[-1]
        open_items = [
            {
                "id": f"gid://shopify/FulfillmentOrderLineItem/{ln['line_id']}",
                "remainingQuantity": ln["quantity"] - ln["cancelled"] - ln["shipped"],
                "lineItem": {"id": f"gid://shopify/LineItem/{ln['line_id']}"},
            }
            for ln in order["lines"]
        ]
        closed = order["status"] in ("shipped", "cancelled")
        return {
            "fulfillments": [
                {"id": s["id"], "trackingInfo": [{"number": s["number"]}]}
                for s in order["shipments"]
            ],
            "fulfillmentOrders": {
                "nodes": [
                    {
                        "id": f"gid://shopify/FulfillmentOrder/{number}",
                        "status": "CLOSED" if closed else "OPEN",
                        "assignedLocation": {"location": {"id": self.location_id}},
                        "lineItems": {"nodes": open_items},
                    }
                ]
            },
        }

    def route(self, method, path, query, headers, body):
        if not GRAPHQL.match(path) or method != "POST":
            return 404, {}, {"errors": "Not Found"}
        if headers.get("X-Shopify-Access-Token") != self.credentials.get("access_token"):
            return (
                401,
                {},
                {
                    "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
                },
            )
        try:
            request = json.loads(body or b"{}")
            text, variables = request["query"], request.get("variables") or {}
        except (ValueError, KeyError):
            return (
                400,
                {},
                {"errors": [{"message": "Parse error: the body must be {query, variables}."}]},
            )
        match = OPERATION.search(text)
        name = match.group(2) if match else ""
        handler = getattr(self, f"op_{name}", None)
        if handler is None:
            return (
                200,
                {},
                {
                    "errors": [
                        {
                            "message": f"Unknown operation {name!r}",
                            "extensions": {"code": "undefinedField"},
                        }
                    ]
                },
            )
        data = handler(variables)
        if isinstance(data, tuple):
            return data
        return (
            200,
            {},
            {
                "data": data,
                "extensions": {
                    "cost": {
                        "requestedQueryCost": 52,
                        "actualQueryCost": 12,
                        "throttleStatus": {
                            "maximumAvailable": 2000.0,
                            "currentlyAvailable": 1988.0,
                            "restoreRate": 100.0,
                        },
                    }
                },
            },
        )

    def op_Orders(self, variables):  # noqa: N802 (GraphQL operation name)
        first = int(variables.get("first") or 50)
        if not 1 <= first <= 250:
            return 200, {}, {"errors": [{"message": "first must be between 1 and 250"}]}
        after_time = None
        found = re.search(r"updated_at:>='([^']+)'", variables.get("query") or "")
        if found:
            after_time = datetime.fromisoformat(found.group(1).replace("Z", "+00:00"))
        orders = [
            o
            for o in self.store.sorted_orders()
            if after_time is None or o["updated"] >= after_time
        ]
        start = 0
        cursor = variables.get("after")
        if cursor:
            start = int(base64.b64decode(cursor).decode().split(":")[1])
        page = orders[start : start + first]
        nodes = [self.order_json(o) for o in page]
        if self.faults.take("malformed"):
            nodes.append(
                {
                    "id": "gid://shopify/Order/0",
                    "updatedAt": "garbage",
                    "createdAt": None,
                    "lineItems": {"nodes": [{"id": None}]},
                }
            )
        more = start + first < len(orders)
        if more and page and self.faults.take("change_during_paging"):
            self.store.touch(page[0])
        end = base64.b64encode(f"cursor:{start + first}".encode()).decode()
        return {"orders": {"pageInfo": {"hasNextPage": more, "endCursor": end}, "nodes": nodes}}

    def op_Order(self, variables):  # noqa: N802
        order = self.store.orders.get(variables.get("id", ""))
        return {"order": self.order_json(order) if order else None}

    def op_FulfillmentOrders(self, variables):  # noqa: N802
        order = self.store.orders.get(variables.get("id", ""))
        return {"order": self.fulfillment_orders(order) if order else None}

    def op_FulfillmentCreate(self, variables):  # noqa: N802
        spec = variables.get("fulfillment") or {}
        groups = spec.get("lineItemsByFulfillmentOrder") or []
        tracking = spec.get("trackingInfo") or {}
        errors, shipped, target = [], {}, None
        for group in groups:
            number = str(group.get("fulfillmentOrderId", "")).rsplit("/", 1)[-1]
            target = next(
                (o for o in self.store.orders.values() if o["id"].endswith(f"/{number}")), None
            )
            if target is None or target["status"] in ("shipped", "cancelled"):
                errors.append(
                    {
                        "field": ["fulfillment", "lineItemsByFulfillmentOrder"],
                        "message": "Fulfillment order is not open.",
                    }
                )
                continue
            known = {ln["line_id"]: ln for ln in target["lines"]}
            for item in group.get("fulfillmentOrderLineItems") or []:
                line_id = str(item.get("id", "")).rsplit("/", 1)[-1]
                line = known.get(line_id)
                if line is None:
                    errors.append(
                        {
                            "field": ["fulfillment"],
                            "message": f"Invalid fulfillment order line item {item.get('id')}.",
                        }
                    )
                    continue
                shipped[line_id] = int(item.get("quantity") or 0)
        if errors or target is None:
            return {
                "fulfillmentCreate": {
                    "fulfillment": None,
                    "userErrors": errors
                    or [{"field": ["fulfillment"], "message": "No line items."}],
                }
            }
        fulfillment_id = f"gid://shopify/Fulfillment/{len(self.store.received['shipments']) + 1}"
        with self.store.lock:
            target["shipments"].append({"id": fulfillment_id, "number": tracking.get("number")})
            self.store.ship_lines(target, shipped)
            self.store.received["shipments"].append(
                {"order": target["id"], "tracking": tracking, "lines": shipped}
            )
        return {
            "fulfillmentCreate": {
                "fulfillment": {"id": fulfillment_id, "status": "SUCCESS"},
                "userErrors": [],
            }
        }

    def op_VariantBySku(self, variables):  # noqa: N802
        sku = (variables.get("query") or "").removeprefix("sku:")
        item = self.store.catalog.get(sku)
        if item is None:
            return {"productVariants": {"nodes": []}}
        return {
            "productVariants": {
                "nodes": [
                    {"sku": sku, "inventoryItem": {"id": f"gid://shopify/InventoryItem/{sku}"}}
                ]
            }
        }

    def op_SetQuantities(self, variables):  # noqa: N802
        spec = variables.get("input") or {}
        errors = []
        if spec.get("name") != "available" or not spec.get("reason"):
            errors.append(
                {
                    "code": "INVALID_NAME",
                    "field": ["input", "name"],
                    "message": "name and reason are required.",
                }
            )
        updates = []
        for index, entry in enumerate(spec.get("quantities") or []):
            sku = str(entry.get("inventoryItemId", "")).rsplit("/", 1)[-1]
            if sku not in self.store.catalog:
                errors.append(
                    {
                        "code": "INVALID_INVENTORY_ITEM",
                        "field": ["input", "quantities", str(index)],
                        "message": "The inventory item does not exist.",
                    }
                )
            elif entry.get("locationId") != self.location_id:
                errors.append(
                    {
                        "code": "INVALID_LOCATION",
                        "field": ["input", "quantities", str(index)],
                        "message": "The location does not exist.",
                    }
                )
            elif "changeFromQuantity" not in entry:
                errors.append(
                    {
                        "code": "CHANGE_FROM_QUANTITY_REQUIRED",
                        "field": ["input"],
                        "message": "changeFromQuantity is required (null to skip the check).",
                    }
                )
            else:
                updates.append((sku, int(entry["quantity"])))
        if errors:
            return {
                "inventorySetQuantities": {"inventoryAdjustmentGroup": None, "userErrors": errors}
            }
        with self.store.lock:
            for sku, quantity in updates:
                self.store.catalog[sku]["quantity"] = quantity
                self.store.received["stock"].append({"sku": sku, "quantity": quantity})
        return {
            "inventorySetQuantities": {
                "inventoryAdjustmentGroup": {
                    "id": f"gid://shopify/InventoryAdjustmentGroup/{len(self.store.received['stock'])}"
                },
                "userErrors": [],
            }
        }

    # --- webhooks ---
    def control(self, method, path, body):
        if path == "webhooks" and method == "POST":
            self.webhook_url = json.loads(body or b"{}").get("url", "")
            return 200, {}, {"url": self.webhook_url}
        if path.startswith("webhooks/send/") and method == "POST":
            order = self.store.orders.get("gid://shopify/Order/" + path.rsplit("/", 1)[-1])
            if order is None:
                return 404, {}, {"error": "unknown order"}
            return 200, {}, self.send_webhook(order, "orders/updated", wait=True)
        return super().control(method, path, body)

    def send_webhook(self, order, topic, *, wait=False) -> dict:
        """POST a REST-shaped order event, signed like Shopify signs deliveries."""
        if not self.webhook_url:
            return {"sent": False}
        number = int(order["id"].rsplit("/", 1)[-1])
        body = json.dumps(
            {
                "id": number,
                "admin_graphql_api_id": order["id"],
                "updated_at": iso(order["updated"]),
                "name": f"#{number}",
            }
        ).encode()
        secret = self.credentials.get("client_secret", "")
        digest = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
        request = urllib.request.Request(
            self.webhook_url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-Shopify-Topic": topic,
                "X-Shopify-Shop-Domain": "oms-demo.myshopify.com",
                "X-Shopify-Webhook-Id": f"{number}-{order['updated'].timestamp():.0f}-{topic}",
                "X-Shopify-Hmac-Sha256": digest,
                "X-Shopify-API-Version": "2026-01",
            },
        )
        result = {}

        def deliver():
            try:
                with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 (local)
                    result["status"] = response.status
            except OSError as exc:
                result["error"] = str(exc)

        if wait:
            deliver()
        else:
            threading.Thread(target=deliver, daemon=True).start()
        return {"sent": True, **result}


def build(catalog, *, credentials, seed=13) -> ShopifySandbox:
    store = Store(catalog=catalog, currencies=["USD", "USD", "CAD"], seed=seed, id_maker=shopify_id)
    return ShopifySandbox(store, Faults(), credentials)
