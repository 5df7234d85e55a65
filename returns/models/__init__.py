"""The returns app's models: return requests (RMAs), their lines and their trail."""

from .returns import (
    OPEN_STATUSES,
    InspectionOutcome,
    ReturnEvent,
    ReturnLine,
    ReturnReason,
    ReturnRequest,
    ReturnSource,
    ReturnStatus,
)

__all__ = [
    "OPEN_STATUSES",
    "InspectionOutcome",
    "ReturnEvent",
    "ReturnLine",
    "ReturnReason",
    "ReturnRequest",
    "ReturnSource",
    "ReturnStatus",
]
