"""Signals inventory sends; higher layers listen (inventory never imports them)."""

from django.dispatch import Signal

# Sent after commit when on-hand stock grew (receipt, transfer in, return restock, count
# up, adjustment up). kwargs: sku_ids (list[int]), warehouse_id (int).
stock_arrived = Signal()
