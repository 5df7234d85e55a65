"""The warehouse pages: pick → pack → ship through the pages with scans, documents, and
who may see and do what (roles, and warehouse staff only in their warehouses)."""

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from fulfillment import services
from fulfillment.models import PickList, Shipment, ShipmentStatus
from inventory.models import StockLevel, WarehouseAccess
from orders.models import OrderStatus

from .conftest import SYSTEM, shelve

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}
ALL = {"owner", "manager", "support", "warehouse", "readonly"}
WORKERS = {"owner", "manager", "warehouse"}


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.fixture
def picker(client_for, warehouse_user):
    return client_for("warehouse")


def test_pick_pack_ship_through_the_pages(picker, skus, berlin, place, own_courier, box):
    order = place(("MUG-WHT", 2), ("CAP-RED", 1))
    response = picker.post(
        reverse("fulfillment:pick_list_create"),
        {
            "warehouse": berlin.pk,
            "max_orders": 10,
            "max_lines": 0,
            "max_lists": 1,
            "single_line_together": "on",
            "assign_to_me": "on",
        },
    )
    pick_list = PickList.objects.get()
    assert response.url == reverse("fulfillment:pick", args=[pick_list.number])
    home = picker.get(reverse("fulfillment:home")).content.decode()
    assert pick_list.number in home

    scan_url = reverse("fulfillment:pick_scan", args=[pick_list.number])
    page = picker.get(reverse("fulfillment:pick", args=[pick_list.number])).content.decode()
    assert 'id="scan-input"' in page and "A-01" in page
    wrong = picker.post(scan_url, {"code": "C-05"}, **JSON)
    assert wrong.status_code == 422 and not wrong.json()["ok"]
    assert "A-01" in wrong.json()["message"]
    for code in ["A-01", skus["mug"].barcode, skus["mug"].barcode, "C-05", skus["cap"].barcode]:
        answer = picker.post(scan_url, {"code": code}, **JSON)
        assert answer.status_code == 200, answer.json()
    assert answer.json()["status"] == "done"
    assert "Everything is picked" in answer.json()["task_html"]

    shipment = Shipment.objects.get(order=order)
    pack_scan = reverse("fulfillment:pack_scan", args=[shipment.number])
    assert picker.post(pack_scan, {"code": "TSHIRT-BLK-M"}, **JSON).status_code == 422
    for code in [skus["mug"].barcode, skus["mug"].barcode, skus["cap"].barcode]:
        assert picker.post(pack_scan, {"code": code}, **JSON).status_code == 200
    packages = shipment.packages.all()
    picker.post(
        reverse("fulfillment:pack_package", args=[shipment.number]),
        {"package": packages[0].pk, "weight_grams": 1234, "package_type": box.pk},
    )
    response = picker.post(reverse("fulfillment:pack_finish", args=[shipment.number]))
    assert response.url == reverse("fulfillment:ship", args=[shipment.number])

    service = own_courier.services.get()
    response = picker.post(
        reverse("fulfillment:ship_book", args=[shipment.number]),
        {"service": service.pk, "tracking_number": "OWN-42"},
    )
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.SHIPPED
    assert shipment.packages.get().weight_grams == 1234
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    ship_page = picker.get(reverse("fulfillment:ship", args=[shipment.number])).content.decode()
    assert "OWN-42" in ship_page and "label.pdf" in ship_page

    label = picker.get(reverse("fulfillment:label_pdf", args=[shipment.number]))
    assert label["Content-Type"] == "application/pdf"
    text = pdf_text(label.content)
    assert "OWN-42" in text and "Erika Mustermann" in text and "Parcel 1/1" in text
    zpl = picker.get(reverse("fulfillment:label_zpl", args=[shipment.number])).content.decode()
    assert zpl.startswith("^XA") and "^BCN" in zpl and "OWN-42" in zpl
    slip = pdf_text(picker.get(reverse("fulfillment:packing_slip", args=[shipment.number])).content)
    assert order.number in slip and "MUG-WHT" in slip and "Packing slip" in slip
    sheet = pdf_text(picker.get(reverse("fulfillment:pick_pdf", args=[pick_list.number])).content)
    assert pick_list.number in sheet and order.number in sheet and "A-01" in sheet
    assert skus["mug"].barcode in sheet  # the GTIN's human-readable digits


def test_scan_without_javascript_redirects_with_a_message(picker, skus, berlin, place):
    place(("MUG-WHT", 1))
    [pick_list] = services.create_pick_lists(warehouse=berlin, actor=SYSTEM)
    response = picker.post(
        reverse("fulfillment:pick_scan", args=[pick_list.number]), {"code": "Z-99"}, follow=True
    )
    assert "Wrong item" in response.content.decode() or "Wrong" in response.content.decode()


def test_short_pick_from_the_page(picker, skus, berlin, place):
    order = place(("CAP-RED", 2))
    [pick_list] = services.create_pick_lists(warehouse=berlin, actor=SYSTEM)
    line = pick_list.lines.get()
    picker.post(
        reverse("fulfillment:pick_short", args=[pick_list.number]), {"line": line.pk, "missing": 2}
    )
    level = StockLevel.objects.get(sku=skus["cap"], warehouse=berlin)
    assert (level.on_hand, level.allocated) == (18, 0)
    order.refresh_from_db()
    assert order.status == OrderStatus.BACKORDERED


# --- who may ----------------------------------------------------------------------------------


@pytest.fixture
def worked(skus, berlin, place, own_courier, box, users):
    """A pick list and a packed shipment in Berlin."""
    order = place(("MUG-WHT", 1))
    [pick_list] = services.create_pick_lists(warehouse=berlin, actor=SYSTEM)
    shipment = Shipment.objects.get(order=order)
    services.scan_pick(pick_list, code="A-01", actor=SYSTEM)
    services.scan_pick(pick_list, code=skus["mug"].barcode, actor=SYSTEM)
    services.scan_pack(shipment, code=skus["mug"].barcode, actor=SYSTEM)
    services.finish_packing(shipment, actor=SYSTEM)
    return pick_list, shipment


PAGES = [
    ("get", "fulfillment:home", None, ALL),
    ("get", "fulfillment:pick_lists", None, ALL),
    ("get", "fulfillment:shipments", None, ALL),
    ("get", "fulfillment:pick", "list", ALL),
    ("get", "fulfillment:pick_pdf", "list", ALL),
    ("get", "fulfillment:shipment", "shipment", ALL),
    ("get", "fulfillment:ship", "shipment", ALL),
    ("get", "fulfillment:packing_slip", "shipment", ALL),
    ("post", "fulfillment:pick_scan", "list", WORKERS),
    ("post", "fulfillment:pick_take", "list", WORKERS),
    ("post", "fulfillment:pack_reopen", "shipment", WORKERS),
]


@pytest.mark.parametrize(("method", "name", "arg", "allowed"), PAGES, ids=[p[1] for p in PAGES])
def test_page_role_matrix(client_for, warehouse_user, worked, method, name, arg, allowed):
    pick_list, shipment = worked
    args = {"list": [pick_list.number], "shipment": [shipment.number], None: []}[arg]
    for role in sorted(ALL):
        client = client_for(role)
        url = reverse(name, args=args)
        response = client.get(url) if method == "get" else client.post(url, {"code": "A-01"})
        if role in allowed:
            assert response.status_code in (200, 302), (role, name, response.status_code)
        else:
            assert response.status_code == 403, (role, name, response.status_code)


def test_a_berlin_user_is_refused_leeds_pick_lists_and_shipments(
    client_for, warehouse_user, skus, berlin, leeds, place
):
    shelve(skus["mug"], leeds, 5, "L-01")
    leeds.ships_to_countries = []
    leeds.save()
    StockLevel.objects.filter(warehouse=berlin).update(safety_stock=0)
    order = place(("MUG-WHT", 1), warehouse=leeds)
    [leeds_list] = services.create_pick_lists(warehouse=leeds, actor=SYSTEM)
    shipment = Shipment.objects.get(order=order)
    berlin_user = client_for("warehouse")
    for name, args in [
        ("fulfillment:pick", [leeds_list.number]),
        ("fulfillment:pick_pdf", [leeds_list.number]),
        ("fulfillment:shipment", [shipment.number]),
        ("fulfillment:pack", [shipment.number]),
    ]:
        assert berlin_user.get(reverse(name, args=args)).status_code == 403, name
    response = berlin_user.post(
        reverse("fulfillment:pick_scan", args=[leeds_list.number]), {"code": "L-01"}, **JSON
    )
    assert response.status_code == 403
    assert not leeds_list.lines.filter(bin_confirmed=True).exists()
    # Lists and the home page show only Berlin's work.
    assert (
        leeds_list.number not in berlin_user.get(reverse("fulfillment:pick_lists")).content.decode()
    )
    assert shipment.number not in berlin_user.get(reverse("fulfillment:shipments")).content.decode()
    # A wave for Leeds is refused too.
    response = berlin_user.post(
        reverse("fulfillment:pick_list_create"),
        {"warehouse": leeds.pk, "max_orders": 10, "max_lines": 0, "max_lists": 1},
    )
    assert PickList.objects.count() == 1
    # The manager sees everything.
    assert (
        client_for("manager").get(reverse("fulfillment:pick", args=[leeds_list.number])).status_code
        == 200
    )
    assert WarehouseAccess.objects.filter(warehouse=leeds).count() == 0
