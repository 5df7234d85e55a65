"""AliExpress Open Platform stub: the signed ``/sync`` gateway with the solution APIs.

Checks ``app_key``, ``session`` and the HMAC-SHA256 ``sign`` (sorted name+value pairs,
upper-case hex) on every call, and answers ``{"<method>_response": {"result": ...}}`` or
``{"error_response": {"code", "msg", "sub_code", "sub_msg"}}``. Times are the platform's
local time (America/Los_Angeles), ``yyyy-MM-dd HH:mm:ss``.
"""

import hashlib
import hmac
import json
from datetime import datetime
from decimal import Decimal
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from .core import Faults, Marketplace, Store, money

ZONE = ZoneInfo("America/Los_Angeles")
STATUS = {
    "pending": "PLACE_ORDER_SUCCESS",
    "unshipped": "WAIT_SELLER_SEND_GOODS",
    "partially_shipped": "SELLER_PART_SEND_GOODS",
    "shipped": "WAIT_BUYER_ACCEPT_GOODS",
    "cancelled": "FINISH",
}


def aliexpress_id(sequence, rng) -> str:
    return f"30{rng.randint(10000, 99999)}{sequence:08d}"


def local(moment: datetime) -> str:
    return moment.astimezone(ZONE).strftime("%Y-%m-%d %H:%M:%S")


def sign(params: dict, secret: str) -> str:
    text = "".join(f"{k}{params[k]}" for k in sorted(params) if k != "sign")
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest().upper()


def failure(code, message, sub_code="", sub_msg=""):
    return (
        200,
        {},
        {
            "error_response": {
                "code": code,
                "msg": message,
                "sub_code": sub_code,
                "sub_msg": sub_msg,
                "request_id": "0ba2887315178178017221014",
            }
        },
    )


class AliExpressSandbox(Marketplace):
    name = "aliexpress"

    def too_many(self, retry_after):
        return (
            429,
            {"Retry-After": str(retry_after)},
            {"error_response": {"code": "ApiCallLimit", "msg": "App Call Limited"}},
        )

    def detail_json(self, order) -> dict:
        cur = order["currency"]
        total = sum(Decimal(ln["unit_price"]) * ln["quantity"] for ln in order["lines"]) + Decimal(
            order["shipping"]
        )
        address = order.get("address") or {}
        return {
            "id": order["id"],
            "gmt_create": local(order["created"]),
            "gmt_modified": local(order["updated"]),
            "order_status": STATUS[order["status"]],
            "order_end_reason": "buyer_cancel_order" if order["status"] == "cancelled" else None,
            "order_amount": {"amount": money(total), "currency_code": cur},
            "logistics_amount": {"amount": order["shipping"], "currency_code": cur},
            "buyer_info": {
                "login_id": order["buyer"]["name"].split()[0].lower() + "123",
                "email": order["buyer"]["email"],
            },
            "receipt_address": {
                "contact_person": address.get("name", ""),
                "detail_address": address.get("line1", ""),
                "city": address.get("city", ""),
                "province": address.get("region", ""),
                "zip": address.get("postal_code", ""),
                "country": address.get("country", ""),
                "mobile_no": address.get("phone", ""),
            },
            "child_order_list": {
                "global_aeop_tp_child_order_dto": [
                    {
                        "id": ln["line_id"],
                        "sku_code": ln["sku"],
                        "product_id": self.store.catalog.get(ln["sku"], {}).get("product_id", ""),
                        "product_name": ln["title"],
                        "product_count": ln["quantity"],
                        "product_price": {"amount": ln["unit_price"], "currency_code": cur},
                    }
                    for ln in order["lines"]
                ]
            },
            "logistic_info_list": {"global_aeop_tp_logistic_info_dto": order["shipments"]},
        }

    def route(self, method, path, query, headers, body):
        if path != "/sync" or method != "POST":
            return 404, {}, {"error_response": {"code": "InvalidApi", "msg": "No such API"}}
        params = {k: v[-1] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
        params.update({k: v for k, v in query.items() if k not in params})
        creds = self.credentials
        if params.get("app_key") != creds.get("app_key"):
            return failure("InvalidAppKey", "Invalid app Key")
        if params.get("sign_method") != "sha256" or params.get("sign") != sign(
            params, creds.get("app_secret", "")
        ):
            return failure(
                "IncompleteSignature",
                "The request signature does not conform to platform standards",
            )
        if params.get("session") != creds.get("access_token"):
            return failure("InvalidSession", "Invalid session", "isv.invalid-session")
        method_name = params.get("method", "")
        handler = {
            "aliexpress.solution.order.get": self.order_list,
            "aliexpress.solution.order.info.get": self.order_info,
            "aliexpress.solution.order.fulfill": self.fulfill,
            "aliexpress.solution.batch.product.inventory.update": self.inventory,
        }.get(method_name)
        if handler is None:
            return failure("InvalidMethod", f"Invalid method {method_name}")
        try:
            result = handler(params)
        except (ValueError, KeyError, TypeError) as exc:
            return failure(
                "MissingParameter", f"Bad or missing parameter: {exc}", "isv.param-error"
            )
        if isinstance(result, tuple):
            return result
        return (
            200,
            {},
            {method_name.replace(".", "_") + "_response": {"result": result, "request_id": "0b1f"}},
        )

    def order_list(self, params):
        spec = json.loads(params["param0"])
        size, page = int(spec.get("page_size", 20)), int(spec.get("current_page", 1))
        if not 1 <= size <= 50 or page < 1:
            return failure("isv.param-error", "page_size must be 1-50")
        start = spec.get("modified_date_start")
        after = (
            datetime.strptime(start, "%Y-%m-%d %H:%M:%S").replace(tzinfo=ZONE) if start else None
        )
        orders = [o for o in self.store.sorted_orders() if after is None or o["updated"] >= after]
        chunk = orders[(page - 1) * size : page * size]
        dtos = [
            {
                "order_id": o["id"],
                "order_status": STATUS[o["status"]],
                "gmt_create": local(o["created"]),
                "gmt_update": local(o["updated"]),
                "order_end_reason": "buyer_cancel_order" if o["status"] == "cancelled" else None,
            }
            for o in chunk
        ]
        if self.faults.take("malformed"):
            dtos.append(
                {
                    "order_id": "3000000000000000",
                    "order_status": "WAIT_SELLER_SEND_GOODS",
                    "gmt_update": "31/02/2026",
                }
            )
        total_pages = max((len(orders) + size - 1) // size, 1)
        if page < total_pages and chunk and self.faults.take("change_during_paging"):
            self.store.touch(chunk[0])
        return {
            "target_list": {"order_dto": dtos},
            "total_count": len(orders),
            "current_page": page,
            "page_size": size,
            "total_page": total_pages,
        }

    def order_info(self, params):
        spec = json.loads(params["param1"])
        order = self.store.orders.get(str(spec["order_id"]))
        if order is None:
            return failure("isv.order-not-exist", "The order does not exist", "isv.order-not-exist")
        return {"data": self.detail_json(order), "error_code": None}

    def fulfill(self, params):
        order = self.store.orders.get(params["out_ref"])
        if order is None:
            return failure("isv.order-not-exist", "The order does not exist")
        if (
            not params.get("logistics_no")
            or not params.get("service_name")
            or params.get("send_type") not in ("all", "part")
        ):
            return failure(
                "isv.param-error",
                "logistics_no, service_name and send_type (all|part) are required",
            )
        with self.store.lock:
            order["shipments"].append(
                {
                    "logistics_no": params["logistics_no"],
                    "logistics_service": params["service_name"],
                }
            )
            if params["send_type"] == "all":
                self.store.ship_lines(
                    order, {ln["line_id"]: ln["quantity"] for ln in order["lines"]}
                )
            else:
                self.store.touch(order, status="partially_shipped")
            self.store.received["shipments"].append(
                {
                    "order": order["id"],
                    **{k: params[k] for k in ("logistics_no", "service_name", "send_type")},
                }
            )
        return {"result_success": True}

    def inventory(self, params):
        products = json.loads(params["mutiple_product_update_list"])
        failed, done = [], []
        with self.store.lock:
            for product in products:
                pid = str(product.get("product_id"))
                for sku_entry in product.get("multiple_sku_update_list") or []:
                    item = self.store.catalog.get(sku_entry.get("sku_code"))
                    if item is None or str(item.get("product_id")) != pid:
                        failed.append(
                            {
                                "product_id": pid,
                                "error_code": "13001030",
                                "error_message": f"SKU {sku_entry.get('sku_code')} is not in product {pid}",
                            }
                        )
                        continue
                    item["quantity"] = int(sku_entry["inventory"])
                    self.store.received["stock"].append(
                        {"sku": item["sku"], "quantity": item["quantity"]}
                    )
                done.append({"product_id": pid})
        return {
            "success": not failed,
            "update_success_list": {"synchronize_product_response_dto": done},
            "update_failed_list": {"synchronize_product_response_dto": failed},
        }


def build(catalog, *, credentials, seed=17) -> AliExpressSandbox:
    store = Store(catalog=catalog, currencies=["USD", "EUR"], seed=seed, id_maker=aliexpress_id)
    return AliExpressSandbox(store, Faults(), credentials)
