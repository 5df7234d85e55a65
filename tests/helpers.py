"""Small helpers shared by tests."""

from orders.models import Order


def order_payload(channel="web", lines=(("TSHIRT-BLK-M", 2),), **overrides):
    body = {
        "channel": channel,
        "external_id": overrides.pop("external_id", None),
        "currency": "EUR",
        "customer": {"email": "erika@example.com", "name": "Erika Mustermann"},
        "shipping_address": {
            "name": "Erika Mustermann",
            "line1": "Heidestrasse 17",
            "city": "Köln",
            "postal_code": "51147",
            "country": "DE",
        },
        "lines": [{"sku": code, "quantity": qty} for code, qty in lines],
    }
    body.update(overrides)
    if body["external_id"] is None:
        body.pop("external_id")
    return body


def row_counts():
    from inventory.models import StockLevel, StockMovement
    from oms_site.models import IdempotencyRecord, OutboxEvent
    from orders.models import Allocation, Customer, OrderEvent, OrderLine

    return {
        model.__name__: model.objects.count()
        for model in (
            Order,
            OrderLine,
            OrderEvent,
            Allocation,
            Customer,
            StockLevel,
            StockMovement,
            OutboxEvent,
            IdempotencyRecord,
        )
    }
