"""A warehouse user on a phone-sized screen takes an order from pick list to shipped:
scans typed into the pick and pack screens (a wrong bin among them), a package weighed,
a label booked and the parcel shipped. A screenshot of every screen is kept in
``var/artefacts/browser/`` for people to look at."""

import os

import pytest
from django.conf import settings

from fulfillment import services
from fulfillment.models import Shipment, ShipmentStatus
from inventory.models import StockLevel
from oms_site.actors import Actor
from orders.models import OrderStatus

from .conftest import CHROMIUM
from .test_order_flow import log_in

if not os.path.exists(CHROMIUM):
    pytest.skip(
        f"{CHROMIUM} is not installed (run scripts/ensure-chromium)", allow_module_level=True
    )
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(page, name):
    folder = settings.BASE_DIR / "var" / "artefacts" / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"fulfillment-{name}.png"), full_page=True)


def scan(page, code):
    page.fill("#scan-input", code)
    page.press("#scan-input", "Enter")


def test_pick_pack_ship_on_a_phone(
    live_server,
    new_page,
    warehouse_user,
    skus,
    berlin,
    place,
    own_courier,
    box,
):
    order = place(("MUG-WHT", 2), ("CAP-RED", 1))
    services.create_pick_lists(warehouse=berlin, actor=Actor.system("wave"))
    page = new_page()
    log_in(page, live_server, "warehouse")
    page.goto(f"{live_server.url}/fulfillment/")
    shot(page, "1-my-pick-lists")
    page.locator("#my-pick-lists a.tile").first.click()

    feedback = page.locator("#scan-feedback")
    expect(page.locator("#task-bin")).to_contain_text("A-01")
    shot(page, "2-pick-screen")
    scan(page, "C-05")  # the wrong bin: refused, loudly
    expect(feedback).to_have_class("feedback error")
    expect(feedback).to_contain_text("A-01")
    shot(page, "3-wrong-bin")
    scan(page, "A-01")
    expect(feedback).to_have_class("feedback ok")
    scan(page, skus["mug"].barcode)
    expect(feedback).to_contain_text("1/2")
    scan(page, skus["mug"].barcode)
    expect(page.locator("#task-bin")).to_contain_text("C-05")
    scan(page, "C-05")
    expect(feedback).to_have_class("feedback ok")
    scan(page, skus["cap"].barcode)
    expect(page.locator("#current-task")).to_contain_text("Everything is picked")
    shot(page, "4-picked")

    shipment = Shipment.objects.get(order=order)
    page.goto(f"{live_server.url}/fulfillment/")
    page.locator("#to-pack a.tile").first.click()
    expect(page.locator("h1")).to_contain_text(order.number)
    scan(page, "TSHIRT-BLK-M")  # not in this order
    expect(feedback).to_have_class("feedback error")
    for code in (skus["mug"].barcode, skus["mug"].barcode, skus["cap"].barcode):
        scan(page, code)
        expect(feedback).to_have_class("feedback ok")
    expect(feedback).to_contain_text("Everything is packed")
    page.reload()
    page.locator("form[data-package='1'] input[name=weight_grams]").fill("980")
    page.locator("form[data-package='1'] button").click()
    shot(page, "5-pack-screen")
    page.locator("#finish-packing").click()

    expect(page.locator("#book-and-ship")).to_be_visible()
    page.select_option("select[name=service]", label="Own courier Standard")
    page.fill("input[name=tracking_number]", "OWN-777")
    shot(page, "6-ship-screen")
    page.locator("#book-and-ship").click()
    expect(page.locator("#shipment-status")).to_have_text("Shipped")
    expect(page.locator("#tracking-number")).to_contain_text("OWN-777")
    expect(page.locator("#label-link")).to_be_visible()
    shot(page, "7-shipped")

    shipment.refresh_from_db()
    order.refresh_from_db()
    assert shipment.status == ShipmentStatus.SHIPPED
    assert order.status == OrderStatus.SHIPPED
    assert StockLevel.objects.get(sku=skus["mug"], warehouse=berlin).on_hand == 18
    assert shipment.packages.get().weight_grams == 980
