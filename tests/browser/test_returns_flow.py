"""A warehouse user on a phone-sized screen receives a returned parcel by scanning: the
parcel's RMA number, a unit that is not in it (refused in red), each unit of it, then
"Received"; and inspects it. Screenshots go to ``var/artefacts/browser/``."""

import os

import pytest
from django.conf import settings

from returns import services
from returns.models import ReturnRequest, ReturnStatus
from tests.returns.conftest import SYSTEM, lines_of

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
    page.screenshot(path=str(folder / f"returns-{name}.png"), full_page=True)


def scan(page, code):
    page.fill("#scan-input", code)
    page.press("#scan-input", "Enter")


@pytest.fixture
def returned(place, skus):
    from orders import services as order_services

    order = place(("MUG-WHT", 2), ("CAP-RED", 1))
    order_services.ship_order(order, actor=SYSTEM)
    order_services.deliver_order(order, actor=SYSTEM)
    rr = services.create_return(order=order, lines=lines_of(order, MUG_WHT=2), actor=SYSTEM)
    return services.approve_return(rr, actor=SYSTEM)


def test_receive_a_return_by_scan_on_a_phone(live_server, new_page, warehouse_user, skus, returned):
    page = new_page()
    log_in(page, live_server, "warehouse")
    page.goto(f"{live_server.url}/returns/receive/")
    expect(page.locator("#expected-returns")).to_contain_text(returned.number)
    shot(page, "1-expected")
    scan(page, returned.number)
    expect(page.locator("#receive-counter")).to_contain_text("0/2")
    feedback = page.locator("#scan-feedback")
    scan(page, skus["cap"].barcode)  # not in this parcel: refused, loudly
    expect(feedback).to_have_class("feedback error")
    shot(page, "2-wrong-item")
    scan(page, skus["mug"].barcode)
    expect(feedback).to_have_class("feedback ok")
    scan(page, skus["mug"].barcode)
    expect(page.locator("#receive-counter")).to_contain_text("2/2")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "3-counted")
    page.click("#finish-receiving")
    expect(page.locator("#return-status")).to_contain_text("Received")
    page.locator("#inspect input[value=restock]").first.check()
    page.get_by_role("button", name="Save inspection").click()
    expect(page.locator("#return-status")).to_contain_text("Inspected")
    shot(page, "4-inspected")
    rr = ReturnRequest.objects.get(pk=returned.pk)
    assert rr.status == ReturnStatus.INSPECTED
    assert rr.lines.get().restock_movement is not None
