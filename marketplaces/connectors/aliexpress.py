"""AliExpress Open Platform (the "solution" seller APIs) through the signed gateway.

Every business call is a ``POST`` to the gateway's ``/sync`` with the API name in
``method`` and the system parameters ``app_key``, ``timestamp`` (ms), ``sign_method``
(``sha256``), ``session`` (the seller's access token) and ``sign``: parameters sorted by
name, every ``name`` + ``value`` concatenated, HMAC-SHA256 with the app secret, upper-case
hex (the official SDKs' "sha256" method; the stub server checks exactly that).

- Orders: ``aliexpress.solution.order.get`` (``param0``: modified-time window, page size,
  page) for the list, then ``aliexpress.solution.order.info.get`` per order for lines and
  the receipt address. Times are the platform's local time (``time_zone`` option).
- Tracking: ``aliexpress.solution.order.fulfill`` (``send_type`` all / part).
- Stock: ``aliexpress.solution.batch.product.inventory.update`` per product.

Answers are wrapped in ``{"<method with _>_response": {"result": ...}}``; errors come as
``{"error_response": {"code", "msg", "sub_code", "sub_msg"}}``.
"""

import hashlib
import hmac
import json
import time
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from .base import (
    AuthError,
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
    "PLACE_ORDER_SUCCESS": Target.AWAITING_PAYMENT,
    "RISK_CONTROL": Target.AWAITING_PAYMENT,
    "WAIT_SELLER_EXAMINE_MONEY": Target.AWAITING_PAYMENT,
    "WAIT_SELLER_SEND_GOODS": Target.TO_SHIP,
    "SELLER_PART_SEND_GOODS": Target.PARTIALLY_SHIPPED,
    "WAIT_BUYER_ACCEPT_GOODS": Target.SHIPPED,
    "FUND_PROCESSING": Target.SHIPPED,
    "FINISH": Target.SHIPPED,
    "IN_CANCEL": Target.HOLD,
    "IN_ISSUE": Target.HOLD,
    "IN_FROZEN": Target.HOLD,
    "CANCELLED": Target.CANCELLED,
}
CANCEL_REASONS = {"buyer_cancel_order", "seller_cancel_order", "risk_reject_order", "pay_timeout"}
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def sign(params: dict, secret: str) -> str:
    text = "".join(f"{key}{params[key]}" for key in sorted(params) if key != "sign")
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest().upper()


def status_key(order: dict) -> str:
    if order.get("order_status") == "FINISH" and order.get("order_end_reason") in CANCEL_REASONS:
        return "CANCELLED"
    return str(order.get("order_status") or "")


class AliExpressConnector(Connector):
    kind = "aliexpress"
    label = "AliExpress"
    STATUS_MAP = STATUS_MAP

    def __init__(self, connection, http):
        super().__init__(connection, http)
        self.gateway = f"{connection.api_base_url.rstrip('/')}/sync"
        self.zone = ZoneInfo(self.options.get("time_zone", "America/Los_Angeles"))

    def call(self, method: str, business: dict, *, operation: str | None = None) -> dict:
        creds = self.connection.credentials
        params = {
            "method": method,
            "app_key": creds.get("app_key", ""),
            "session": creds.get("access_token", ""),
            "timestamp": str(int(time.time() * 1000)),
            "sign_method": "sha256",
            **{
                k: json.dumps(v) if isinstance(v, dict | list) else str(v)
                for k, v in business.items()
            },
        }
        params["sign"] = sign(params, creds.get("app_secret", ""))
        body = self.http.json(
            "POST", self.gateway, operation=operation or method, data=params, auth=False
        )
        if "error_response" in body:
            error = body["error_response"] or {}
            code = str(error.get("code") or "")
            message = f"{method}: {error.get('msg')} ({code} {error.get('sub_code') or ''})".strip()
            if code in ("IncompleteSignature", "InvalidSession", "InvalidAppKey", "27", "25"):
                raise AuthError(message, body=json.dumps(body))
            if code in ("ApiCallLimit", "7", "15", "isp.unknown-error"):
                raise TemporaryError(message, body=json.dumps(body))
            raise PermanentError(message, body=json.dumps(body))
        key = method.replace(".", "_") + "_response"
        return (body.get(key) or {}).get("result") or {}

    def _local(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).strftime(TIME_FORMAT)

    def _parse(self, value, *, what, external_id) -> datetime:
        try:
            return datetime.strptime(str(value), TIME_FORMAT).replace(tzinfo=self.zone)
        except ValueError:
            raise MalformedRecord(f"{what} is not a time: {value!r}", external_id=external_id)

    # --- orders ---
    def fetch_orders(self, *, updated_after, page_token) -> OrderPage:
        page = int(page_token or 1)
        size = min(max(self.connection.page_size, 1), 50)
        result = self.call(
            "aliexpress.solution.order.get",
            {
                "param0": {
                    "modified_date_start": self._local(updated_after),
                    "page_size": size,
                    "current_page": page,
                }
            },
            operation="orderList",
        )
        orders = list(((result.get("target_list") or {}).get("order_dto")) or [])
        total_pages = int(result.get("total_page") or 0)
        return OrderPage(records=orders, next_token=str(page + 1) if page < total_pages else None)

    completes_records = True

    def complete(self, records, *, skip_ids=frozenset()) -> list[dict]:
        for record in records:
            order_id = self.record_id(record)
            if not order_id or order_id in skip_ids:
                continue
            try:
                record["detail"] = self.call(
                    "aliexpress.solution.order.info.get",
                    {"param1": {"order_id": order_id}},
                    operation="orderInfo",
                ).get("data")
            except PermanentError as exc:
                record["_fetch_error"] = exc.message
        return records

    def fetch_order(self, external_id: str) -> dict | None:
        detail = self.call(
            "aliexpress.solution.order.info.get",
            {"param1": {"order_id": external_id}},
            operation="orderInfo",
        ).get("data")
        if not detail:
            return None
        return {
            "order_id": external_id,
            "order_status": detail.get("order_status"),
            "order_end_reason": detail.get("order_end_reason"),
            "gmt_update": detail.get("gmt_modified"),
            "detail": detail,
        }

    def seller_skus(self, record) -> set[str]:
        children = ((record.get("detail") or {}).get("child_order_list") or {}).get(
            "global_aeop_tp_child_order_dto"
        )
        return {str(c.get("sku_code") or "") for c in children or []}

    def record_id(self, record) -> str:
        return str(record.get("order_id") or "")

    def record_updated_at(self, record) -> str:
        return str(record.get("gmt_update") or "")

    def map_order(self, record) -> RemoteOrder:
        external_id = self.record_id(record)
        if not external_id:
            raise MalformedRecord("The order has no order_id.")
        if record.get("_fetch_error"):
            raise MalformedRecord(
                f"Its detail could not be fetched: {record['_fetch_error']}",
                external_id=external_id,
            )
        detail = record.get("detail") or {}
        if not detail:
            raise MalformedRecord("The order's detail was not fetched.", external_id=external_id)
        status = status_key(detail if detail.get("order_status") else record)
        target = self.target_for(status, external_id)
        updated = self._parse(
            record.get("gmt_update") or detail.get("gmt_modified"),
            what="gmt_update",
            external_id=external_id,
        )
        created = self._parse(detail.get("gmt_create"), what="gmt_create", external_id=external_id)
        amount = detail.get("order_amount") or {}
        currency = str(amount.get("currency_code") or self.connection.channel.currency).upper()
        lines = []
        children = (detail.get("child_order_list") or {}).get(
            "global_aeop_tp_child_order_dto"
        ) or []
        for child in children:
            child_id, sku = str(child.get("id") or ""), str(child.get("sku_code") or "")
            if not child_id or not sku:
                raise MalformedRecord(
                    "A child order has no id or sku_code.", external_id=external_id
                )
            quantity = whole_number(
                child.get("product_count"), what="product_count", external_id=external_id
            )
            if quantity == 0:
                continue
            price = money(
                (child.get("product_price") or {}).get("amount"),
                what="product_price",
                external_id=external_id,
            )
            unit, rounding = split_gross(price * quantity, Decimal(0), quantity)
            lines.append(
                RemoteLine(
                    external_id=child_id,
                    seller_sku=sku,
                    quantity=quantity,
                    unit_price=unit,
                    discount=rounding,
                    title=str(child.get("product_name") or "")[:200],
                )
            )
        receipt = detail.get("receipt_address") or {}
        address = None
        if receipt.get("detail_address"):
            address = {
                "name": str(receipt.get("contact_person") or ""),
                "line1": str(receipt.get("detail_address") or ""),
                "line2": str(receipt.get("address2") or ""),
                "city": str(receipt.get("city") or ""),
                "region": str(receipt.get("province") or ""),
                "postal_code": str(receipt.get("zip") or ""),
                "country": str(receipt.get("country") or "").upper(),
                "phone": str(receipt.get("mobile_no") or receipt.get("phone_number") or ""),
            }
        buyer = detail.get("buyer_info") or {}
        shipping = money(
            (detail.get("logistics_amount") or {}).get("amount"),
            what="logistics_amount",
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
            email=str(buyer.get("email") or ""),
            buyer_name=(address or {}).get("name", "") or str(buyer.get("login_id") or ""),
            phone=(address or {}).get("phone", ""),
            shipping_total=shipping,
            grand_total=money(amount.get("amount"), what="order_amount", external_id=external_id)
            if amount
            else None,
            marketplace_label="AliExpress",
            raw=record,
        )

    # --- tracking ---
    def confirm_shipment(self, *, link, push) -> dict:
        ordered = sum(
            int(q) for q in (link.marketplace_totals.get("line_quantities") or {}).values()
        )
        sent = sum(line["quantity"] for line in push.lines)
        result = self.call(
            "aliexpress.solution.order.fulfill",
            {
                "out_ref": link.external_id,
                "service_name": push.carrier or "OTHER",
                "logistics_no": push.tracking_number,
                "send_type": "part" if ordered and sent < ordered else "all",
                "description": push.reference,
            },
            operation="orderFulfill",
        )
        if not result.get("result_success"):
            raise PermanentError(
                f"order.fulfill refused: {result.get('result_error_desc') or result}"
            )
        return {"result_success": True}

    def shipment_landed(self, *, link, push) -> bool:
        detail = (
            self.call(
                "aliexpress.solution.order.info.get",
                {"param1": {"order_id": link.external_id}},
                operation="orderInfo",
            ).get("data")
            or {}
        )
        return any(
            item.get("logistics_no") == push.tracking_number
            for item in (detail.get("logistic_info_list") or {}).get(
                "global_aeop_tp_logistic_info_dto"
            )
            or []
        )

    # --- stock ---
    def push_stock(self, items) -> dict:
        results, by_product = {}, {}
        for listing, quantity in items:
            product_id = listing.external_ref.get("product_id")
            if not product_id:
                results[listing.pk] = StockResult(
                    ok=False, message="The listing has no AliExpress product_id."
                )
                continue
            by_product.setdefault(str(product_id), []).append((listing, quantity))
        if not by_product:
            return results
        result = self.call(
            "aliexpress.solution.batch.product.inventory.update",
            {
                "mutiple_product_update_list": [
                    {
                        "product_id": product_id,
                        "multiple_sku_update_list": [
                            {"sku_code": listing.seller_sku, "inventory": str(qty)}
                            for listing, qty in entries
                        ],
                    }
                    for product_id, entries in by_product.items()
                ]
            },
            operation="inventoryUpdate",
        )
        failed = {
            str(f.get("product_id")): str(
                f.get("error_message") or f.get("error_code") or "refused"
            )
            for f in (result.get("update_failed_list") or {}).get(
                "synchronize_product_response_dto"
            )
            or []
        }
        for product_id, entries in by_product.items():
            for listing, _ in entries:
                message = failed.get(product_id, "")
                results[listing.pk] = StockResult(
                    ok=not message and bool(result.get("success", True)), message=message
                )
        return results
