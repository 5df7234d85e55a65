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


def run_at_once(target, calls) -> list[Exception]:
    """Run ``target(*args)`` for each ``args`` of ``calls`` in its own thread, all released
    together, each with its own database connection (closed at the end); returns what
    they raised. For concurrency tests on PostgreSQL (transactional database)."""
    import threading

    from django.db import connection

    barrier = threading.Barrier(len(calls))
    errors = []

    def run(args):
        try:
            barrier.wait()
            target(*args)
        except Exception as exc:  # noqa: BLE001 (the test reports it)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(args,)) for args in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def placement_spec(channel, external_id, lines, **extra):
    """Keyword arguments of ``place_order`` for an order to Köln, in EUR, of ``lines``
    ((SKU code, quantity) pairs), its buyer named after the external id."""
    return {
        "channel": channel,
        "external_id": external_id,
        "currency": "EUR",
        "customer": {"email": f"{external_id}@example.com", "name": "Erika"},
        "shipping_address": {
            "name": "Erika",
            "line1": "Heidestrasse 17",
            "city": "Köln",
            "country": "DE",
        },
        "lines": [{"sku": code, "quantity": qty} for code, qty in lines],
        **extra,
    }
