"""The marketplace channels connected to their local sandboxes: Amazon, eBay, Shopify and
AliExpress, each with credentials (encrypted), a sync every minute, and listings for the
first SKUs of the catalogue, so `make run` shows orders arriving, tracking and stock going
back, and the health page filling up."""

from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from inventory.models import SKU
from marketplaces.models import MarketplaceConnection, MarketplaceListing
from orders.models import SalesChannel

from ..reference_data import LISTED_SKUS, MARKETPLACE_SANDBOXES, PRICE_RATES, SANDBOX_HOST

NAMES = {
    "amazon": ("Amazon UK", "GBP"),
    "ebay": ("eBay US", "USD"),
    "shopify": ("Shopify US store", "USD"),
    "aliexpress": ("AliExpress store", "USD"),
}


def load(context) -> str | None:
    created = []
    skus = list(
        SKU.objects.filter(active=True)
        .annotate(units=Sum("stock_levels__on_hand"))
        .filter(units__gt=0)
        .select_related("product")
        .order_by("code")[:LISTED_SKUS]
    )
    for code, spec in MARKETPLACE_SANDBOXES.items():
        name, currency = NAMES[code]
        channel, _ = SalesChannel.objects.get_or_create(
            code=code, defaults={"name": name, "kind": code, "currency": currency}
        )
        if MarketplaceConnection.objects.filter(channel=channel).exists():
            continue
        connection = MarketplaceConnection(
            channel=channel,
            api_base_url=f"http://{SANDBOX_HOST}:{spec['port']}",
            options=spec["options"],
            sync_interval_seconds=60,
            overlap_seconds=120,
            initial_lookback_days=2,
            rate_per_second=5,
            rate_burst=20,
            lease_seconds=120,
            credentials_rotated_at=timezone.now(),
        )
        connection.credentials = spec["credentials"]
        connection.save()
        rate = Decimal(str(PRICE_RATES.get(channel.currency, 1.0)))
        MarketplaceListing.objects.bulk_create(
            [
                MarketplaceListing(
                    connection=connection,
                    sku=sku,
                    seller_sku=sku.code,
                    external_ref={
                        "product_id": str(1_000_000 + sku.product_id),
                        "price": str((sku.price / rate).quantize(Decimal("0.01"))),
                    },
                )
                for sku in skus
            ]
        )
        created.append(code)
    if not created:
        return None
    return f"marketplace sandboxes connected: {', '.join(created)} ({len(skus)} listings each)"
