"""Catalogue writes for the API: products and SKUs.

An SKU is checked by the CSV import's own rules (``csv_io.check_catalogue_cells``), so the
API and the import can't disagree about what a valid SKU is. Deactivating keeps the row
(orders and the ledger point at it); an inactive SKU can't be ordered or held.
"""

from django.db import IntegrityError, transaction

from oms_site.errors import Conflict

from .csv_io import check_catalogue_cells
from .models import SKU, Product

SKU_FIELDS = [
    "product",
    "name",
    "barcode",
    "price",
    "currency",
    "weight_grams",
    "length_mm",
    "width_mm",
    "height_mm",
    "active",
    "supplier",
    "lead_time_days",
]


def _cells(values: dict) -> dict:
    """JSON values -> the text cells the import reads."""
    cells = {}
    for key, value in values.items():
        if value is None:
            cells[key] = ""
        elif isinstance(value, bool):
            cells[key] = "true" if value else "false"
        else:
            cells[key] = str(value)
    return cells


def _current_cells(sku: SKU) -> dict:
    return _cells(
        {
            "sku": sku.code,
            "product": sku.product.name,
            "name": sku.name,
            "barcode": sku.barcode,
            "price": sku.price,
            "currency": sku.currency,
            "weight_grams": sku.weight_grams,
            "length_mm": sku.length_mm,
            "width_mm": sku.width_mm,
            "height_mm": sku.height_mm,
            "active": sku.active,
            "supplier": sku.supplier.code if sku.supplier_id else None,
            "lead_time_days": sku.lead_time_days,
        }
    )


def _product_named(name: str) -> Product:
    """The product of that name (the oldest, if several), made if there is none: the same
    matching the CSV import uses."""
    product = Product.objects.filter(name=name).order_by("pk").first()
    return product or Product.objects.create(name=name)


@transaction.atomic
def create_sku(*, values: dict) -> SKU:
    """A new SKU; ``values`` as the API takes them (``sku`` is the code)."""
    cells = {"currency": "EUR", "price": "0", "active": "true", **_cells(values)}
    code, checked = check_catalogue_cells(cells)
    if SKU.objects.filter(code=code).exists():
        raise Conflict(
            f"SKU {code} already exists.", fields={"sku": ["Already exists."]}, code="duplicate_sku"
        )
    checked["product"] = _product_named(checked["product"])
    try:
        with transaction.atomic():
            return SKU.objects.create(code=code, **checked)
    except IntegrityError:
        raise Conflict(
            f"SKU {code} already exists.", fields={"sku": ["Already exists."]}, code="duplicate_sku"
        )


@transaction.atomic
def update_sku(sku: SKU, *, changes: dict) -> SKU:
    """Change some of an SKU's fields; the whole SKU is checked again by the import's rules."""
    sku = (
        SKU.objects.select_for_update(of=("self",))
        .select_related("product", "supplier")
        .get(pk=sku.pk)
    )
    _, checked = check_catalogue_cells(_current_cells(sku) | _cells(changes))
    checked["product"] = (
        sku.product
        if checked["product"] == sku.product.name
        else _product_named(checked["product"])
    )
    for key, value in checked.items():
        setattr(sku, key, value)
    sku.save()
    return sku


@transaction.atomic
def deactivate_sku(sku: SKU) -> SKU:
    """No new orders or holds for it; what exists keeps it."""
    SKU.objects.filter(pk=sku.pk).update(active=False)
    sku.refresh_from_db()
    return sku


@transaction.atomic
def create_product(*, name: str, description: str = "", brand: str = "") -> Product:
    return Product.objects.create(name=name, description=description, brand=brand)


@transaction.atomic
def update_product(product: Product, *, changes: dict) -> Product:
    product = Product.objects.select_for_update().get(pk=product.pk)
    for key, value in changes.items():
        setattr(product, key, value)
    product.save()
    return product


@transaction.atomic
def deactivate_product(product: Product) -> int:
    """Deactivates every SKU of the product; returns how many were active."""
    return product.skus.filter(active=True).update(active=False)
