"""Amazon SP-API stub: Login with Amazon, Orders API 2026-01-01 (searchOrders, getOrder),
shipment confirmation (Orders v0, which 2026-01-01 keeps), Listings Items.

Orders come in the 2026-01-01 shapes: camelCase fields, ``orderItems`` inline, money as
``{amount, currencyCode}`` with decimal strings, the optional datasets only for the
``includedData`` asked for, pages by ``paginationToken`` (the previous page's
``pagination.nextToken``, with the request's other parameters sent again). EU/UK prices
include VAT. ``PENDING`` orders carry no buyer, address or proceeds; ``AMAZON``-fulfilled
(FBA) orders are Amazon's to ship. Errors are ``{"errors": [{"code", "message",
"details"}]}``.
"""

import base64
import json
from bisect import bisect_left
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import islice
from urllib.parse import parse_qs, unquote

from .core import Marketplace, Store, iso, money

STATUS = {
    "pending": "PENDING",
    "unshipped": "UNSHIPPED",
    "partially_shipped": "PARTIALLY_SHIPPED",
    "shipped": "SHIPPED",
    "cancelled": "CANCELLED",
}
MARKETPLACES = {"GBP": "A1F83G8C2ARO7P", "EUR": "A1PA6795UKMFR9"}
MARKETPLACE_NAMES = {"GBP": "Amazon.co.uk", "EUR": "Amazon.de"}
INCLUDED_DATA = {
    "BUYER",
    "RECIPIENT",
    "PROCEEDS",
    "EXPENSE",
    "PROMOTION",
    "CANCELLATION",
    "FULFILLMENT",
    "PACKAGES",
    "TAX",
    "PAYMENT",
    "FULFILLMENT_ORDERS",
}
# searchOrders: all parameters but these must come again, unchanged, with a page token.
PAGE_MAY_CHANGE = {"paginationToken", "maxResultsPerPage", "includedData"}


def amazon_id(sequence, rng) -> str:
    return f"20{rng.randint(2, 8)}-{rng.randint(1000000, 9999999)}-{sequence:07d}"


def error(status, code, message, details=""):
    return status, {}, {"errors": [{"code": code, "message": message, "details": details}]}


def _tax(gross: Decimal, rate: Decimal) -> Decimal:
    return Decimal(money(gross * rate / (1 + rate)))


def _money(amount, currency) -> dict:
    return {"amount": money(amount), "currencyCode": currency}


class AmazonSandbox(Marketplace):
    name = "amazon"

    def __init__(self, store, faults, credentials):
        super().__init__(store, faults, credentials)
        self.seller_id = credentials.get("seller_id", "A2SELLERDEMO")
        # (sorted list, {(search, offset): (index in that list, offset)}): see search_orders.
        self._resume = (None, {})

    # --- rendering (Orders API 2026-01-01) ---
    def rendered_order(self, order, included: set):
        return self.rendered(order, frozenset(included), lambda: self.order_json(order, included))

    def prerender(self, included_data: str) -> int:
        """Encode every order as a search with this ``includedData`` will read it (a
        benchmark, before its clock starts); returns how many."""
        included = self.included({"includedData": included_data})
        if isinstance(included, tuple):
            raise ValueError(f"unknown includedData: {included_data}")
        orders = list(self.store.sorted_orders())
        for order in orders:
            self.rendered_order(order, included)
        return len(orders)

    def order_json(self, order, included: set) -> dict:
        """One order as searchOrders and getOrder give it: the basic fields, the items
        always, the rest only for the ``includedData`` asked for. Pending orders carry no
        buyer, address or proceeds yet; buyer e-mails are for merchant-fulfilled orders."""
        status = STATUS[order["status"]]
        currency = order["currency"]
        paid = status != "PENDING"
        data = {
            "orderId": order["id"],
            "createdTime": iso(order["created"]),
            "lastUpdatedTime": iso(order["updated"]),
            "programs": [],
            "salesChannel": {
                "channelName": "AMAZON",
                "marketplaceId": MARKETPLACES.get(currency, MARKETPLACES["GBP"]),
                "marketplaceName": MARKETPLACE_NAMES.get(currency, MARKETPLACE_NAMES["GBP"]),
            },
            "orderItems": self.items_json(order, included, paid=paid),
        }
        if "FULFILLMENT" in included:
            data["fulfillment"] = {
                "fulfillmentStatus": status,
                "fulfilledBy": "AMAZON" if order["afn"] else "MERCHANT",
                "fulfillmentServiceLevel": "STANDARD",
                "shipByWindow": {
                    "earliestDateTime": iso(order["created"]),
                    "latestDateTime": iso(order["created"] + timedelta(days=2)),
                },
            }
        address = order.get("address") or {}
        if "BUYER" in included and paid:
            data["buyer"] = {"buyerName": order["buyer"]["name"]}
            if not order["afn"]:
                data["buyer"]["buyerEmail"] = order["buyer"]["email"].replace("@", ".amazon@")
        if "RECIPIENT" in included and paid and address:
            data["recipient"] = {
                "deliveryAddress": {
                    "name": address.get("name", ""),
                    "addressLine1": address.get("line1", ""),
                    "city": address.get("city", ""),
                    "stateOrRegion": address.get("region", ""),
                    "postalCode": address.get("postal_code", ""),
                    "countryCode": address.get("country", ""),
                    "phone": address.get("phone", ""),
                    "addressType": "RESIDENTIAL",
                }
            }
        if "PROCEEDS" in included and paid:
            gross = sum(Decimal(ln["unit_price"]) * ln["quantity"] for ln in order["lines"])
            shipping = Decimal(order["shipping"])
            rate = Decimal(order["tax_rate"])
            data["proceeds"] = {
                "grandTotal": _money(gross + shipping, currency),
                "breakdowns": [
                    {"type": "ITEM", "subtotal": _money(gross, currency)},
                    {"type": "SHIPPING", "subtotal": _money(shipping, currency)},
                    {"type": "TAX", "subtotal": _money(
                        sum(_tax(Decimal(ln["unit_price"]) * ln["quantity"], rate)
                            for ln in order["lines"]) + _tax(shipping, rate), currency)},
                ],
            }  # fmt: skip
        return data

    def items_json(self, order, included: set, *, paid: bool) -> list:
        """Prices include VAT (EU and UK): ITEM and SHIPPING are what the buyer paid, and
        the TAX breakdown tells the VAT inside them, per subtype."""
        rate = Decimal(order["tax_rate"])
        currency = order["currency"]
        shipping = Decimal(order["shipping"])
        items = []
        for index, line in enumerate(order["lines"]):
            unit = Decimal(line["unit_price"])
            gross = unit * line["quantity"]
            ship = shipping if index == 0 else Decimal(0)
            item = {
                "orderItemId": line["line_id"],
                "quantityOrdered": line["quantity"],
                "programs": [],
                "product": {
                    "asin": f"B0{abs(hash(line['sku'])) % 10**8:08d}",
                    "title": line["title"],
                    "sellerSku": line["sku"],
                    "condition": {"conditionType": "NEW", "conditionSubtype": "NEW"},
                    "price": {"unitPrice": _money(unit, currency)},
                },
            }
            if "PROCEEDS" in included and paid:
                item_tax, ship_tax = _tax(gross, rate), _tax(ship, rate)
                item["proceeds"] = {
                    "proceedsTotal": _money(gross + ship, currency),
                    "breakdowns": [
                        {"type": "ITEM", "subtotal": _money(gross, currency)},
                        {"type": "SHIPPING", "subtotal": _money(ship, currency)},
                        {
                            "type": "TAX",
                            "subtotal": _money(item_tax + ship_tax, currency),
                            "detailedBreakdowns": [
                                {"subtype": "ITEM", "value": _money(item_tax, currency)},
                                {"subtype": "SHIPPING", "value": _money(ship_tax, currency)},
                            ],
                        },
                    ],
                }
            if "FULFILLMENT" in included:
                item["fulfillment"] = {
                    "quantityFulfilled": line["shipped"],
                    "quantityUnfulfilled": max(
                        line["quantity"] - line["shipped"] - line["cancelled"], 0
                    ),
                }
            if "CANCELLATION" in included and line["cancelled"]:
                item["cancellation"] = {
                    "cancellationExecution": {"cancelledBy": "BUYER", "cancelReason": ""}
                }
            items.append(item)
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
        if parts[:3] == ["orders", "2026-01-01", "orders"] and method == "GET":
            included = self.included(query)
            if isinstance(included, tuple):
                return included  # the error answer
            if len(parts) == 3:
                return self.search_orders(query, included)
            order = self.store.orders.get(parts[3]) if len(parts) == 4 else None
            if order is None:
                return error(404, "NotFound", f"Order {'/'.join(parts[3:])} not found.")
            return 200, {}, {"order": self.rendered_order(order, included)}
        if (
            parts[:3] == ["orders", "v0", "orders"]
            and len(parts) == 5
            and parts[4] == "shipmentConfirmation"
            and method == "POST"
        ):
            order = self.store.orders.get(parts[3])
            if order is None:
                return error(404, "NotFound", f"Order {parts[3]} not found.")
            return self.confirm(order, body)
        if (
            parts[:3] == ["listings", "2021-08-01", "items"]
            and len(parts) == 5
            and method == "PATCH"
        ):
            return self.patch_listing(parts[3], parts[4], query, body)
        return error(404, "NotFound", f"No route {method} {path}")

    @staticmethod
    def included(query):
        """``includedData``: a comma-separated list (Swagger's csv), each a known dataset."""
        names = {n for n in (query.get("includedData") or "").split(",") if n}
        unknown = sorted(names - INCLUDED_DATA)
        if unknown:
            return error(400, "InvalidInput", f"Invalid includedData value: {unknown[0]}.")
        return names

    def search_orders(self, query, included):
        created_after, updated_after = query.get("createdAfter"), query.get("lastUpdatedAfter")
        if bool(created_after) == bool(updated_after):
            return error(
                400, "InvalidInput", "Exactly one of createdAfter and lastUpdatedAfter is required."
            )
        if created_after and query.get("lastUpdatedBefore"):
            return error(400, "InvalidInput", "lastUpdatedBefore can't go with createdAfter.")
        if updated_after and query.get("createdBefore"):
            return error(400, "InvalidInput", "createdBefore can't go with lastUpdatedAfter.")
        try:
            size = int(query.get("maxResultsPerPage", "100"))
        except ValueError:
            size = 0
        if not 1 <= size <= 100:
            return error(400, "InvalidInput", "maxResultsPerPage must be between 1 and 100.")
        by = "created" if created_after else "updated"
        try:
            after = datetime.fromisoformat((created_after or updated_after).replace("Z", "+00:00"))
            before_text = query.get("createdBefore") or query.get("lastUpdatedBefore")
            before = (
                datetime.fromisoformat(before_text.replace("Z", "+00:00")) if before_text else None
            )
        except ValueError:
            return error(400, "InvalidInput", "Dates must be ISO 8601 date-times.")
        fixed = {k: v for k, v in sorted(query.items()) if k not in PAGE_MAY_CHANGE}
        offset = 0
        if query.get("paginationToken"):
            try:
                state = json.loads(base64.urlsafe_b64decode(query["paginationToken"].encode()))
                offset = int(state["offset"])
            except (ValueError, KeyError, TypeError):
                return error(400, "InvalidInput", "Invalid paginationToken.")
            if state.get("query") != fixed:
                return error(
                    400,
                    "InvalidInput",
                    "Send the parameters of the request that gave this paginationToken.",
                )
        statuses = {s for s in (query.get("fulfillmentStatuses") or "").split(",") if s}
        fulfilled_by = {s for s in (query.get("fulfilledBy") or "").split(",") if s}
        ordered = self.store.sorted_orders()
        # Sorted by update time: a window of update times starts where bisect finds it.
        start = bisect_left(ordered, after, key=lambda o: o["updated"]) if by == "updated" else 0
        # Where the page's first order sits in the sorted list, remembered by the page
        # before while the list is the same one: scanning from the window's start made
        # the n-th page of a run cost n pages.
        scan = (by, after, before, frozenset(statuses), frozenset(fulfilled_by))
        resume_list, resume = self._resume
        begin, skipped = (
            resume.get((scan, offset), (start, 0)) if resume_list is ordered else (start, 0)
        )
        matching = (
            (index, o)
            for index, o in enumerate(islice(ordered, begin, None), start=begin)
            if o[by] >= after
            and (before is None or o[by] <= before)
            and (not statuses or STATUS[o["status"]] in statuses)
            and (not fulfilled_by or ("AMAZON" if o["afn"] else "MERCHANT") in fulfilled_by)
        )
        # This page, and one more order to know whether another page follows.
        seen = list(islice(matching, offset - skipped + size + 1))
        page = [o for _, o in seen[offset - skipped : offset - skipped + size]]
        records = [self.rendered_order(o, included) for o in page]
        if self.faults.take("malformed"):
            records.insert(
                len(records) // 2,
                {
                    "orderId": "999-0000000-0000000",
                    "createdTime": "yesterday",
                    "lastUpdatedTime": "not a date",
                    "salesChannel": {"channelName": "AMAZON"},
                    "fulfillment": {"fulfillmentStatus": "UNSHIPPED", "fulfilledBy": "MERCHANT"},
                    "orderItems": [],
                },
            )
        answer = {"orders": records}
        answer["createdBefore" if by == "created" else "lastUpdatedBefore"] = iso(
            self.store.tick_clock()
        )
        if offset + size < skipped + len(seen):
            following = offset + size
            if self.faults.duplicate_across_pages:
                following -= 1  # the last order of this page comes again on the next
            if 0 <= following - skipped < len(seen):
                remembered = resume if resume_list is ordered else {}
                remembered[(scan, following)] = (seen[following - skipped][0], following)
                self._resume = (ordered, remembered)
            if page and self.faults.take("change_during_paging"):
                self.store.touch(page[0])  # changed while paged: it moves to the end
            token = json.dumps({"offset": following, "query": fixed}).encode()
            answer["pagination"] = {"nextToken": base64.urlsafe_b64encode(token).decode()}
        return 200, {}, answer

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
