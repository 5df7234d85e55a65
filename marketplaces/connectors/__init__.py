"""One connector per marketplace, behind one interface (``base.Connector``)."""

from .aliexpress import AliExpressConnector
from .amazon import AmazonConnector
from .base import (
    AuthError,
    Connector,
    MalformedRecord,
    MarketplaceError,
    PermanentError,
    RateLimited,
    RemoteLine,
    RemoteOrder,
    StockResult,
    Target,
    TemporaryError,
)
from .ebay import EbayConnector
from .http import MarketplaceHttp
from .shopify import ShopifyConnector

CONNECTORS = {
    c.kind: c for c in (AmazonConnector, EbayConnector, ShopifyConnector, AliExpressConnector)
}


def connector_for(connection) -> Connector:
    """A connector for this connection, with its own HTTP client (rate limits, retries)."""
    return CONNECTORS[connection.channel.kind](connection, MarketplaceHttp(connection))


__all__ = [
    "CONNECTORS",
    "AuthError",
    "Connector",
    "MalformedRecord",
    "MarketplaceError",
    "PermanentError",
    "RateLimited",
    "RemoteLine",
    "RemoteOrder",
    "StockResult",
    "Target",
    "TemporaryError",
    "connector_for",
]
