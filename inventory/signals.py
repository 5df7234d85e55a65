"""Signals inventory sends; higher layers listen (inventory never imports them)."""

from django.dispatch import Signal

# Sent after commit when on-hand stock grew (receipt, transfer in, return restock, count
# up, adjustment up). kwargs: sku_ids (list[int]), warehouse_id (int).
stock_arrived = Signal()

# Sent *inside* the transaction whenever a ledger movement (or a safety-stock change)
# changes what can be sold of some SKUs: receipts, adjustments, counts, transfers,
# allocations and their release, returns restocked. Not sent for shipments (on-hand and
# allocated drop together, sellable stays). kwargs: sku_ids (list[int]). A receiver's
# writes commit or roll back with the change; outside calls go in transaction.on_commit.
sellable_changed = Signal()
