"""Forecasting use cases: runs and batches (``runs``), purchase orders (``purchasing``)."""
