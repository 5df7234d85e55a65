import pytest
from django.conf import settings
from rest_framework.test import APIClient

from oms_site.actors import Actor
from oms_site.models import ApiKey, ApiScope
from oms_site.roles import Role

from . import factories

ROLES = [r.value for r in Role]


def is_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def pytest_collection_modifyitems(config, items):
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL (DATABASE_URL=postgres://...)")
    for item in items:
        if "postgres" in item.keywords and not is_postgres():
            item.add_marker(skip_pg)


@pytest.fixture(autouse=True)
def _empty_cache():
    from django.core.cache import cache

    from oms_site import process_cache

    cache.clear()
    process_cache.clear_all()
    yield
    cache.clear()
    process_cache.clear_all()


@pytest.fixture(autouse=True)
def _webhook_stubs_on_loopback(settings):
    # The tests' stub receivers listen on 127.0.0.1 (refused in production by default).
    settings.OMS_WEBHOOK_ALLOW_PRIVATE = True


@pytest.fixture(autouse=True)
def _eager_celery(settings):
    # Tasks run in-process after commit; the broker itself is exercised in test_worker.py.
    from oms_site.celery_app import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def system_actor():
    return Actor.system("test")


@pytest.fixture
def vipps(settings):
    """A Vipps MobilePay sandbox (its ePayment API) the OMS is configured to use."""
    from demo.sandboxes.vipps import VippsServer

    with VippsServer() as server:
        settings.OMS_VIPPS = server.settings()
        yield server


@pytest.fixture
def channel(db):
    return factories.ChannelFactory()


@pytest.fixture
def warehouse(db):
    return factories.WarehouseFactory(code="ber", city="Berlin", latitude=52.52, longitude=13.405)


@pytest.fixture
def sku(db):
    return factories.SKUFactory(code="TSHIRT-BLK-M", price="19.90")


@pytest.fixture
def users(db):
    """One user per role, named after it."""
    return {role: factories.UserFactory(username=role, role=role) for role in ROLES}


@pytest.fixture
def client_for(users):
    """A logged-in Django test client for a role."""
    from django.test import Client

    def make(role):
        client = Client()
        client.force_login(users[role])
        return client

    return make


@pytest.fixture
def api_for(users):
    """An APIClient authenticated by session as a role's user."""

    def make(role):
        client = APIClient()
        client.force_authenticate(users[role])
        return client

    return make


@pytest.fixture
def make_api_key(db):
    def make(
        scopes=tuple(ApiScope.values),
        channel_codes=(),
        name="integration",
    ):
        api_key, raw = ApiKey.objects.create_key(
            name=name, scopes=list(scopes), channel_codes=list(channel_codes)
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
        return client, api_key, raw

    return make


@pytest.fixture
def api(make_api_key):
    """An API client with a key that may do everything on every channel."""
    client, _, _ = make_api_key()
    return client


DATABASE_FIXTURES = {
    "db",
    "transactional_db",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
    "live_server",
    "_django_db_helper",
}


def _used_the_database(request) -> bool:
    """The test asked for the database: by marker, or through any fixture that needs it."""
    return request.node.get_closest_marker("django_db") is not None or bool(
        DATABASE_FIXTURES & set(request.fixturenames)
    )


@pytest.fixture(autouse=True)
def _stock_audit_after_each_test(request):
    """After every database test, stock must still equal its ledger and allocations:
    `oms_audit` is clean after each of the suite's scenarios."""
    audited = _used_the_database(request) and not request.node.get_closest_marker("no_stock_audit")
    if audited:
        # Set the database up before this fixture, so it is torn down (rolled back) after
        # the audit has read it.
        request.getfixturevalue("_django_db_helper")
    yield
    if not audited:
        return
    if hasattr(request.node, "rep_call") and request.node.rep_call.failed:
        return
    from orders.audit import run_audits

    problems = run_audits()
    assert not problems, "oms_audit failed:\n" + "\n".join(problems)
    # The order counters per status (kept by triggers) must equal a real count, whatever
    # the test did to orders.
    from orders.services import status_counts

    assert status_counts.current() == status_counts.table_counts(), "order counters drifted"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
