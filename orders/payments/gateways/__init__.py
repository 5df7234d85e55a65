"""Payment gateways by code: the built-in manual/offline ones and Vipps MobilePay."""

from oms_site.errors import ValidationFailed

from .base import FAILED, SUCCEEDED, UNKNOWN, CallbackRefused, Gateway, GatewayResult
from .manual import ManualGateway, MarketplaceGateway
from .vipps import VippsGateway

GATEWAYS: dict[str, Gateway] = {
    gateway.code: gateway for gateway in (ManualGateway(), MarketplaceGateway(), VippsGateway())
}


def get_gateway(code: str) -> Gateway:
    gateway = GATEWAYS.get(code)
    if gateway is None:
        raise ValidationFailed(
            f"Unknown payment gateway '{code}'.",
            fields={"gateway": [f"One of: {', '.join(sorted(GATEWAYS))}."]},
        )
    return gateway


__all__ = [
    "FAILED",
    "GATEWAYS",
    "SUCCEEDED",
    "UNKNOWN",
    "CallbackRefused",
    "Gateway",
    "GatewayResult",
    "get_gateway",
]
