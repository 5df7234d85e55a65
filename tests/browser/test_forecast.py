"""The forecast in a real browser: the at-risk list leads to the SKU's chart, and a
manager recomputes the SKU from there."""

import os

import pytest

from inventory.forecasting.services import runs
from oms_site.actors import Actor
from tests import factories
from tests.forecasting.conftest import daily_sales

from .conftest import CHROMIUM
from .test_order_flow import log_in

if not os.path.exists(CHROMIUM):
    pytest.skip(
        f"{CHROMIUM} is not installed (run scripts/ensure-chromium)", allow_module_level=True
    )
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_follows_an_at_risk_sku_to_its_chart_and_recomputes_it(
    live_server, new_page, users
):
    supplier = factories.SupplierFactory(code="slow", name="Slow Supplies", lead_time_days=20)
    warehouse = factories.WarehouseFactory(code="ber")
    sku = factories.SKUFactory(code="RISKY-1", supplier=supplier)
    daily_sales(sku, warehouse, days=90, per_day=lambda d: 10, opening=950)  # 50 left
    runs.run_inline(runs.start_run(trigger="manual", actor=Actor.system("t"), enqueue=False))

    page = new_page()
    log_in(page, live_server, "manager")
    page.goto(f"{live_server.url}/inventory/forecast/")
    expect(page.get_by_role("heading", name="1 SKU at risk")).to_be_visible()
    page.get_by_role("link", name="RISKY-1").first.click()
    expect(page.locator("svg.forecast-chart")).to_have_count(1)
    expect(page.locator("svg.forecast-chart")).to_contain_text("projected stock-out")
    page.get_by_role("button", name="Recompute this SKU").click()
    expect(page.locator(".messages")).to_contain_text("RISKY-1")
