"""The demo shop based in Norway (``OMS_DEMO_SHOP=norway``): NOK as the base currency,
an Oslo warehouse, Norwegian customers taxed with MVA, Norwegian for the demo users.

The shop's reference data is chosen when the demo package is imported, so the shop is
loaded in a process of its own, on a SQLite file of its own."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]

CHECK = """
import json
from django.db.models import Count
from django.conf import settings
from inventory.models import Warehouse
from oms_site.models import StaffProfile
from orders.models import HourlySales, Order, OrderLine, SalesChannel
print(json.dumps({
    "base": settings.OMS_BASE_CURRENCY,
    "language": settings.LANGUAGE_CODE,
    "channels": dict(SalesChannel.objects.values_list("code", "currency")),
    "warehouses": sorted(Warehouse.objects.values_list("code", flat=True)),
    "norwegian_orders": Order.objects.filter(ship_to_country="NO", currency="NOK").count(),
    "orders": Order.objects.count(),
    "mva": sorted({str(r) for r in OrderLine.objects.filter(
        order__ship_to_country="NO").values_list("tax_rate", flat=True)}),
    "unconverted": sum(HourlySales.objects.values_list("unconverted", flat=True)),
    "user_languages": sorted(set(StaffProfile.objects.values_list("language", flat=True))),
    "warehouse_user": sorted(StaffProfile.objects.get(user__username="warehouse")
        .user.warehouse_access.values_list("warehouse__code", flat=True)),
}))
"""


@pytest.mark.skipif(
    connection.vendor == "postgresql", reason="the SQLite run covers it (a process of its own)"
)
def test_the_norwegian_demo_shop_loads_and_is_norwegian(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "OMS_BASE_CURRENCY")
    }
    env.update(
        OMS_DEMO_SHOP="norway",
        OMS_VAR_DIR=str(tmp_path),
        SECRET_KEY="test-only",
        CELERY_BROKER_URL="memory://",
        OMS_CREDENTIALS_KEYS="Ff3zq0cBLbqFqSg2VC2Tq3ER3aCwqTEdeZ2Qx4mOl0U=",
    )

    def manage(*args):
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
            check=True,
        ).stdout

    manage("migrate", "-v0")
    loaded = manage("load_demo", "--orders", "150", "--skus", "24", "--customers", "40")
    assert "Demo loaded" in loaded
    assert (tmp_path / "oms-norway.sqlite3").exists()
    assert "Audit clean" in manage("oms_audit")
    facts = json.loads(manage("shell", "-c", CHECK).strip().splitlines()[-1])

    assert facts["base"] == "NOK" and facts["language"] == "nb"
    assert facts["channels"]["web"] == facts["channels"]["pos"] == "NOK"
    assert "osl" in facts["warehouses"]
    assert facts["norwegian_orders"] > facts["orders"] / 2
    assert facts["mva"] == ["25.000"]
    assert facts["unconverted"] == 0  # every currency has a rate to NOK
    assert facts["user_languages"] == ["nb"]
    assert facts["warehouse_user"] == ["ber", "osl"]
