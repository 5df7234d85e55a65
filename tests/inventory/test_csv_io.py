"""CSV export and the two-step import (preview, then apply) of the catalogue and of stock."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase
from django.urls import reverse

from inventory import csv_io, services
from inventory.models import (
    SKU,
    Bin,
    MovementReason,
    Product,
    StockLevel,
    StockMovement,
    WarehouseAccess,
)
from oms_site.actors import Actor
from tests.factories import ProductFactory, SKUFactory, SupplierFactory, WarehouseFactory, stock
from tests.helpers import row_counts

pytestmark = pytest.mark.django_db

CATALOGUE_HEADER = (
    "sku,product,name,barcode,price,currency,weight_grams,length_mm,width_mm,height_mm,"
    "active,supplier,lead_time_days"
)


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    """Uploads waiting between preview and import go to a private folder."""
    settings.VAR_DIR = tmp_path
    return tmp_path


@pytest.fixture
def ham(db):
    return WarehouseFactory(code="ham", city="Hamburg")


def lines(*rows) -> bytes:
    return ("\n".join(rows) + "\n").encode()


def exported(client, name) -> bytes:
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.streaming
    return b"".join(response.streaming_content)


def upload(client, content: bytes, kind="auto", name="upload.csv"):
    return client.post(
        reverse("inventory:import"),
        {"file": SimpleUploadedFile(name, content, content_type="text/csv"), "kind": kind},
    )


def apply(client, preview, mode="all"):
    """Confirm the import; the queued job runs (eager Celery, after commit); return the
    job page, which shows the result."""
    token = preview.context["apply_form"].initial["token"]
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(reverse("inventory:import_apply"), {"token": token, "mode": mode})
    if response.status_code == 302 and "/import/jobs/" in response["Location"]:
        return client.get(response["Location"])
    return response


def located(errors) -> set:
    return {(error.line, error.column) for error in errors}


def snapshot():
    return (
        list(SKU.objects.order_by("pk").values()),
        list(Product.objects.order_by("pk").values()),
        list(
            StockLevel.objects.order_by("pk").values(
                "sku", "warehouse", "on_hand", "safety_stock", "bin"
            )
        ),
        StockMovement.objects.count(),
    )


def hold(sku, quantity):
    services.reserve(items=[(sku, quantity)], actor=Actor.system("test"), minutes=60)


# --- Export -------------------------------------------------------------------------------


def test_catalogue_export_has_one_row_per_sku(client_for):
    supplier = SupplierFactory(code="acme")
    SKUFactory(
        code="TEE-1",
        product=ProductFactory(name="Tee"),
        name="Blue / L",
        barcode="4006381333931",
        price=Decimal("19.9"),
        currency="EUR",
        weight_grams=180,
        length_mm=300,
        width_mm=200,
        height_mm=10,
        supplier=supplier,
        lead_time_days=4,
    )
    SKUFactory(code="TEE-2", product=ProductFactory(name="Tee"), name="", active=False)
    SKUFactory(code="TEE-3", price=Decimal("1500"), currency="JPY")
    rows = list(
        csv.reader(
            io.StringIO(exported(client_for("readonly"), "inventory:export_catalogue").decode())
        )
    )
    assert rows[0] == csv_io.CATALOGUE_COLUMNS
    assert rows[1] == [
        "TEE-1", "Tee", "Blue / L", "4006381333931", "19.90", "EUR",
        "180", "300", "200", "10", "true", "acme", "4",
    ]  # fmt: skip
    assert rows[2][:3] == ["TEE-2", "Tee", ""] and rows[2][10:] == ["false", "", ""]
    assert rows[3][4:6] == ["1500", "JPY"]
    assert len(rows) == 4


def test_stock_export_has_one_row_per_level(client_for, sku, warehouse):
    stock(sku, warehouse, 12, safety_stock=2)
    hold(sku, 5)
    shelf = Bin.objects.create(warehouse=warehouse, code="A-01")
    StockLevel.objects.filter(sku=sku).update(bin=shelf)
    text = exported(client_for("support"), "inventory:export_stock").decode()
    assert text.splitlines() == [
        "sku,warehouse,on_hand,allocated,safety_stock,bin",
        "TSHIRT-BLK-M,ber,12,5,2,A-01",
    ]


def test_stock_export_for_warehouse_staff_covers_their_warehouses(
    client_for, users, sku, warehouse, ham
):
    stock(sku, warehouse, 1)
    stock(sku, ham, 2)
    WarehouseAccess.objects.create(user=users["warehouse"], warehouse=ham)
    text = exported(client_for("warehouse"), "inventory:export_stock").decode()
    assert text.splitlines()[1:] == ["TSHIRT-BLK-M,ham,2,0,0,"]


def test_export_keeps_spreadsheets_from_running_cells_as_formulas(client_for):
    SKUFactory(code="F-1", product=ProductFactory(name="=HYPERLINK(evil)"), name="+1")
    rows = list(
        csv.reader(
            io.StringIO(exported(client_for("owner"), "inventory:export_catalogue").decode())
        )
    )
    assert rows[1][1:3] == ["'=HYPERLINK(evil)", "'+1"]


# --- Round trips --------------------------------------------------------------------------


def test_catalogue_round_trip_is_unchanged(client_for):
    supplier = SupplierFactory(code="acme")
    SKUFactory(
        code="A-1", product=ProductFactory(name="Mug"), price=Decimal("7.5"), barcode="96385074"
    )
    SKUFactory(code="A-2", product=ProductFactory(name="=Formula"), name="-dash", active=False)
    SKUFactory(
        code="A-3", supplier=supplier, lead_time_days=9, price=Decimal("1.234"), currency="KWD"
    )
    client = client_for("owner")
    content = exported(client, "inventory:export_catalogue")
    before = snapshot()

    preview = upload(client, content)
    assert preview.context["plan"].errors == []
    assert preview.context["counts"] == {"create": 0, "update": 0, "unchanged": 3, "invalid": 0}
    result = apply(client, preview).context["result"]
    assert (result.applied, result.created, result.updated, result.unchanged) == (True, 0, 0, 3)
    assert snapshot() == before


def test_stock_round_trip_is_unchanged_and_writes_no_ledger_rows(client_for, warehouse, ham):
    first, second = SKUFactory(code="S-1"), SKUFactory(code="S-2")
    stock(first, warehouse, 10, safety_stock=3)
    stock(second, ham, 4)
    stock(second, warehouse, 0)
    hold(first, 2)
    StockLevel.objects.filter(sku=first).update(
        bin=Bin.objects.create(warehouse=warehouse, code="B1")
    )
    client = client_for("manager")
    content = exported(client, "inventory:export_stock")
    before = snapshot()

    preview = upload(client, content)
    assert preview.context["plan"].kind == "stock"
    assert preview.context["counts"] == {"create": 0, "update": 0, "unchanged": 3, "invalid": 0}
    assert apply(client, preview).context["result"].applied
    assert snapshot() == before


# --- Catalogue import ---------------------------------------------------------------------


def test_catalogue_import_creates_and_updates_products_and_skus(client_for):
    mug = ProductFactory(name="Mug")
    SKUFactory(code="MUG-1", product=mug, name="White", price=Decimal("5.00"))
    SKUFactory(code="MUG-2", product=mug, name="Black", price=Decimal("5.00"))
    SupplierFactory(code="acme")
    content = lines(
        CATALOGUE_HEADER,
        "MUG-1,Mug,White,,6.50,EUR,350,0,0,0,true,,",
        "MUG-2,Mug,Black,,5.00,EUR,450,0,0,0,true,,",
        "CAP-1,Cap,Red,4006381333931,12.00,USD,80,1,2,3,false,acme,14",
    )
    client = client_for("owner")
    preview = upload(client, content)
    assert preview.context["counts"] == {"create": 1, "update": 2, "unchanged": 0, "invalid": 0}
    assert not SKU.objects.filter(code="CAP-1").exists()  # the preview writes nothing

    response = apply(client, preview)
    assert response.context["result"].applied
    assert SKU.objects.get(code="MUG-1").price == Decimal("6.50")
    assert SKU.objects.get(code="MUG-2").weight_grams == 450
    cap = SKU.objects.select_related("product", "supplier").get(code="CAP-1")
    assert (cap.product.name, cap.name, cap.barcode, cap.price, cap.currency) == (
        "Cap", "Red", "4006381333931", Decimal("12.000"), "USD",
    )  # fmt: skip
    assert (cap.weight_grams, cap.length_mm, cap.width_mm, cap.height_mm) == (80, 1, 2, 3)
    assert (cap.active, cap.supplier.code, cap.lead_time_days) == (False, "acme", 14)
    assert Product.objects.filter(name="Mug").count() == 1
    assert "1 created, 2 updated, 0 unchanged" in response.content.decode()


def test_catalogue_import_with_only_required_columns_keeps_other_fields(client_for):
    SKUFactory(code="K-1", product=ProductFactory(name="Kettle"), name="Steel", price=Decimal("30"))
    client = client_for("owner")
    preview = upload(client, lines("sku,product,name", "K-1,Kettle,Chrome", "K-2,Kettle,Glass"))
    assert preview.context["counts"] == {"create": 1, "update": 1, "unchanged": 0, "invalid": 0}
    apply(client, preview)
    kettle = SKU.objects.get(code="K-1")
    assert (kettle.name, kettle.price) == ("Chrome", Decimal("30"))
    assert SKU.objects.get(code="K-2").product == kettle.product


def test_catalogue_errors_name_their_line_and_column():
    SKUFactory(code="OLD-1")
    content = lines(
        CATALOGUE_HEADER,
        "OK-1,Tee,S,,1.00,EUR,0,0,0,0,true,,",
        "BAD-GTIN,Tee,M,4006381333932,1.00,EUR,0,0,0,0,true,,",
        "BAD-CUR,Tee,L,,1.00,EURO,0,0,0,0,true,,",
        "BAD-WEIGHT,Tee,XL,,1.00,EUR,-5,0,0,0,true,,",
        "BAD-PRICE,Tee,XXL,,1;00,EUR,0,0,0,0,maybe,nobody,soon",
        "DUP-1,Tee,A,,1.00,EUR,0,0,0,0,true,,",
        ",,B,,1.00,EUR,0,0,0,0,true,,",
        "DUP-1,Tee,C,,1.00,EUR,0,0,0,0,true,,",
    )
    plan = csv_io.plan_import(content, kind="catalogue")
    assert located(plan.errors) == {
        (3, "barcode"),
        (4, "currency"),
        (5, "weight_grams"),
        (6, "price"),
        (6, "active"),
        (6, "supplier"),
        (6, "lead_time_days"),
        (7, "sku"),
        (8, "sku"),
        (8, "product"),
        (9, "sku"),
    }
    messages = {(error.line, error.column): error.message for error in plan.errors}
    assert "not a valid GTIN" in messages[(3, "barcode")]
    assert messages[(4, "currency")] == "'EURO' is not an ISO 4217 currency code."
    assert messages[(5, "weight_grams")] == "Must be 0 or more, not -5."
    assert messages[(7, "sku")] == "Duplicate SKU 'DUP-1': also on line 9."
    assert messages[(9, "sku")] == "Duplicate SKU 'DUP-1': also on line 7."
    assert messages[(6, "supplier")] == "Unknown supplier 'nobody'."
    assert plan.counts() == {"create": 1, "update": 0, "unchanged": 0, "invalid": 7}


def test_a_blank_price_is_an_error_rather_than_free():
    SKUFactory(code="P-1", price=Decimal("9.99"))
    plan = csv_io.plan_import(lines("sku,product,name,price", "P-1,Tee,Blue,"))
    assert [(e.line, e.column, e.message) for e in plan.errors] == [
        (2, "price", "Required (write 0 for no price).")
    ]


def test_a_quoted_cell_over_two_lines_keeps_line_numbers_right():
    content = lines(
        "sku,product,name,currency",
        'Q-1,"Tee with a',
        'long name",Blue,EUR',
        "Q-2,Tee,Red,XXX",
    )
    plan = csv_io.plan_import(content)
    assert located(plan.errors) == {(4, "currency")}
    assert plan.rows[0].values["product"] == "Tee with a\nlong name"


def test_a_semicolon_separated_file_is_read(client_for):
    preview = upload(client_for("owner"), lines("sku;product;name;price", "SEMI-1;Tee;Blue;3.50"))
    assert preview.context["plan"].errors == []
    assert preview.context["counts"]["create"] == 1


def test_a_missing_required_column_stops_the_import(client_for):
    client = client_for("owner")
    preview = upload(client, lines("sku,name,price", "X-1,Blue,1.00"), kind="catalogue")
    plan = preview.context["plan"]
    assert plan.fatal
    assert [(e.line, e.column, e.message) for e in plan.errors] == [
        (1, "product", "Required column 'product' is missing.")
    ]
    assert preview.context["apply_form"] is None
    assert "Required column &#x27;product&#x27; is missing." in preview.content.decode()


def test_an_unknown_column_is_reported():
    plan = csv_io.plan_import(lines("sku,product,name,colour", "X-1,Tee,Blue,red"))
    assert plan.fatal
    assert located(plan.errors) == {(1, "colour")}


def test_a_file_that_is_not_utf8_is_refused_with_its_line(client_for):
    content = lines("sku,product,name", "OK-1,Tee,Blue") + "BAD-1,Tée,Blue\n".encode("latin-1")
    preview = upload(client_for("owner"), content)
    (error,) = preview.context["plan"].errors
    assert error.line == 3
    assert "not UTF-8" in error.message
    assert not SKU.objects.exists()


def test_a_utf8_file_with_a_byte_order_mark_is_read():
    plan = csv_io.plan_import("\ufeffsku,product,name\nBOM-1,Tée,Blue\n".encode())
    assert plan.errors == []
    assert plan.rows[0].values["product"] == "Tée"


def test_more_than_20000_rows_are_refused():
    rows = ["sku,product,name"] + [f"R-{n},Tee,Blue" for n in range(csv_io.MAX_ROWS + 1)]
    plan = csv_io.plan_import(lines(*rows))
    assert plan.fatal
    assert "more than 20,000 rows" in plan.errors[0].message


def test_20000_rows_are_accepted():
    rows = ["sku,product,name"] + [f"R-{n},Tee,Blue" for n in range(csv_io.MAX_ROWS)]
    plan = csv_io.plan_import(lines(*rows))
    assert not plan.errors
    assert plan.counts()["create"] == csv_io.MAX_ROWS


def test_an_empty_file_is_refused():
    plan = csv_io.plan_import(b"")
    assert plan.fatal and "empty" in plan.errors[0].message


# --- Stock import -------------------------------------------------------------------------


def test_stock_import_counts_stock_through_the_ledger(client_for, users, sku, warehouse, ham):
    stock(sku, warehouse, 10)
    shelf = Bin.objects.create(warehouse=ham, code="H-1")
    client = client_for("manager")
    preview = upload(
        client,
        lines(
            "sku,warehouse,on_hand,safety_stock,bin",
            f"{sku.code},ber,7,2,",
            f"{sku.code},ham,5,1,H-1",
        ),
    )
    assert preview.context["counts"] == {"create": 1, "update": 1, "unchanged": 0, "invalid": 0}
    assert apply(client, preview).context["result"].applied

    ber_level = StockLevel.objects.get(sku=sku, warehouse=warehouse)
    ham_level = StockLevel.objects.get(sku=sku, warehouse=ham)
    assert (ber_level.on_hand, ber_level.safety_stock, ber_level.bin) == (7, 2, None)
    assert (ham_level.on_hand, ham_level.safety_stock, ham_level.bin) == (5, 1, shelf)
    counts = StockMovement.objects.filter(reason=MovementReason.CYCLE_COUNT).order_by("pk")
    assert [(m.warehouse.code, m.on_hand_change, m.note) for m in counts] == [
        ("ber", -3, "CSV import"),
        ("ham", 5, "CSV import"),
    ]
    assert {m.actor_user for m in counts} == {users["manager"]}


def test_stock_errors_name_their_line_and_column(sku, warehouse, ham):
    SKUFactory(code="OTHER")
    stock(sku, warehouse, 10)
    hold(sku, 4)
    content = lines(
        "sku,warehouse,on_hand,safety_stock,bin",
        "OTHER,ber,9,,",
        "NOPE,ber,1,,",
        "OTHER,nowhere,1,,",
        "OTHER,ham,-2,,",
        f"{sku.code},ber,3,x,Z-9",
        "OTHER,BER,2,,",
    )
    plan = csv_io.plan_import(content)
    messages = {(error.line, error.column): error.message for error in plan.errors}
    assert messages == {
        (2, "sku"): "Duplicate row for OTHER at ber: also on line 7.",
        (3, "sku"): "Unknown SKU 'NOPE'.",
        (4, "warehouse"): "Unknown warehouse 'nowhere'.",
        (5, "on_hand"): "Must be 0 or more, not -2.",
        (6, "on_hand"): "3 is below the 4 units allocated to orders.",
        (6, "safety_stock"): "'x' is not a whole number.",
        (6, "bin"): "Unknown bin 'Z-9' in warehouse ber.",
        (7, "sku"): "Duplicate row for OTHER at ber: also on line 2.",
    }
    assert plan.rows == []


def test_a_safety_stock_change_alone_writes_no_ledger_row(client_for, sku, warehouse):
    stock(sku, warehouse, 10)
    client = client_for("owner")
    before = StockMovement.objects.count()
    preview = upload(client, lines("sku,warehouse,on_hand,safety_stock", f"{sku.code},ber,10,4"))
    assert preview.context["counts"]["update"] == 1
    assert apply(client, preview).context["result"].updated == 1
    assert StockLevel.objects.get().safety_stock == 4
    assert StockMovement.objects.count() == before


def test_the_preview_offers_all_or_nothing_by_default(client_for, sku, warehouse):
    preview = upload(
        client_for("owner"), lines("sku,warehouse,on_hand", f"{sku.code},ber,3", "NOPE,ber,1")
    )
    assert preview.context["apply_form"].initial["mode"] == "all"
    assert 'value="all" id="id_mode_0" required checked>' in preview.content.decode()


def test_by_default_nothing_is_imported_unless_every_row_is_valid(client_for, warehouse, ham):
    first, second = SKUFactory(code="G-1"), SKUFactory(code="G-2")
    client = client_for("owner")
    content = lines("sku,warehouse,on_hand", "G-1,ber,5", "G-2,ham,6", "G-3,ber,7", "G-2,ber,-1")
    before = snapshot()
    preview = upload(client, content)
    assert preview.context["counts"] == {"create": 2, "update": 0, "unchanged": 0, "invalid": 2}

    refused = apply(client, preview, mode="all")
    result = refused.context["result"]
    assert not result.applied
    assert located(result.errors) == {(4, "sku"), (5, "on_hand")}
    assert "Nothing was imported" in refused.content.decode()
    assert snapshot() == before

    accepted = apply(client, refused, mode="valid_only")
    result = accepted.context["result"]
    assert (result.applied, result.created, result.skipped_lines) == (True, 2, [4, 5])
    assert StockLevel.objects.get(sku=first, warehouse=warehouse).on_hand == 5
    assert StockLevel.objects.get(sku=second, warehouse=ham).on_hand == 6
    assert StockLevel.objects.count() == 2


def test_valid_rows_only_applies_catalogue_rows_and_reports_the_rest(client_for):
    client = client_for("owner")
    preview = upload(client, lines("sku,product,name,price", "V-1,Tee,Blue,1.00", "V-2,Tee,Red,-1"))
    response = apply(client, preview, mode="valid_only")
    result = response.context["result"]
    assert (result.applied, result.created, result.skipped_lines) == (True, 1, [3])
    assert list(SKU.objects.values_list("code", flat=True)) == ["V-1"]
    assert "Must not be negative." in response.content.decode()


def test_the_import_checks_the_file_again_when_applied(client_for, sku, warehouse):
    stock(sku, warehouse, 10)
    client = client_for("owner")
    preview = upload(client, lines("sku,warehouse,on_hand", f"{sku.code},ber,3"))
    assert preview.context["plan"].errors == []
    hold(sku, 5)  # meanwhile a checkout holds 5 units
    before = snapshot()
    result = apply(client, preview).context["result"]
    assert not result.applied
    assert located(result.errors) == {(2, "on_hand")}
    assert snapshot() == before


def test_an_import_token_is_used_once(client_for, sku, warehouse):
    client = client_for("owner")
    preview = upload(client, lines("sku,warehouse,on_hand", f"{sku.code},ber,3"))
    assert apply(client, preview).context["result"].applied
    again = apply(client, preview)
    assert again.status_code == 302
    assert again["Location"] == reverse("inventory:import")
    assert StockLevel.objects.get().on_hand == 3
    assert StockMovement.objects.count() == 1


def test_another_session_cannot_apply_an_upload(client_for, users, sku, warehouse):
    preview = upload(client_for("owner"), lines("sku,warehouse,on_hand", f"{sku.code},ber,3"))
    other = Client()
    other.force_login(users["manager"])
    response = apply(other, preview)
    assert response.status_code == 302
    assert not StockLevel.objects.exists()


def test_a_forged_token_is_refused(client_for):
    client = client_for("owner")
    before = row_counts()
    response = client.post(
        reverse("inventory:import_apply"), {"token": "../../etc/passwd", "mode": "all"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("inventory:import")
    shown = [str(m) for m in client.get(response["Location"]).context["messages"]]
    assert any("upload the file again" in message for message in shown)
    assert row_counts() == before


def test_the_upload_waits_in_the_var_folder_and_is_removed_after_import(
    client_for, sku, warehouse, var_dir
):
    client = client_for("owner")
    preview = upload(client, lines("sku,warehouse,on_hand", f"{sku.code},ber,3"))
    assert len(list((var_dir / "imports").glob("*.csv"))) == 1
    apply(client, preview)
    assert list((var_dir / "imports").glob("*.csv")) == []


@pytest.mark.parametrize("role", ["support", "warehouse", "readonly"])
def test_only_catalogue_managers_may_import(client_for, role, sku, warehouse):
    response = upload(client_for(role), lines("sku,warehouse,on_hand", f"{sku.code},ber,3"))
    assert response.status_code == 403
    response = client_for(role).post(
        reverse("inventory:import_apply"), {"token": "a" * 32, "mode": "all"}
    )
    assert response.status_code == 403
    assert not StockLevel.objects.exists()


def test_choosing_the_wrong_kind_reports_the_missing_columns():
    plan = csv_io.plan_import(lines("sku,product,name", "X,Tee,Blue"), kind="stock")
    assert plan.fatal
    assert {(1, "warehouse"), (1, "on_hand")} <= located(plan.errors)
