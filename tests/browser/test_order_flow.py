"""An order's life through the dashboard, in a real browser on a phone-sized screen:
log in, create it, hold, release and cancel it; and what a support user may not do."""

import os

import pytest

from inventory.models import WarehouseAccess
from oms_site.actors import Actor
from orders import services
from orders.models import Order, OrderStatus
from tests import factories

from .conftest import CHROMIUM
from .test_dashboard import accessible, screenshot

if not os.path.exists(CHROMIUM):
    pytest.skip(
        f"{CHROMIUM} is not installed (run scripts/ensure-chromium)", allow_module_level=True
    )
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pass-word-123"  # tests.factories.UserFactory's


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".who")).to_contain_text(username)


def test_manager_creates_holds_releases_and_cancels_an_order(
    live_server, new_page, users, channel, warehouse, sku
):
    factories.stock(sku, warehouse, 10)
    page = new_page()
    log_in(page, live_server, "manager")

    page.get_by_role("link", name="New order").click()
    expect(page.get_by_role("heading", name="New order")).to_be_visible()
    page.fill("input[name=customer_email]", "erika@example.com")
    page.fill("input[name=customer_name]", "Erika Mustermann")
    page.fill("input[name=ship_name]", "Erika Mustermann")
    page.fill("input[name=line1]", "Heidestrasse 17")
    page.fill("input[name=city]", "Köln")
    page.fill("input[name=postal_code]", "51147")
    page.select_option("select[name=country]", "DE")
    page.fill("input[name='lines-0-sku']", sku.code)
    page.fill("input[name='lines-0-quantity']", "2")
    page.get_by_role("button", name="Create order").click()

    status = page.locator("#order-status")
    expect(status).to_have_text("Allocated")
    order = Order.objects.get()
    assert page.url.endswith(f"/orders/{order.number}/")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Created from Web shop")
    expect(timeline).to_contain_text("manager")

    page.locator("form[action$='/hold/'] input[name=reason]").fill("Address looks odd")
    page.get_by_role("button", name="Hold", exact=True).click()
    expect(status).to_have_text("On hold")
    expect(page.get_by_text("Address looks odd").first).to_be_visible()

    page.get_by_role("button", name="Release").click()
    expect(status).to_have_text("Allocated")

    page.locator("form[action$='/cancel/'] input[name=reason]").fill("Customer asked")
    page.get_by_role("button", name="Cancel order").click()
    expect(status).to_have_text("Cancelled")
    expect(timeline).to_contain_text("Customer asked")
    expect(page.get_by_role("button", name="Cancel order")).to_have_count(0)

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert list(order.events.values_list("actor_label", flat=True)).count("manager") >= 4


def test_support_does_not_see_the_ship_button(
    live_server, new_page, users, channel, warehouse, sku
):
    factories.stock(sku, warehouse, 10)
    order = services.place_order(
        channel=channel,
        lines=[{"sku": sku.code, "quantity": 1}],
        shipping_address={"name": "A", "line1": "B", "city": "Berlin", "country": "DE"},
        actor=Actor.system("test"),
    )
    assert order.status == OrderStatus.ALLOCATED

    page = new_page()
    log_in(page, live_server, "support")
    page.goto(f"{live_server.url}/orders/{order.number}/")
    expect(page.locator("#order-status")).to_have_text("Allocated")
    expect(page.get_by_role("button", name="Hold", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Mark shipped")).to_have_count(0)
    expect(page.get_by_role("button", name="Re-route")).to_have_count(0)

    # Warehouse staff see it on orders allocated in their warehouses.
    WarehouseAccess.objects.create(user=users["warehouse"], warehouse=warehouse)
    warehouse_page = new_page()
    log_in(warehouse_page, live_server, "warehouse")
    warehouse_page.goto(f"{live_server.url}/orders/{order.number}/")
    expect(warehouse_page.get_by_role("button", name="Mark shipped")).to_be_visible()


def _scrolls_sideways(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )


def test_order_pages_fit_a_phone(live_server, new_page, users, channel, warehouse, sku):
    """At 390 px: no sideways scrolling on the order page (a long e-mail, the lines table),
    the list's filters folded away under the search box, the receive form's only warehouse
    chosen already."""
    factories.stock(sku, warehouse, 10)
    long_email = "a.very.long.mailbox.name.that.keeps.going@subdomain.example-company.example"
    order = services.place_order(
        channel=channel,
        lines=[{"sku": sku.code, "quantity": 1}, {"sku": sku.code, "quantity": 2}],
        customer={"email": long_email, "name": "Maximilian Mustermann-Langname"},
        shipping_address={"name": "A", "line1": "B", "city": "Berlin", "country": "DE"},
        actor=Actor.system("test"),
    )
    page = new_page()
    log_in(page, live_server, "manager")
    page.goto(f"{live_server.url}/orders/{order.number}/")
    expect(page.get_by_text(long_email)).to_be_visible()
    assert not _scrolls_sideways(page)
    # The lines table itself fits too (one labelled card per line), no scrolling inside it.
    assert page.evaluate(
        "[...document.querySelectorAll('.table-wrap')].every("
        "w => w.scrollWidth <= w.clientWidth || !w.querySelector('table.stack-sm'))"
    )
    expect(page.locator("table.stack-sm td[data-label=Total]").first).to_be_visible()

    page.goto(f"{live_server.url}/orders/")
    expect(page.get_by_role("searchbox")).to_be_visible()
    expect(page.locator("select[name=status]")).to_be_hidden()
    page.get_by_text("More filters").click()
    expect(page.locator("select[name=status]")).to_be_visible()
    assert not _scrolls_sideways(page)

    WarehouseAccess.objects.create(user=users["warehouse"], warehouse=warehouse)
    staff = new_page()
    log_in(staff, live_server, "warehouse")
    staff.goto(f"{live_server.url}/inventory/receive/")
    expect(staff.locator("select[name=warehouse]")).to_have_value(str(warehouse.pk))
    assert not _scrolls_sideways(staff)


def test_support_edits_an_order_from_its_page(
    live_server, new_page, users, channel, warehouse, sku
):
    """The edit form on a phone: change a quantity, add a line, change the street; the
    order page then shows the new total and each change on the timeline."""
    factories.stock(sku, warehouse, 10)
    mug = factories.SKUFactory(code="MUG-1", price="8.00")
    factories.stock(mug, warehouse, 10)
    order = services.place_order(
        channel=channel,
        lines=[{"sku": sku.code, "quantity": 2}],
        shipping_address={
            "name": "Erika",
            "line1": "Heidestrasse 17",
            "city": "Berlin",
            "country": "DE",
        },
        actor=Actor.system("test"),
    )
    line = order.lines.get()
    page = new_page()
    log_in(page, live_server, "support")
    page.goto(f"{live_server.url}/orders/{order.number}/")
    page.get_by_role("link", name="Edit order").click()
    expect(page.get_by_role("heading", name=f"Edit {order.number}")).to_be_visible()
    assert not _scrolls_sideways(page)
    accessible(page, "order editor")
    screenshot(page, "order-edit-phone")
    page.fill(f"#qty-{line.pk}", "3")
    page.fill("#new-sku-0", "MUG-1")
    page.fill("#new-qty-0", "1")
    page.fill("#addr-line1", "Invalidenstrasse 1")
    page.fill("#edit-reason", "Customer called")
    page.get_by_role("button", name="Save changes").click()

    expect(page.get_by_text(f"Order {order.number} is changed.")).to_be_visible()
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Line TSHIRT-BLK-M: quantity 2 → 3")
    expect(timeline).to_contain_text("Line added: MUG-1 x1")
    expect(timeline).to_contain_text("Invalidenstrasse 1")
    expect(timeline).to_contain_text("Totals: 39.800 → 67.700 EUR")
    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATED
    assert str(order.grand_total) == "67.700"

    # A mistake is shown on the form and changes nothing.
    page.get_by_role("link", name="Edit order").click()
    page.fill("#new-sku-0", "NO-SUCH-SKU")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#edit-problems")).to_contain_text("Unknown SKU")
    assert Order.objects.get(pk=order.pk).lines.count() == 2
