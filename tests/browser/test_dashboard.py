"""The merchant's dashboard in a real browser, at desktop and phone size: the home page's
figures and charts, a bulk action on a filtered set, an export, a saved view, a customer
page, the keyboard, and the Norwegian UI. axe-core checks each main page for serious or
critical accessibility problems; screenshots go to var/browser-artifacts/.
"""

import os
from pathlib import Path

import pytest
from django.conf import settings

from oms_site.actors import Actor
from orders import services
from orders.models import Order, OrderStatus
from tests import factories

from .conftest import CHROMIUM, CHROMIUM_ARGS

if not os.path.exists(CHROMIUM):
    pytest.skip(
        f"{CHROMIUM} is not installed (run scripts/ensure-chromium)", allow_module_level=True
    )
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pass-word-123"  # tests.factories.UserFactory's
ROOT = Path(__file__).resolve().parent.parent.parent
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTEFACTS = Path(settings.VAR_DIR) / "browser-artifacts"
SIZES = {"desktop": {"width": 1280, "height": 860}, "phone": {"width": 390, "height": 844}}
SYSTEM = Actor.system("test")


@pytest.fixture(scope="module")
def chromium():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            yield browser
            browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def open_page(chromium):
    contexts = []

    def make(size="desktop", **options):
        context = chromium.new_context(viewport=SIZES[size], accept_downloads=True, **options)
        context.set_default_timeout(20_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def screenshot(page, name):
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit].primary").click()
    expect(page.locator(".who")).to_contain_text(username)


def no_sideways_scroll(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"page is {width}px wide"


def accessible(page, what):
    """axe-core inside the page: no serious or critical violation."""
    if not AXE.exists():
        pytest.skip("axe-core is not installed (scripts/ensure-axe needs npm)")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations
                .filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => `${v.impact} ${v.id}: ${v.help} (${v.nodes.length}) `
                          + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
        }"""
    )
    assert not result, f"{what}: " + "; ".join(result)


@pytest.fixture
def shop(users, channel, warehouse, sku):
    """A small shop: orders from two customers, one on hold, one tagged."""
    factories.stock(sku, warehouse, 100)
    orders = []
    for index in range(6):
        orders.append(
            services.place_order(
                channel=channel,
                lines=[{"sku": sku.code, "quantity": 1 + index % 2}],
                shipping_address={
                    "name": "Kari Nordmann",
                    "line1": "Storgata 1",
                    "postal_code": "0150",
                    "city": "Oslo",
                    "country": "NO",
                },
                customer={"email": "kari@example.com", "name": "Kari Nordmann"},
                tags=["gift"] if index < 3 else [],
                actor=SYSTEM,
            )
        )
    services.hold_order(orders[5], reason="Address check", actor=SYSTEM)
    return orders


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_home_page_figures_and_charts(live_server, open_page, shop, size):
    page = open_page(size)
    log_in(page, live_server, "manager")
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="How the shop is doing")).to_be_visible()
    expect(page.locator("#kpi-today [data-figure=orders]")).to_have_text("6")
    expect(page.locator("#chart-orders-t")).to_have_count(1)
    bars = page.locator(".chart-wrap svg rect[fill]")
    assert bars.count() > 2
    box = page.locator(".chart-wrap svg").first.bounding_box()
    assert box["width"] > 200 and box["height"] > 60
    expect(page.locator("#work-on_hold .count")).to_have_text("1")
    no_sideways_scroll(page)
    accessible(page, "home")
    screenshot(page, f"home-{size}")
    page.locator("#work-on_hold a").click()
    expect(page.locator("#order-table tbody tr[data-href]")).to_have_count(1)


def test_bulk_hold_on_a_filtered_set(live_server, open_page, shop):
    page = open_page("desktop")
    log_in(page, live_server, "manager")
    page.goto(f"{live_server.url}/orders/?tag=gift")
    expect(page.locator("#order-table tbody tr[data-href]")).to_have_count(3)
    accessible(page, "order list")
    page.select_option("#bulk-scope", "filtered")
    page.select_option("#bulk-action", "hold")
    page.fill("#bulk-bar input[name=reason]", "Gift wrap check")
    page.locator("#bulk-bar button.primary").click()
    expect(page.locator("#job-status")).to_have_text("Done", timeout=30_000)
    expect(page.locator("#job-succeeded")).to_have_text("3")
    expect(page.locator("#job-items tbody tr")).to_have_count(3)
    screenshot(page, "bulk-job-desktop")
    assert Order.objects.filter(status=OrderStatus.ON_HOLD, tags__icontains="gift").count() == 3


def test_export_and_a_saved_view(live_server, open_page, shop):
    page = open_page("desktop")
    log_in(page, live_server, "manager")
    page.goto(f"{live_server.url}/orders/?tag=gift")
    with page.expect_download() as download:
        page.locator("#export-links a").first.click()
    path = download.value.path()
    text = Path(path).read_text(encoding="utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0].startswith("Order,External id,Channel")
    assert len(lines) == 4  # the header and the three gift orders
    page.locator("#saved-views summary").click()
    page.fill(".save-view input[name=name]", "Gift orders")
    page.check(".save-view input[name=shared]")
    page.locator(".save-view button").click()
    expect(page.locator(".messages")).to_contain_text("Gift orders")
    # Another user of the team opens the shared view.
    other = open_page("phone")
    log_in(other, live_server, "support")
    other.goto(f"{live_server.url}/orders/")
    other.locator("#saved-views summary").click()
    other.get_by_role("link", name="Gift orders").click()
    expect(other.locator("#order-table tbody tr[data-href]")).to_have_count(3)
    no_sideways_scroll(other)
    screenshot(other, "saved-view-phone")


def test_keyboard_on_the_order_list(live_server, open_page, shop):
    page = open_page("desktop")
    log_in(page, live_server, "manager")
    page.goto(f"{live_server.url}/orders/")
    page.keyboard.press("/")
    expect(page.locator("#filter-form input[name=q]")).to_be_focused()
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(page.locator("#order-table tr.current")).to_have_count(1)
    page.keyboard.press("Enter")
    expect(page.locator("#order-status")).to_be_visible()
    assert "/orders/SO-" in page.url


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_customer_page(live_server, open_page, shop, size):
    page = open_page(size)
    log_in(page, live_server, "support")
    page.goto(f"{live_server.url}/orders/{shop[0].number}/")
    accessible(page, "order page")
    no_sideways_scroll(page)
    page.locator("#customer-link").click()
    expect(page.get_by_role("heading", name="Kari Nordmann")).to_be_visible()
    expect(page.locator("#lifetime-value")).to_contain_text("€")
    no_sideways_scroll(page)
    accessible(page, "customer page")
    screenshot(page, f"customer-{size}")


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_norwegian_ui(live_server, open_page, shop, size):
    page = open_page(size, locale="en-US")
    log_in(page, live_server, "manager")
    page.select_option("form.language select", "nb")
    expect(page.locator("html")).to_have_attribute("lang", "nb")
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Slik går det med butikken")).to_be_visible()
    expect(page.locator("#kpi-30d [data-figure=revenue]")).to_contain_text("€\u00a0")
    no_sideways_scroll(page)
    accessible(page, "home in Norwegian")
    screenshot(page, f"home-nb-{size}")
    page.goto(f"{live_server.url}/orders/")
    expect(page.get_by_role("heading", name="Ordrer")).to_be_visible()
    expect(page.locator("nav.counts")).to_contain_text("Holdt tilbake")
    screenshot(page, f"orders-nb-{size}")
    # The choice is the user's: a new browser gets Norwegian too.
    fresh = open_page(size, locale="en-US")
    log_in(fresh, live_server, "manager")
    expect(fresh.locator("html")).to_have_attribute("lang", "nb")
