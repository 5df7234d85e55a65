"""Fulfillment: pick lists, shipments, carriers and the warehouse pages (planned; the
order core's ship/deliver services stand in until then)."""
