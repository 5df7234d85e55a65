"""Returns: RMAs, inspection and restock, refunds and exchanges (planned)."""
