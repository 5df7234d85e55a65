"""Amazon SP-API stub: Login with Amazon, Orders v0, shipment confirmation, Listings Items.

Speaks the v0 shapes (``payload.Orders``, ``NextToken``, ``OrderItems`` with
``ItemPrice``/``ItemTax`` as ``{CurrencyCode, Amount}`` with decimal strings); EU/UK
prices include VAT. ``Pending`` orders carry no address or buyer e-mail; ``AFN`` orders
are Amazon's to ship. Errors are ``{"errors": [{"code", "message", "details"}]}``.
"""

import base64
import json
from datetime import datetime
from decimal import Decimal
from urllib.parse import parse_qs, unquote

from .core import Marketplace, Store, iso, money

STATUS = {
    "pending": "Pending",
    "unshipped": "Unshipped",
    "partially_shipped": "PartiallyShipped",
    "shipped": "Shipped",
    "cancelled": "Canceled",
}
MARKETPLACES = {"GBP": "A1F83G8C2ARO7P", "EUR": "A1PA6795UKMFR9"}


def amazon_id(sequence, rng) -> str:
    return f"20{rng.randint(2, 8)}-{rng.randint(1000000, 9999999)}-{sequence:07d}"


def error(status, code, message, details=""):
    return status, {}, {"errors": [{"code": code, "message": message, "details": details}]}


def _tax(gross: Decimal, rate: Decimal) -> Decimal:
    return Decimal(money(gross * rate / (1 + rate)))


class AmazonSandbox(Marketplace):
    name = "amazon"

    def __init__(self, store, faults, credentials):
        super().__init__(store, faults, credentials)
        self.seller_id = credentials.get("seller_id", "A2SELLERDEMO")

    # --- rendering ---
    def order_json(self, order) -> dict:
        status = STATUS[order["status"]]
        rate = Decimal(order["tax_rate"])
        total = sum(Decimal(ln["unit_price"]) * ln["quantity"] for ln in order["lines"]) + Decimal(
            order["shipping"]
        )
        data = {
            "AmazonOrderId": order["id"],
            "PurchaseDate": iso(order["created"]),
            "LastUpdateDate": iso(order["updated"]),
            "OrderStatus": status,
            "FulfillmentChannel": "AFN" if order["afn"] else "MFN",
            "SalesChannel": "Amazon.co.uk",
            "ShipServiceLevel": "Std UK Dom_1",
            "MarketplaceId": MARKETPLACES.get(order["currency"], MARKETPLACES["GBP"]),
            "IsPrime": False,
            "IsBusinessOrder": False,
            "IsReplacementOrder": False,
            "NumberOfItemsShipped": sum(ln["shipped"] for ln in order["lines"]),
            "NumberOfItemsUnshipped": sum(
                ln["quantity"] - ln["shipped"] - ln["cancelled"] for ln in order["lines"]
            ),
            "EarliestShipDate": iso(order["created"]),
            "LatestShipDate": iso(order["created"]),
        }
        if status != "Pending":
            data["OrderTotal"] = {"CurrencyCode": order["currency"], "Amount": money(total)}
            address = order.get("address") or {}
            data["ShippingAddress"] = {
                "Name": address.get("name", ""),
                "AddressLine1": address.get("line1", ""),
                "City": address.get("city", ""),
                "StateOrRegion": address.get("region", ""),
                "PostalCode": address.get("postal_code", ""),
                "CountryCode": address.get("country", ""),
                "Phone": address.get("phone", ""),
            }
            data["BuyerInfo"] = {
                "BuyerEmail": order["buyer"]["email"].replace("@", ".amazon@"),
                "BuyerName": order["buyer"]["name"],
            }
            if not address:
                del data["ShippingAddress"]
        _ = rate
        return data

    def items_json(self, order) -> list:
        rate = Decimal(order["tax_rate"])
        items = []
        lines = order["lines"]
        shipping = Decimal(order["shipping"])
        for index, line in enumerate(lines):
            gross = Decimal(line["unit_price"]) * line["quantity"]
            ship = shipping if index == 0 else Decimal(0)
            items.append(
                {
                    "ASIN": f"B0{abs(hash(line['sku'])) % 10**8:08d}",
                    "SellerSKU": line["sku"],
                    "OrderItemId": line["line_id"],
                    "Title": line["title"],
                    "QuantityOrdered": line["quantity"],
                    "QuantityShipped": line["shipped"],
                    "ItemPrice": {"CurrencyCode": order["currency"], "Amount": money(gross)},
                    "ItemTax": {
                        "CurrencyCode": order["currency"],
                        "Amount": money(_tax(gross, rate)),
                    },
                    "ShippingPrice": {"CurrencyCode": order["currency"], "Amount": money(ship)},
                    "ShippingTax": {
                        "CurrencyCode": order["currency"],
                        "Amount": money(_tax(ship, rate)),
                    },
                    "PromotionDiscount": {"CurrencyCode": order["currency"], "Amount": "0.00"},
                    "ShippingDiscount": {"CurrencyCode": order["currency"], "Amount": "0.00"},
                    "BuyerRequestedCancel": {
                        "IsBuyerRequestedCancel": order["status"] == "cancelled"
                    },
                }
            )
        return items

    # --- routes ---
    def authorized(self, headers) -> bool:
        return self.token_valid(headers.get("x-amz-access-token", ""))

    def route(self, method, path, query, headers, body):
        if path == "/auth/o2/token" and method == "POST":
            form = {k: v[-1] for k, v in parse_qs(body.decode()).items()}
            creds = self.credentials
            if form.get("grant_type") != "refresh_token":
                return 400, {}, {"error": "unsupported_grant_type"}
            if (
                form.get("client_id") != creds.get("client_id")
                or form.get("client_secret") != creds.get("client_secret")
                or form.get("refresh_token") != creds.get("refresh_token")
            ):
                return (
                    401,
                    {},
                    {
                        "error": "invalid_client",
                        "error_description": "Client authentication failed",
                    },
                )
            token, ttl = self.issue_token("Atza|")
            return 200, {}, {"access_token": token, "token_type": "bearer", "expires_in": ttl}
        if not self.authorized(headers):
            return error(
                403,
                "Unauthorized",
                "Access to requested resource is denied.",
                "The access token you provided is revoked, malformed or invalid.",
            )
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if parts[:3] == ["orders", "v0", "orders"]:
            if len(parts) == 3 and method == "GET":
                return self.get_orders(query)
            order = self.store.orders.get(parts[3]) if len(parts) > 3 else None
            if order is None:
                return error(
                    404, "NotFound", f"Order {parts[3] if len(parts) > 3 else ''} not found."
                )
            if len(parts) == 4 and method == "GET":
                return 200, {}, {"payload": self.order_json(order)}
            if len(parts) == 5 and parts[4] == "orderItems" and method == "GET":
                return (
                    200,
                    {},
                    {
                        "payload": {
                            "AmazonOrderId": order["id"],
                            "OrderItems": self.items_json(order),
                        }
                    },
                )
            if len(parts) == 5 and parts[4] == "shipmentConfirmation" and method == "POST":
                return self.confirm(order, body)
        if (
            parts[:3] == ["listings", "2021-08-01", "items"]
            and len(parts) == 5
            and method == "PATCH"
        ):
            return self.patch_listing(parts[3], parts[4], query, body)
        return error(404, "NotFound", f"No route {method} {path}")

    def get_orders(self, query):
        if not query.get("MarketplaceIds"):
            return error(400, "InvalidInput", "MarketplaceIds is required.")
        token = query.get("NextToken")
        if token:
            try:
                state = json.loads(base64.urlsafe_b64decode(token.encode()))
            except ValueError:
                return error(400, "InvalidInput", "Invalid NextToken.")
        else:
            after = query.get("LastUpdatedAfter") or query.get("CreatedAfter")
            if not after:
                return error(
                    400,
                    "InvalidInput",
                    "One of CreatedAfter, LastUpdatedAfter or NextToken is required.",
                )
            try:
                size = int(query.get("MaxResultsPerPage", "100"))
            except ValueError:
                size = 0
            if not 1 <= size <= 100:
                return error(400, "InvalidInput", "MaxResultsPerPage must be between 1 and 100.")
            state = {
                "after": after,
                "offset": 0,
                "size": size,
                "by": "created"
                if "CreatedAfter" in query and "LastUpdatedAfter" not in query
                else "updated",
            }
        try:
            after = datetime.fromisoformat(state["after"].replace("Z", "+00:00"))
        except ValueError:
            return error(400, "InvalidInput", "LastUpdatedAfter is not an ISO 8601 date-time.")
        matching = [o for o in self.store.sorted_orders() if o[state["by"]] >= after]
        start, size = state["offset"], state["size"]
        page = matching[start : start + size]
        records = [self.order_json(o) for o in page]
        if self.faults.take("malformed"):
            records.insert(
                len(records) // 2,
                {
                    "AmazonOrderId": "999-0000000-0000000",
                    "OrderStatus": "Unshipped",
                    "PurchaseDate": "yesterday",
                    "LastUpdateDate": "not a date",
                    "FulfillmentChannel": "MFN",
                },
            )
        payload = {"Orders": records, "LastUpdatedBefore": iso(self.store.tick_clock())}
        if start + size < len(matching):
            following = start + size
            if self.faults.duplicate_across_pages:
                following -= 1  # the last order of this page comes again on the next
            if page and self.faults.take("change_during_paging"):
                self.store.touch(page[0])  # changed while paged: it moves to the end
            payload["NextToken"] = base64.urlsafe_b64encode(
                json.dumps({**state, "offset": following}).encode()
            ).decode()
        return 200, {}, {"payload": payload}

    def confirm(self, order, body):
        try:
            data = json.loads(body or b"{}")
            detail = data["packageDetail"]
            for key in (
                "packageReferenceId",
                "carrierCode",
                "trackingNumber",
                "shipDate",
                "orderItems",
            ):
                if not detail.get(key):
                    return error(400, "InvalidInput", f"packageDetail.{key} is required.")
            if not data.get("marketplaceId"):
                return error(400, "InvalidInput", "marketplaceId is required.")
        except (ValueError, KeyError, TypeError):
            return error(400, "InvalidInput", "The request body is not a shipment confirmation.")
        known = {ln["line_id"]: ln for ln in order["lines"]}
        shipped = {}
        for item in detail["orderItems"]:
            line = known.get(str(item.get("orderItemId")))
            if line is None:
                return error(400, "InvalidInput", f"Unknown orderItemId {item.get('orderItemId')}.")
            quantity = int(item.get("quantity") or 0)
            if quantity <= 0 or line["shipped"] + quantity > line["quantity"] - line["cancelled"]:
                return error(
                    400, "InvalidInput", f"Quantity {quantity} can't ship for {line['line_id']}."
                )
            shipped[line["line_id"]] = quantity
        if order["afn"] or order["status"] in ("cancelled", "pending"):
            return error(
                400,
                "InvalidInput",
                f"Order {order['id']} can't be confirmed in status {STATUS[order['status']]}.",
            )
        with self.store.lock:
            self.store.ship_lines(order, shipped)
            self.store.received["shipments"].append({"order": order["id"], **detail})
        return 204, {}, None

    def patch_listing(self, seller_id, sku, query, body):
        if seller_id != self.seller_id:
            return error(403, "Unauthorized", "The seller id does not match the token's seller.")
        if not query.get("marketplaceIds"):
            return error(400, "InvalidInput", "marketplaceIds is required.")
        item = self.store.catalog.get(sku)
        if item is None:
            return error(404, "NotFound", f"SKU {sku} is not listed.")
        try:
            data = json.loads(body or b"{}")
            patch = data["patches"][0]
            assert data.get("productType")
            assert (
                patch["op"] in ("replace", "merge")
                and patch["path"] == "/attributes/fulfillment_availability"
            )
            value = patch["value"][0]
            assert value["fulfillment_channel_code"]
            quantity = int(value["quantity"])
            assert quantity >= 0
        except (ValueError, KeyError, IndexError, TypeError, AssertionError):
            return (
                200,
                {},
                {
                    "sku": sku,
                    "status": "INVALID",
                    "submissionId": "",
                    "issues": [
                        {
                            "code": "4000001",
                            "message": "The patch is not valid.",
                            "severity": "ERROR",
                        }
                    ],
                },
            )
        with self.store.lock:
            item["quantity"] = quantity
            self.store.received["stock"].append({"sku": sku, "quantity": quantity})
        return (
            200,
            {},
            {
                "sku": sku,
                "status": "ACCEPTED",
                "submissionId": f"sub-{len(self.store.received['stock'])}",
                "issues": [],
            },
        )


def build(catalog, *, credentials, seed=7, afn_share=0.1) -> AmazonSandbox:
    from .core import Faults

    store = Store(
        catalog=catalog,
        currencies=["GBP", "GBP", "GBP", "EUR"],
        seed=seed,
        id_maker=amazon_id,
        afn_share=afn_share,
    )
    return AmazonSandbox(store, Faults(), credentials)
