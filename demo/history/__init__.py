"""A year of demo order history, written in bulk."""

from .writer import Counts, HistoryWriter, demo_loaded

__all__ = ["Counts", "HistoryWriter", "demo_loaded"]
