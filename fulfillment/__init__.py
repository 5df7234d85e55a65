"""Fulfillment: pick lists, scan-verified picking and packing, shipments, carriers and
labels, tracking, and the warehouse pages. Imports ``orders`` and ``inventory``; neither
imports it."""
