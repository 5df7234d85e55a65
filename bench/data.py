"""Benchmark data: SKUs with plenty of stock, the web channel, an owner, API keys.

Stock is put on the shelf through the ledger (``inventory.stock.receive``), so the stock
audit stays clean in the benchmark database too.
"""

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction

from demo import world as demo_world
from inventory import stock
from inventory.models import SKU, Product, StockLevel, Warehouse
from oms_site.actors import Actor
from oms_site.models import ApiKey, StaffProfile
from oms_site.roles import Role
from orders.models import SalesChannel

ACTOR = Actor.system("bench")


def ensure_places():
    """The demo's four warehouses and six channels (web is EUR)."""
    warehouses = demo_world.ensure_warehouses()
    channels = demo_world.ensure_channels()
    return warehouses, channels


def ensure_skus(prefix: str, count: int, *, price="10.00") -> list[SKU]:
    product, _ = Product.objects.get_or_create(name=f"Benchmark {prefix}", defaults={"brand": "B"})
    codes = [f"{prefix}-{i:04d}" for i in range(count)]
    existing = set(SKU.objects.filter(code__in=codes).values_list("code", flat=True))
    SKU.objects.bulk_create(
        [
            SKU(product=product, code=code, name=code, price=Decimal(price), weight_grams=300)
            for code in codes
            if code not in existing
        ]
    )
    return list(SKU.objects.filter(code__in=codes).order_by("code"))


def stock_up(skus, warehouse_codes, *, at_least: int, fill_to: int | None = None) -> int:
    """Receive units so each (SKU, warehouse) has ``at_least`` available. Returns receipts."""
    fill_to = fill_to or at_least
    warehouses = list(Warehouse.objects.filter(code__in=warehouse_codes))
    levels = {
        (lv.sku_id, lv.warehouse_id): lv
        for lv in StockLevel.objects.filter(sku__in=skus, warehouse__in=warehouses)
    }
    receipts = 0
    with transaction.atomic():
        for sku in skus:
            for warehouse in warehouses:
                level = levels.get((sku.pk, warehouse.pk))
                available = (level.on_hand - level.allocated) if level else 0
                if available < at_least:
                    stock.receive(
                        sku=sku,
                        warehouse=warehouse,
                        quantity=fill_to - available,
                        actor=ACTOR,
                        reference="bench-stock",
                    )
                    receipts += 1
    return receipts


def owner():
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username="bench-owner", defaults={"is_staff": True, "is_superuser": True}
    )
    if created:
        user.set_unusable_password()
        user.save()
    StaffProfile.objects.get_or_create(user=user, defaults={"role": Role.OWNER})
    return user


def api_key(scopes=("orders:write", "orders:read")) -> str:
    _, raw = ApiKey.objects.create_key(name="bench", scopes=list(scopes), channel_codes=[])
    return raw


def web_channel() -> SalesChannel:
    return SalesChannel.objects.get(code="web")
