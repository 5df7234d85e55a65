"""Shipments and pick lists in /api/v1/."""
