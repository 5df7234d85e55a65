"""Fulfillment pages: the warehouse's phone pages, shipment documents, and the public
tracking page."""
