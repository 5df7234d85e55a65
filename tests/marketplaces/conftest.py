"""Marketplace tests: a real stub server per marketplace (on a free port), a channel and
connection pointed at it, SKUs stocked in a warehouse and listed on the channel."""

import pytest
from django.utils import timezone

from inventory import stock
from marketplaces.models import MarketplaceConnection, MarketplaceListing
from oms_site.actors import Actor
from orders.models import SalesChannel
from sandboxes import SandboxServer, build

from .. import factories

CREDENTIALS = {
    "amazon": {
        "client_id": "amzn1.app.oms",
        "client_secret": "lwa-secret",
        "refresh_token": "Atzr|refresh",
    },
    "ebay": {
        "client_id": "OMS-app-PRD",
        "client_secret": "PRD-secret",
        "refresh_token": "v^1.1#refresh",
    },
    "shopify": {"access_token": "shpat_test_token", "client_secret": "shpss_webhook_secret"},
    "aliexpress": {
        "app_key": "500123",
        "app_secret": "ae-app-secret",
        "access_token": "50000session",
    },
}
OPTIONS = {
    "amazon": {"seller_id": "A2SELLERDEMO", "marketplace_ids": ["A1F83G8C2ARO7P"], "country": "GB"},
    "ebay": {},
    "shopify": {"location_id": "gid://shopify/Location/1"},
    "aliexpress": {"time_zone": "America/Los_Angeles"},
}
CURRENCY = {"amazon": "GBP", "ebay": "USD", "shopify": "USD", "aliexpress": "USD"}
SKU_CODES = ["MK-TEE-M", "MK-MUG", "MK-CAP"]


@pytest.fixture
def stocked(db):
    """Three SKUs with 50 units each in one warehouse that ships everywhere."""
    warehouse = factories.WarehouseFactory(
        code="lds", city="Leeds", country="GB", latitude=53.8, longitude=-1.55
    )
    actor = Actor.system("test")
    skus = []
    for code in SKU_CODES:
        sku = factories.SKUFactory(code=code, price="12.00")
        stock.receive(sku=sku, warehouse=warehouse, quantity=50, actor=actor)
        skus.append(sku)
    return skus


def catalog_for(skus, kind):
    return [
        {
            "sku": sku.code,
            "title": f"Item {sku.code}",
            "price": "12.00",
            "quantity": 40,
            "product_id": f"100{index}",
        }
        for index, sku in enumerate(skus)
    ]


@pytest.fixture
def marketplace(stocked):
    """``marketplace(kind, **options)`` -> (server, connection); the stub stops with the test."""
    servers = []

    def make(kind, *, page_size=100, **options):
        market = build(
            kind, catalog_for(stocked, kind), credentials=CREDENTIALS[kind] | OPTIONS[kind]
        )
        server = SandboxServer(market).start()
        servers.append(server)
        channel, _ = SalesChannel.objects.get_or_create(
            code=f"{kind}-test",
            defaults={"name": f"{kind.title()} test", "kind": kind, "currency": CURRENCY[kind]},
        )
        connection = MarketplaceConnection.objects.create(
            channel=channel,
            api_base_url=server.url,
            options=OPTIONS[kind] | options,
            page_size=page_size,
            rate_per_second=1000,
            rate_burst=100,
            lease_seconds=30,
        )
        connection.credentials = CREDENTIALS[kind]
        connection.credentials_rotated_at = timezone.now()
        connection.save()
        for index, sku in enumerate(stocked):
            MarketplaceListing.objects.create(
                connection=connection,
                sku=sku,
                seller_sku=sku.code,
                external_ref={"product_id": f"100{index}"},
            )
        return server, connection

    yield make
    for server in servers:
        server.stop()
