"""Forecasting pages: who may see and do what, warehouse staff limited to their
warehouses, the CSV export, and the SKU page's chart."""

import csv
import io

import pytest

from inventory.forecasting.models import ForecastRun, PurchaseOrder, SkuForecast
from inventory.forecasting.services import purchasing, runs
from inventory.models import WarehouseAccess
from oms_site.actors import Actor
from tests import factories

from .conftest import daily_sales

pytestmark = pytest.mark.django_db
ALL = {"owner", "manager", "support", "warehouse", "readonly"}
BOSSES = {"owner", "manager"}
ACTOR = Actor.system("test")


@pytest.fixture
def world(users):
    supplier = factories.SupplierFactory(code="acme", name="Acme", lead_time_days=30)
    ber = factories.WarehouseFactory(code="ber")
    lds = factories.WarehouseFactory(code="lds", city="Leeds", country="GB")
    WarehouseAccess.objects.create(user=users["warehouse"], warehouse=ber)
    sku = factories.SKUFactory(code="SOCK-1", supplier=supplier, pack_size=10)
    daily_sales(sku, ber, days=120, per_day=lambda d: 3 + (d % 7 == 5) * 4, opening=600)
    daily_sales(sku, lds, days=120, per_day=lambda d: 2, opening=300)
    runs.run_inline(runs.start_run(trigger="manual", actor=ACTOR, enqueue=False))
    orders = {}
    for wh in (ber, lds):
        order = purchasing.create_purchase_order(
            supplier=supplier, warehouse=wh, lines=[(sku, 10)], actor=ACTOR
        )
        orders[wh.code] = purchasing.place_purchase_order(order=order, actor=ACTOR)
    return {"supplier": supplier, "ber": ber, "lds": lds, "sku": sku, "orders": orders}


def pages(world):
    ber_po = world["orders"]["ber"]
    return [
        ("get", "/inventory/forecast/", None, ALL),
        ("get", "/inventory/forecast/sku/SOCK-1/", None, ALL),
        ("get", "/inventory/forecast/suggestions/", None, ALL),
        ("get", "/inventory/forecast/suggestions.csv", None, ALL),
        ("get", "/inventory/forecast/accuracy/", None, ALL),
        ("get", "/inventory/forecast/purchase-orders/", None, ALL),
        ("get", f"/inventory/forecast/purchase-orders/{ber_po.number}/", None, ALL),
        ("get", "/inventory/forecast/settings/", None, BOSSES),
        ("get", "/inventory/forecast/purchase-orders/new/", None, BOSSES),
        ("post", "/inventory/forecast/run/", {}, BOSSES),
        ("post", "/inventory/forecast/sku/SOCK-1/recompute/", {}, BOSSES),
        ("post", "/inventory/forecast/sku/SOCK-1/terms/", {"pack_size": "12"}, BOSSES),
        (
            "post",
            "/inventory/forecast/purchase-orders/from-suggestions/",
            {"supplier": world["supplier"].pk, "warehouse": world["ber"].pk},
            BOSSES,
        ),
        ("post", f"/inventory/forecast/purchase-orders/{ber_po.number}/cancel/", {}, BOSSES),
        (
            "post",
            f"/inventory/forecast/purchase-orders/{ber_po.number}/receive/",
            {f"line_{ber_po.lines.get().pk}": "1"},
            BOSSES | {"warehouse"},
        ),
    ]


@pytest.mark.parametrize("role", sorted(ALL))
def test_role_matrix(world, client_for, role):
    client = client_for(role)
    for method, url, data, allowed in pages(world):
        response = getattr(client, method)(url, data or {})
        if role in allowed:
            assert response.status_code in (200, 302), (role, url, response.status_code)
        else:
            assert response.status_code == 403, (role, url, response.status_code)


def test_anonymous_is_sent_to_log_in(world, client):
    response = client.get("/inventory/forecast/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_warehouse_staff_see_only_their_warehouses(world, client_for):
    client = client_for("warehouse")
    page = client.get("/inventory/forecast/sku/SOCK-1/").content.decode()
    assert "(ber)" in page and "(lds)" not in page
    rows = list(
        csv.DictReader(
            io.StringIO(client.get("/inventory/forecast/suggestions.csv").content.decode())
        )
    )
    assert {r["warehouse"] for r in rows} <= {"ber"}
    lds_po = world["orders"]["lds"]
    assert client.get(f"/inventory/forecast/purchase-orders/{lds_po.number}/").status_code == 404
    response = client.post(
        f"/inventory/forecast/purchase-orders/{lds_po.number}/receive/",
        {f"line_{lds_po.lines.get().pk}": "1"},
    )
    assert response.status_code == 404
    lds_po.refresh_from_db()
    assert lds_po.status == PurchaseOrder.Status.ORDERED


def test_sku_page_draws_the_chart_without_any_script(world, client_for):
    page = client_for("readonly").get("/inventory/forecast/sku/SOCK-1/").content.decode()
    assert page.count("<svg") == 2  # one chart per warehouse
    assert "reorder point" in page and "90 % interval" in page
    assert "<script" not in page
    assert "Recompute this SKU" not in page  # read-only: no button


def test_model_names_are_shown_by_their_labels(world, client_for):
    forecast = SkuForecast.objects.filter(sku__code="SOCK-1").first()
    forecast.model = "combined"
    forecast.save(update_fields=["model"])
    client = client_for("readonly")
    page = client.get("/inventory/forecast/sku/SOCK-1/").content.decode()
    assert "Combination (Theta, damped trend, Holt-Winters)" in page
    client.cookies["django_language"] = "nb"
    page = client.get("/inventory/forecast/", HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    assert "Kombinasjon (Theta, dempet trend, Holt-Winters)" in page


def test_suggestions_csv_has_the_figures(world, client_for):
    response = client_for("manager").get("/inventory/forecast/suggestions.csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows, "30-day lead time with ~3 units a day: both warehouses need ordering"
    row = rows[0]
    assert row["supplier"] == "acme" and row["sku"] == "SOCK-1"
    assert int(row["suggested_quantity"]) % 10 == 0  # whole packs of 10
    forecast = SkuForecast.objects.get(sku__code="SOCK-1", warehouse__code=row["warehouse"])
    assert int(row["suggested_quantity"]) == forecast.suggested_quantity


def test_manager_runs_the_forecast_and_drafts_an_order_from_suggestions(world, client_for):
    client = client_for("manager")
    response = client.post("/inventory/forecast/run/", follow=True)
    assert response.status_code == 200
    assert ForecastRun.objects.filter(trigger="manual", actor_label="manager").exists()
    response = client.post(
        "/inventory/forecast/purchase-orders/from-suggestions/",
        {"supplier": world["supplier"].pk, "warehouse": world["lds"].pk},
        follow=True,
    )
    order = PurchaseOrder.objects.filter(status="draft").get()
    assert order.warehouse == world["lds"]
    assert order.number in response.content.decode()


def test_purchase_order_form_errors_name_the_line(world, client_for):
    client = client_for("manager")
    response = client.post(
        "/inventory/forecast/purchase-orders/new/",
        {
            "supplier": world["supplier"].pk,
            "warehouse": world["ber"].pk,
            "lines": "SOCK-1 5\nNOPE 3\nSOCK-1 x",
        },
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "Line 2: unknown SKU NOPE" in text and "Line 3" in text
    assert PurchaseOrder.objects.count() == 2  # the fixture's, nothing new
    response = client.post(
        "/inventory/forecast/purchase-orders/new/",
        {"supplier": world["supplier"].pk, "warehouse": world["ber"].pk, "lines": "sock-1 5"},
    )
    assert response.status_code == 302
    assert PurchaseOrder.objects.count() == 3


def test_settings_are_validated(world, client_for):
    client = client_for("owner")
    response = client.post(
        "/inventory/forecast/settings/",
        {
            "horizon_days": "3",
            "history_days": "730",
            "service_level": "95",
            "review_period_days": "7",
            "default_lead_time_days": "14",
            "batch_size": "500",
        },
    )
    assert response.status_code == 200 and "horizon" in response.content.decode().lower()
