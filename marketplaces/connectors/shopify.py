"""Shopify Admin GraphQL API (version 2026-01): orders, fulfilment orders, inventory.

- Auth: ``X-Shopify-Access-Token`` (an app installation's token; it does not expire).
- Orders: ``orders(first:, after:, sortKey: UPDATED_AT, query: "updated_at:>='...'")``
  with ``pageInfo { hasNextPage endCursor }``.
- Tracking: the order's ``fulfillmentOrders`` (one per assigned location) ->
  ``fulfillmentCreate`` once per location, with ``trackingInfo``.
- Stock: ``inventorySetQuantities`` (name ``available``) with ``changeFromQuantity: null``:
  the OMS is the source of truth for these quantities, so no compare-and-set (2026-01).
- Throttling is cost based: a ``THROTTLED`` error (HTTP 200) or a 429 blocks the bucket
  for as long as the answer's ``throttleStatus`` needs to restore the query's cost.
- Webhooks (``orders/create``, ``orders/updated``) are verified in ``marketplaces.views``;
  they only nudge a fetch of that order through this API.
"""

import time

from django.utils.dateparse import parse_datetime

from .. import ratelimit
from .base import (
    Connector,
    MalformedRecord,
    OrderPage,
    PermanentError,
    RateLimited,
    RemoteLine,
    RemoteOrder,
    StockResult,
    Target,
    money,
    split_gross,
    whole_number,
)

API_VERSION = "2026-01"
STATUS_MAP = {
    "CANCELLED": Target.CANCELLED,
    "PENDING/UNFULFILLED": Target.AWAITING_PAYMENT,
    "EXPIRED/UNFULFILLED": Target.AWAITING_PAYMENT,
    "VOIDED/UNFULFILLED": Target.CANCELLED,
    "REFUNDED/UNFULFILLED": Target.CANCELLED,
    "AUTHORIZED/UNFULFILLED": Target.TO_SHIP,
    "PAID/UNFULFILLED": Target.TO_SHIP,
    "PARTIALLY_PAID/UNFULFILLED": Target.HOLD,
    "PARTIALLY_REFUNDED/UNFULFILLED": Target.TO_SHIP,
    "PAID/ON_HOLD": Target.HOLD,
    "AUTHORIZED/ON_HOLD": Target.HOLD,
    "PAID/PARTIALLY_FULFILLED": Target.PARTIALLY_SHIPPED,
    "PARTIALLY_REFUNDED/PARTIALLY_FULFILLED": Target.PARTIALLY_SHIPPED,
    "PAID/FULFILLED": Target.SHIPPED,
    "PARTIALLY_REFUNDED/FULFILLED": Target.SHIPPED,
    "REFUNDED/FULFILLED": Target.SHIPPED,
}

MONEY = "shopMoney { amount currencyCode }"
ORDER_FIELDS = f"""
  id name createdAt updatedAt cancelledAt cancelReason currencyCode taxesIncluded
  displayFinancialStatus displayFulfillmentStatus email phone
  shippingAddress {{ name company address1 address2 city provinceCode zip countryCodeV2 phone }}
  totalPriceSet {{ {MONEY} }}
  totalShippingPriceSet {{ {MONEY} }}
  totalTaxSet {{ {MONEY} }}
  shippingLine {{ title taxLines {{ priceSet {{ {MONEY} }} }} }}
  lineItems(first: 100) {{
    nodes {{
      id sku name quantity currentQuantity
      originalUnitPriceSet {{ {MONEY} }}
      taxLines {{ priceSet {{ {MONEY} }} }}
      discountAllocations {{ allocatedAmountSet {{ {MONEY} }} }}
    }}
  }}
"""
ORDERS_QUERY = f"""
query Orders($first: Int!, $after: String, $query: String) {{
  orders(first: $first, after: $after, sortKey: UPDATED_AT, query: $query) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ {ORDER_FIELDS} }}
  }}
}}"""
ORDER_QUERY = f"""query Order($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}"""
FULFILLMENT_ORDERS_QUERY = """
query FulfillmentOrders($id: ID!) {
  order(id: $id) {
    fulfillments(first: 50) { id trackingInfo { number } }
    fulfillmentOrders(first: 20) {
      nodes {
        id status
        assignedLocation { location { id } }
        lineItems(first: 100) { nodes { id remainingQuantity lineItem { id } } }
      }
    }
  }
}"""
FULFILLMENT_CREATE = """
mutation FulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status }
    userErrors { field message }
  }
}"""
VARIANT_BY_SKU = """
query VariantBySku($query: String!) {
  productVariants(first: 1, query: $query) { nodes { sku inventoryItem { id } } }
}"""
SET_QUANTITIES = """
mutation SetQuantities($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { id }
    userErrors { code field message }
  }
}"""
SET_LIMIT = 100


def _amount(money_set, *, what, external_id):
    return money(
        ((money_set or {}).get("shopMoney") or {}).get("amount"), what=what, external_id=external_id
    )


class ShopifyConnector(Connector):
    kind = "shopify"
    label = "Shopify"
    STATUS_MAP = STATUS_MAP

    def __init__(self, connection, http):
        super().__init__(connection, http)
        self.endpoint = (
            f"{connection.api_base_url.rstrip('/')}/admin/api/{API_VERSION}/graphql.json"
        )
        http.authorize = self._authorize

    def _authorize(self, headers, params, *, refresh):
        headers["X-Shopify-Access-Token"] = self.connection.credentials.get("access_token", "")

    def graphql(self, query: str, variables: dict, *, operation: str) -> dict:
        """One GraphQL call; waits out THROTTLED answers (cost-based limit) like a 429."""
        throttled_for = 0.0
        while True:
            body = self.http.json(
                "POST",
                self.endpoint,
                operation=operation,
                json_body={"query": query, "variables": variables},
            )
            errors = body.get("errors") or []
            if any((e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors):
                cost = (body.get("extensions") or {}).get("cost") or {}
                status = cost.get("throttleStatus") or {}
                restore = float(status.get("restoreRate") or 50)
                needed = float(cost.get("requestedQueryCost") or 50) - float(
                    status.get("currentlyAvailable") or 0
                )
                wait = max(needed / restore, 0.5)
                self.http.throttled += 1
                _rate, burst = self.http.limits(operation)
                ratelimit.block(self.connection.pk, operation, seconds=wait, burst=burst)
                throttled_for += wait
                if throttled_for > self.http.MAX_THROTTLE_WAIT_SECONDS:
                    raise RateLimited(
                        f"{operation}: THROTTLED for {throttled_for:.0f} s", retry_after=wait
                    )
                time.sleep(0)  # the next take() waits for the block
                continue
            if errors:
                raise PermanentError(
                    f"{operation}: " + "; ".join(str(e.get("message")) for e in errors)
                )
            return body.get("data") or {}

    # --- orders ---
    def fetch_orders(self, *, updated_after, page_token) -> OrderPage:
        data = self.graphql(
            ORDERS_QUERY,
            {
                "first": min(max(self.connection.page_size, 1), 250),
                "after": page_token,
                "query": f"updated_at:>='{updated_after.strftime('%Y-%m-%dT%H:%M:%SZ')}'",
            },
            operation="orders",
        )
        orders = data.get("orders") or {}
        info = orders.get("pageInfo") or {}
        return OrderPage(
            records=list(orders.get("nodes") or []),
            next_token=info.get("endCursor") if info.get("hasNextPage") else None,
        )

    def fetch_order(self, external_id: str) -> dict | None:
        gid = (
            external_id
            if external_id.startswith("gid://")
            else f"gid://shopify/Order/{external_id}"
        )
        return self.graphql(ORDER_QUERY, {"id": gid}, operation="order").get("order")

    def seller_skus(self, record) -> set[str]:
        return {str(i.get("sku") or "") for i in (record.get("lineItems") or {}).get("nodes") or []}

    def record_id(self, record) -> str:
        return str(record.get("id") or "")

    def record_updated_at(self, record) -> str:
        return str(record.get("updatedAt") or "")

    def map_order(self, record) -> RemoteOrder:
        external_id = self.record_id(record)
        if not external_id:
            raise MalformedRecord("The order has no id.")
        if record.get("cancelledAt"):
            status = "CANCELLED"
        else:
            status = (
                f"{record.get('displayFinancialStatus')}/{record.get('displayFulfillmentStatus')}"
            )
        target = self.target_for(status, external_id)
        updated = parse_datetime(str(record.get("updatedAt") or ""))
        created = parse_datetime(str(record.get("createdAt") or ""))
        if updated is None or created is None:
            raise MalformedRecord("updatedAt or createdAt is not a time.", external_id=external_id)
        taxes_included = bool(record.get("taxesIncluded"))
        lines = []
        for item in (record.get("lineItems") or {}).get("nodes") or []:
            line_id, sku = str(item.get("id") or ""), str(item.get("sku") or "")
            if not line_id or not sku:
                raise MalformedRecord("A line item has no id or SKU.", external_id=external_id)
            quantity = whole_number(item.get("quantity"), what="quantity", external_id=external_id)
            current = whole_number(
                item.get("currentQuantity", quantity),
                what="currentQuantity",
                external_id=external_id,
            )
            if quantity == 0:
                continue
            unit_price = _amount(
                item.get("originalUnitPriceSet"), what="originalUnitPrice", external_id=external_id
            )
            tax = sum(
                (
                    _amount(t.get("priceSet"), what="taxLines", external_id=external_id)
                    for t in item.get("taxLines") or []
                ),
                start=money(0, what="tax"),
            )
            discount = sum(
                (
                    _amount(
                        d.get("allocatedAmountSet"),
                        what="discountAllocations",
                        external_id=external_id,
                    )
                    for d in item.get("discountAllocations") or []
                ),
                start=money(0, what="discount"),
            )
            if taxes_included:
                unit, rounding = split_gross(unit_price * quantity, tax, quantity)
                discount += rounding
            else:
                unit = unit_price
            lines.append(
                RemoteLine(
                    external_id=line_id,
                    seller_sku=sku,
                    quantity=quantity,
                    unit_price=unit,
                    tax=tax,
                    discount=discount,
                    title=str(item.get("name") or "")[:200],
                    quantity_cancelled=max(quantity - current, 0),
                )
            )
        raw_address = record.get("shippingAddress") or {}
        address = None
        if raw_address.get("address1"):
            address = {
                "name": str(raw_address.get("name") or ""),
                "company": str(raw_address.get("company") or ""),
                "line1": str(raw_address.get("address1") or ""),
                "line2": str(raw_address.get("address2") or ""),
                "city": str(raw_address.get("city") or ""),
                "region": str(raw_address.get("provinceCode") or ""),
                "postal_code": str(raw_address.get("zip") or ""),
                "country": str(raw_address.get("countryCodeV2") or "").upper(),
                "phone": str(raw_address.get("phone") or ""),
            }
        shipping = _amount(
            record.get("totalShippingPriceSet"), what="totalShippingPrice", external_id=external_id
        )
        shipping_line = record.get("shippingLine") or {}
        shipping_tax = sum(
            (
                _amount(t.get("priceSet"), what="shipping taxLines", external_id=external_id)
                for t in shipping_line.get("taxLines") or []
            ),
            start=money(0, what="tax"),
        )
        if taxes_included:
            shipping -= shipping_tax  # stored net, with its tax beside it
        total = record.get("totalPriceSet")
        return RemoteOrder(
            external_id=external_id,
            status=status,
            target=target,
            currency=str(record.get("currencyCode") or self.connection.channel.currency).upper(),
            updated_at=updated,
            purchased_at=created,
            lines=lines,
            shipping_address=address,
            email=str(record.get("email") or ""),
            buyer_name=(address or {}).get("name", ""),
            phone=str(record.get("phone") or (address or {}).get("phone", "")),
            shipping_total=shipping,
            shipping_tax=shipping_tax,
            grand_total=_amount(total, what="totalPrice", external_id=external_id)
            if total
            else None,
            shipping_method=str(shipping_line.get("title") or ""),
            marketplace_label=f"Shopify {record.get('name') or ''}".strip(),
            raw=record,
        )

    # --- tracking ---
    def _fulfillment_orders(self, link) -> dict:
        return (
            self.graphql(
                FULFILLMENT_ORDERS_QUERY, {"id": link.external_id}, operation="fulfillmentOrders"
            ).get("order")
            or {}
        )

    def confirm_shipment(self, *, link, push) -> dict:
        order = self._fulfillment_orders(link)
        wanted = {line["external_line_id"]: line["quantity"] for line in push.lines}
        by_location: dict[str, list] = {}
        for fo in (order.get("fulfillmentOrders") or {}).get("nodes") or []:
            if fo.get("status") not in ("OPEN", "IN_PROGRESS"):
                continue
            location = ((fo.get("assignedLocation") or {}).get("location") or {}).get("id", "")
            items = []
            for item in (fo.get("lineItems") or {}).get("nodes") or []:
                line_id = (item.get("lineItem") or {}).get("id")
                take = min(wanted.get(line_id, 0), int(item.get("remainingQuantity") or 0))
                if take:
                    items.append({"id": item["id"], "quantity": take})
                    wanted[line_id] -= take
            if items:
                by_location.setdefault(location, []).append(
                    {"fulfillmentOrderId": fo["id"], "fulfillmentOrderLineItems": items}
                )
        if not by_location:
            raise PermanentError("No open fulfillment order holds these lines on Shopify.")
        created = []
        # Fulfillment orders of one call must share a location: one call per location.
        for groups in by_location.values():
            data = self.graphql(
                FULFILLMENT_CREATE,
                {
                    "fulfillment": {
                        "lineItemsByFulfillmentOrder": groups,
                        "trackingInfo": {"company": push.carrier, "number": push.tracking_number},
                        "notifyCustomer": False,
                    }
                },
                operation="fulfillmentCreate",
            )
            result = data.get("fulfillmentCreate") or {}
            errors = result.get("userErrors") or []
            if errors:
                raise PermanentError(
                    "fulfillmentCreate: " + "; ".join(str(e.get("message")) for e in errors)
                )
            created.append((result.get("fulfillment") or {}).get("id"))
        return {"fulfillments": created}

    def shipment_landed(self, *, link, push) -> bool:
        order = self._fulfillment_orders(link)
        return any(
            any(t.get("number") == push.tracking_number for t in f.get("trackingInfo") or [])
            for f in order.get("fulfillments") or []
        )

    # --- stock ---
    def _inventory_item(self, listing) -> str | None:
        item = listing.external_ref.get("inventory_item_id")
        if item:
            return item
        data = self.graphql(
            VARIANT_BY_SKU, {"query": f"sku:{listing.seller_sku}"}, operation="productVariants"
        )
        nodes = (data.get("productVariants") or {}).get("nodes") or []
        if not nodes:
            return None
        item = (nodes[0].get("inventoryItem") or {}).get("id")
        if item:
            listing.external_ref = {**listing.external_ref, "inventory_item_id": item}
            type(listing).objects.filter(pk=listing.pk).update(external_ref=listing.external_ref)
        return item

    def push_stock(self, items) -> dict:
        location = self.options.get("location_id", "")
        results, quantities, sent = {}, [], []
        for listing, quantity in items:
            item = self._inventory_item(listing)
            if not item:
                results[listing.pk] = StockResult(
                    ok=False, message="No variant with this SKU on Shopify."
                )
                continue
            quantities.append(
                {
                    "inventoryItemId": item,
                    "locationId": location,
                    "quantity": quantity,
                    "changeFromQuantity": None,
                }
            )
            sent.append(listing)
        for start in range(0, len(quantities), SET_LIMIT):
            chunk, listings = quantities[start : start + SET_LIMIT], sent[start : start + SET_LIMIT]
            data = self.graphql(
                SET_QUANTITIES,
                {"input": {"name": "available", "reason": "correction", "quantities": chunk}},
                operation="inventorySetQuantities",
            )
            errors = (data.get("inventorySetQuantities") or {}).get("userErrors") or []
            message = "; ".join(str(e.get("message")) for e in errors)
            for listing in listings:
                results[listing.pk] = StockResult(ok=not errors, message=message)
        return results
