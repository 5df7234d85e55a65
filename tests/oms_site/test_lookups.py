"""``field__any``: the same rows as ``field__in``, for a list of any length (SQLite and
PostgreSQL)."""

import pytest

from inventory.models import SKU

from ..factories import SKUFactory

pytestmark = pytest.mark.django_db


def test_any_matches_what_in_matches_for_text_and_ids():
    skus = [SKUFactory(code=f"ANY-{n}") for n in range(120)]
    codes = [f"ANY-{n}" for n in range(0, 120, 2)] + ["ANY-none", "it's quoted"]
    assert sorted(SKU.objects.filter(code__any=codes).values_list("code", flat=True)) == sorted(
        SKU.objects.filter(code__in=codes).values_list("code", flat=True)
    )
    ids = [sku.pk for sku in skus[:75]]
    assert SKU.objects.filter(pk__any=ids).count() == 75
    assert SKU.objects.filter(pk__any=[str(ids[0])]).get().pk == ids[0]  # prepared as the field


def test_any_of_nothing_matches_nothing():
    SKUFactory(code="ANY-ONE")
    assert not SKU.objects.filter(code__any=[]).exists()
    assert SKU.objects.exclude(code__any=[]).count() == 1
