"""Return use cases, one function per thing a user does. Pages, the API and the demo call
these; they hold the rules.

- requests: ``create_return``, ``approve_return``, ``reject_return``
- labels: ``send_return_label``
- receiving: ``scan_return_unit``, ``receive_return``
- inspection: ``inspect_return``
- closing: ``close_return`` (the refund and its credit note)
- exchanges: ``create_exchange``
"""

from .closing import close_return
from .exchanges import create_exchange
from .inspection import inspect_return
from .labels import send_return_label
from .receiving import receive_return, scan_return_unit
from .requests import approve_return, create_return, reject_return

__all__ = [
    "approve_return",
    "close_return",
    "create_exchange",
    "create_return",
    "inspect_return",
    "receive_return",
    "reject_return",
    "scan_return_unit",
    "send_return_label",
]
