"""Signals orders sends; higher layers (fulfillment, marketplace connectors) listen.

Orders never imports the apps that listen. All three are sent *inside* the transaction
that made the change, so a receiver's own writes commit or roll back with it; a receiver
that talks to an outside system (a marketplace, a carrier, e-mail) must defer that work
with ``transaction.on_commit`` so that nothing is sent for work that rolled back.

``order_shipped``
    Units of an order left a warehouse (or a supplier drop-shipped them). kwargs:
    ``order`` (locked, status already moved), ``units`` (list of
    :class:`ShippedUnits`), ``carrier`` (str, may be ""), ``tracking_number`` (str, may
    be ""), ``shipment_reference`` (str: the shipment that carried them, e.g.
    ``"SH-000123"``, or "" when the order's own ship action shipped them outside the
    warehouse flow), ``actor``. Marketplace connectors push carrier + tracking from here.
``order_delivered``
    The order became delivered. kwargs: ``order``, ``actor``, ``source`` ("order" when a
    person used the order's deliver action, otherwise who told us, e.g. "shipment").
``allocations_released``
    Allocated units of an order were given back to stock (cancel, re-route, short pick).
    kwargs: ``order``, ``released`` (list of (line_id, warehouse_id, units)), ``reason``
    ("cancelled" | "rerouted" | "short_pick"), ``actor``.
"""

from dataclasses import dataclass

from django.dispatch import Signal


@dataclass(frozen=True)
class ShippedUnits:
    line_id: int
    sku_id: int
    sku_code: str
    warehouse_id: int | None
    supplier_id: int | None
    quantity: int


order_shipped = Signal()
order_delivered = Signal()
allocations_released = Signal()
