"""Local stand-ins for the marketplaces (Amazon, eBay, Shopify, AliExpress): small HTTP
servers that speak each one's documented wire format, with faults on demand. Used by the
tests and started by ``make run``; the OMS reaches them over HTTP only (no app imports
this package)."""

from . import aliexpress, amazon, ebay, shopify
from .core import Faults, SandboxServer, Store

BUILDERS = {
    "amazon": amazon.build,
    "ebay": ebay.build,
    "shopify": shopify.build,
    "aliexpress": aliexpress.build,
}


def build(kind: str, catalog, *, credentials, **kwargs):
    return BUILDERS[kind](catalog, credentials=credentials, **kwargs)


__all__ = ["BUILDERS", "Faults", "SandboxServer", "Store", "build"]
