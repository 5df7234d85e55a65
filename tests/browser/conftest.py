"""Browser tests: Playwright's sync API driving Debian's Chromium against the live server.

Playwright's sync API runs an event loop in the test thread, which makes Django refuse
database access from it ("You cannot call this from an async context"). The tests only
touch the database to arrange and check, never concurrently with the loop, so allow it.
"""

import os

import pytest

# The warehouse world of the fulfillment tests (Berlin with bins, SKUs with GTINs, carriers).
from tests.fulfillment.conftest import (  # noqa: F401 (fixtures shared with the browser tests)
    berlin,
    box,
    own_courier,
    place,
    skus,
    warehouse_user,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (run scripts/ensure-chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    # Only while the browser runs: other tests start subprocesses that must not inherit it.
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
def new_page(browser):
    """Pages in fresh browser contexts (separate cookies), closed after the test."""
    contexts = []

    def make():
        context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
