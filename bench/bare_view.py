"""The bare-Django baseline of the orders API benchmark (mounted at /bench/bare-orders/ by
``bench.urls``, which only the benchmark's servers use).

What it does is what the raw SQL baseline does, through Django: parse the JSON body and
insert an order row, its line rows and one event row with the ORM in one transaction.
No authentication, no validation, no routing, no stock: what is left is the cost of
gunicorn + Django + the ORM + PostgreSQL for the same rows.
"""

import json
import secrets
import threading
from decimal import Decimal

from django.db import transaction
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from orders.models import Order, OrderEvent, OrderLine, SalesChannel

_lock = threading.Lock()
_channels: dict = {}
_skus: dict = {}


def _channel_id(code):
    if code not in _channels:
        with _lock:
            _channels[code] = SalesChannel.objects.values_list("pk", flat=True).get(code=code)
    return _channels[code]


def _sku(code):
    if code not in _skus:
        from inventory.models import SKU

        row = SKU.objects.values_list("pk", "price").get(code=code)
        with _lock:
            _skus[code] = row
    return _skus[code]


@csrf_exempt
@require_POST
def bare_create_order(request):
    data = json.loads(request.body)
    now = timezone.now()
    lines = []
    subtotal = Decimal(0)
    for raw in data["lines"]:
        sku_id, price = _sku(raw["sku"])
        total = price * raw["quantity"]
        subtotal += total
        lines.append(
            OrderLine(
                sku_id=sku_id,
                sku_code=raw["sku"],
                name=raw["sku"],
                quantity=raw["quantity"],
                unit_price=price,
                line_total=total,
            )
        )
    address = data["shipping_address"]
    order = Order(
        channel_id=_channel_id(data["channel"]),
        external_id=data.get("external_id"),
        status="pending",
        currency=data.get("currency", "EUR"),
        email=data.get("customer", {}).get("email", ""),
        subtotal=subtotal,
        grand_total=subtotal,
        shipping_address=address,
        ship_to_country=address.get("country", ""),
        tracking_token=secrets.token_urlsafe(32),
        placed_at=now,
    )
    with transaction.atomic():
        Order.objects.bulk_create([order])
        order.number = f"SO-{order.pk:07d}"
        Order.objects.filter(pk=order.pk).update(number=order.number)
        for line in lines:
            line.order_id = order.pk
        OrderLine.objects.bulk_create(lines)
        OrderEvent.objects.bulk_create(
            [
                OrderEvent(
                    order_id=order.pk,
                    kind=OrderEvent.Kind.CREATED,
                    to_status="pending",
                    message="bench",
                    actor_kind="system",
                    actor_label="bench",
                )
            ]
        )
    return JsonResponse({"id": order.pk, "number": order.number}, status=201)
