"""The settings pages: sales channels, API keys, webhooks and their deliveries, hold rules."""

from decimal import Decimal

import pytest
from django.urls import reverse

from oms_site import webhooks
from oms_site.actors import Actor
from oms_site.models import (
    ApiKey,
    OutboxEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from orders import services
from orders.models import HoldRule, OrderStatus, SalesChannel
from tests import factories
from tests.conftest import ROLES
from tests.stub_http import StubServer

ADDRESS = {"name": "Erika Mustermann", "line1": "Heidestrasse 17", "city": "Köln", "country": "DE"}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """The ``users`` fixture hashes five passwords per test; the real hasher takes ~0.2 s
    each, which is most of these tests' time. (Autouse: set before ``users`` runs.)"""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def owner(client_for):
    return client_for("owner")


@pytest.fixture
def manager(client_for):
    return client_for("manager")


@pytest.fixture
def subscription(db):
    return WebhookSubscription.objects.create(
        name="ERP", url="http://127.0.0.1:9/hooks", secret="s3cret", event_types=[]
    )


@pytest.fixture
def delivery(subscription):
    event = OutboxEvent.objects.create(event_type="order.created", payload={"number": "SO-1"})
    return WebhookDelivery.objects.create(
        subscription=subscription,
        event=event,
        status=WebhookDelivery.Status.FAILED,
        attempt_count=8,
        last_status_code=500,
    )


# --- index ----------------------------------------------------------------------------------


def test_index_links_to_every_section_for_the_owner(owner):
    html = owner.get(reverse("settings:index")).content.decode()
    for name in ("order_settings:channels", "settings:api_keys", "settings:webhooks"):
        assert reverse(name) in html
    assert reverse("order_settings:hold_rules") in html


def test_index_hides_api_keys_from_a_manager(manager):
    html = manager.get(reverse("settings:index")).content.decode()
    assert reverse("order_settings:channels") in html
    assert reverse("settings:api_keys") not in html


# --- sales channels -------------------------------------------------------------------------


def test_channel_list(manager, channel):
    response = manager.get(reverse("order_settings:channels"))
    assert response.status_code == 200
    assert "Web shop" in response.content.decode()


def test_create_a_channel(manager, db):
    response = manager.post(
        reverse("order_settings:channel_create"),
        {"code": "amazon-de", "name": "Amazon DE", "kind": "amazon", "currency": "EUR"},
        follow=True,
    )
    channel = SalesChannel.objects.get(code="amazon-de")
    assert (channel.kind, channel.active) == ("amazon", False)  # the box was not ticked
    assert response.redirect_chain[-1][0] == reverse("order_settings:channels")
    assert "amazon-de is saved" in " ".join(messages_of(response))


def test_edit_a_channel_keeps_its_code(manager, channel):
    response = manager.post(
        reverse("order_settings:channel_edit", args=[channel.pk]),
        {
            "code": "renamed",
            "name": "Online shop",
            "kind": "web",
            "currency": "CHF",
            "active": "on",
        },
    )
    assert response.status_code == 302
    channel.refresh_from_db()
    assert (channel.code, channel.name, channel.currency) == ("web", "Online shop", "CHF")


def test_a_bad_channel_form_shows_errors_and_writes_nothing(manager, channel):
    response = manager.post(
        reverse("order_settings:channel_create"),
        {"code": "web", "name": "", "kind": "telepathy", "currency": "XXX"},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"code", "name", "kind", "currency"} <= set(errors)
    assert "errorlist" in response.content.decode()
    assert SalesChannel.objects.count() == 1


def test_edit_of_an_unknown_channel_is_404(manager, db):
    assert manager.get(reverse("order_settings:channel_edit", args=[999])).status_code == 404


# --- API keys -------------------------------------------------------------------------------


def test_api_key_list(owner, users):
    ApiKey.objects.create_key(
        name="shopify", scopes=["orders:read"], channel_codes=["web"], created_by=users["owner"]
    )
    html = owner.get(reverse("settings:api_keys")).content.decode()
    assert "shopify" in html and "orders:read" in html and "never" in html


def test_create_an_api_key_shows_it_once(owner, users, channel):
    response = owner.post(
        reverse("settings:api_key_create"),
        {"name": "ERP", "scopes": ["orders:read", "orders:write"], "channel_codes": ["web"]},
    )
    assert response.status_code == 200
    raw_key = response.context["raw_key"]
    assert raw_key in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    api_key = ApiKey.objects.get_from_key(raw_key)
    assert api_key.scopes == ["orders:read", "orders:write"]
    assert api_key.channel_codes == ["web"]
    assert api_key.created_by == users["owner"]
    # Never again: the list shows the prefix only.
    listing = owner.get(reverse("settings:api_keys")).content.decode()
    assert api_key.prefix in listing and raw_key not in listing


def test_an_api_key_needs_a_scope(owner, db):
    response = owner.post(reverse("settings:api_key_create"), {"name": "ERP", "scopes": []})
    assert response.status_code == 200
    assert "scopes" in response.context["form"].errors
    assert ApiKey.objects.count() == 0


def test_an_api_key_for_an_unknown_channel_is_refused(owner, channel):
    response = owner.post(
        reverse("settings:api_key_create"),
        {"name": "ERP", "scopes": ["orders:read"], "channel_codes": ["nowhere"]},
    )
    assert "channel_codes" in response.context["form"].errors
    assert ApiKey.objects.count() == 0


def test_revoke_an_api_key(owner, db):
    api_key, raw_key = ApiKey.objects.create_key(name="old", scopes=["orders:read"])
    response = owner.post(reverse("settings:api_key_revoke", args=[api_key.prefix]), follow=True)
    api_key.refresh_from_db()
    assert api_key.revoked
    assert not ApiKey.objects.is_valid(raw_key)
    assert "is revoked" in " ".join(messages_of(response))
    assert "Revoked" in response.content.decode()


def test_revoke_is_post_only(owner, db):
    api_key, _ = ApiKey.objects.create_key(name="old", scopes=["orders:read"])
    assert owner.get(reverse("settings:api_key_revoke", args=[api_key.prefix])).status_code == 405
    api_key.refresh_from_db()
    assert not api_key.revoked


# --- webhooks -------------------------------------------------------------------------------


def test_webhook_list(manager, subscription):
    html = manager.get(reverse("settings:webhooks")).content.decode()
    assert "ERP" in html and "http://127.0.0.1:9/hooks" in html


def test_new_webhook_form_offers_a_random_secret(manager, db):
    first = manager.get(reverse("settings:webhook_create")).context["form"]["secret"].value()
    second = manager.get(reverse("settings:webhook_create")).context["form"]["secret"].value()
    assert len(first) >= 40 and first != second


def test_create_a_webhook(manager, db):
    response = manager.post(
        reverse("settings:webhook_create"),
        {
            "name": "Warehouse app",
            "url": "https://example.com/hooks",
            "secret": "a-long-secret",
            "event_types": ["order.created", "order.cancelled"],
            "active": "on",
        },
    )
    assert response.status_code == 302
    subscription = WebhookSubscription.objects.get()
    assert subscription.event_types == ["order.created", "order.cancelled"]
    assert subscription.wants("order.created") and not subscription.wants("stock.changed")


def test_edit_a_webhook(manager, subscription):
    manager.post(
        reverse("settings:webhook_edit", args=[subscription.pk]),
        {"name": "ERP", "url": "https://erp.example.com/in", "secret": "new", "event_types": []},
    )
    subscription.refresh_from_db()
    assert subscription.url == "https://erp.example.com/in"
    assert not subscription.active


def test_a_bad_webhook_form_shows_errors_and_writes_nothing(manager, db):
    response = manager.post(
        reverse("settings:webhook_create"),
        {"name": "x", "url": "ftp://example.com/", "secret": "", "event_types": ["order.eaten"]},
    )
    assert response.status_code == 200
    assert {"url", "secret", "event_types"} <= set(response.context["form"].errors)
    assert WebhookSubscription.objects.count() == 0


def test_deliveries_of_a_subscription(manager, subscription, channel, warehouse, sku):
    factories.stock(sku, warehouse, 5)
    services.place_order(
        channel=channel,
        lines=[{"sku": sku.code, "quantity": 1}],
        shipping_address=ADDRESS,
        actor=Actor.system("test"),
    )
    response = manager.get(reverse("settings:webhook_deliveries", args=[subscription.pk]))
    deliveries = response.context["deliveries"]
    assert [d.pk for d in deliveries] == list(
        subscription.deliveries.order_by("-pk").values_list("pk", flat=True)
    )
    assert "order.created" in {d.event.event_type for d in deliveries}
    html = response.content.decode()
    assert "badge st-pending" in html and "order.created" in html


def test_deliveries_page_by_id(manager, subscription):
    event = OutboxEvent.objects.create(event_type="stock.changed", payload={})
    WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(subscription=subscription, event=event) for _ in range(55)]
    )
    url = reverse("settings:webhook_deliveries", args=[subscription.pk])
    first = manager.get(url)
    assert len(first.context["deliveries"]) == 50
    cursor = first.context["older_cursor"]
    assert cursor == first.context["deliveries"][-1].pk
    second = manager.get(url, {"after": cursor})
    assert len(second.context["deliveries"]) == 5
    assert second.context["older_cursor"] is None


def test_delivery_detail_shows_every_attempt(manager, delivery):
    WebhookAttempt.objects.create(delivery=delivery, status_code=500, response_excerpt="boom")
    WebhookAttempt.objects.create(delivery=delivery, error="ConnectTimeout: too slow")
    response = manager.get(reverse("settings:webhook_delivery", args=[delivery.pk]))
    assert [a.pk for a in response.context["attempts"]] == list(
        delivery.attempts.order_by("pk").values_list("pk", flat=True)
    )
    html = response.content.decode()
    assert "boom" in html and "ConnectTimeout: too slow" in html and "Redeliver" in html


def test_redeliver_sends_the_delivery_again(
    manager, delivery, subscription, django_capture_on_commit_callbacks
):
    with StubServer(responses=(200,)) as stub:
        subscription.url = stub.url
        subscription.save()
        with django_capture_on_commit_callbacks(execute=True):
            response = manager.post(reverse("settings:webhook_redeliver", args=[delivery.pk]))
        assert response.status_code == 302
        assert response["Location"] == reverse("settings:webhook_delivery", args=[delivery.pk])
        assert len(stub.requests) == 1
    assert stub.requests[0]["headers"][webhooks.SIGNATURE_HEADER].startswith("t=")
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    assert delivery.attempts.get().status_code == 200


def test_redeliver_is_post_only(manager, delivery):
    url = reverse("settings:webhook_redeliver", args=[delivery.pk])
    assert manager.get(url).status_code == 405
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.FAILED


# --- hold rules -----------------------------------------------------------------------------


def test_hold_rules_page_lists_every_kind(manager, db):
    HoldRule.objects.create(kind=HoldRule.Kind.HIGH_VALUE, enabled=True, threshold=500)
    response = manager.get(reverse("order_settings:hold_rules"))
    html = response.content.decode()
    for _kind, label in HoldRule.Kind.choices:
        assert str(label) in html
    assert 'value="500.00"' in html


def test_saving_hold_rules_updates_and_creates_them(manager, db):
    HoldRule.objects.create(kind=HoldRule.Kind.BLOCKED_CUSTOMER, enabled=True)
    response = manager.post(
        reverse("order_settings:hold_rules"),
        {
            "high_value-enabled": "on",
            "high_value-threshold": "1000",
            "address_mismatch-enabled": "on",
            "first_order_high_value-threshold": "250",
        },
    )
    assert response.status_code == 302
    rules = {rule.kind: rule for rule in HoldRule.objects.all()}
    assert set(rules) == set(HoldRule.Kind.values)
    assert rules["high_value"].enabled and rules["high_value"].threshold == Decimal("1000")
    assert rules["address_mismatch"].enabled
    assert not rules["blocked_customer"].enabled
    assert not rules["first_order_high_value"].enabled
    assert rules["first_order_high_value"].threshold == Decimal("250")


def test_a_value_rule_needs_a_threshold(manager, db):
    response = manager.post(reverse("order_settings:hold_rules"), {"high_value-enabled": "on"})
    assert response.status_code == 200
    assert "high_value-threshold" in response.context["form"].errors
    assert "Set a threshold" in response.content.decode()
    assert HoldRule.objects.count() == 0


def test_a_saved_rule_holds_the_next_order(manager, channel, warehouse, sku):
    factories.stock(sku, warehouse, 5)
    manager.post(
        reverse("order_settings:hold_rules"),
        {"high_value-enabled": "on", "high_value-threshold": "10"},
    )
    order = services.place_order(
        channel=channel,
        lines=[{"sku": sku.code, "quantity": 1}],
        shipping_address=ADDRESS,
        actor=Actor.system("test"),
    )
    assert order.status == OrderStatus.ON_HOLD


# --- who may do what -------------------------------------------------------------------------

INTEGRATIONS = {"owner", "manager"}
API_KEYS = {"owner"}


def _pages(channel, subscription, delivery):
    return {
        "index": (reverse("settings:index"), INTEGRATIONS),
        "channels": (reverse("order_settings:channels"), INTEGRATIONS),
        "channel_create": (reverse("order_settings:channel_create"), INTEGRATIONS),
        "channel_edit": (reverse("order_settings:channel_edit", args=[channel.pk]), INTEGRATIONS),
        "webhooks": (reverse("settings:webhooks"), INTEGRATIONS),
        "webhook_create": (reverse("settings:webhook_create"), INTEGRATIONS),
        "webhook_edit": (reverse("settings:webhook_edit", args=[subscription.pk]), INTEGRATIONS),
        "webhook_deliveries": (
            reverse("settings:webhook_deliveries", args=[subscription.pk]),
            INTEGRATIONS,
        ),
        "webhook_delivery": (
            reverse("settings:webhook_delivery", args=[delivery.pk]),
            INTEGRATIONS,
        ),
        "hold_rules": (reverse("order_settings:hold_rules"), INTEGRATIONS),
        "api_keys": (reverse("settings:api_keys"), API_KEYS),
        "api_key_create": (reverse("settings:api_key_create"), API_KEYS),
    }


PAGES = [
    "index",
    "channels",
    "channel_create",
    "channel_edit",
    "webhooks",
    "webhook_create",
    "webhook_edit",
    "webhook_deliveries",
    "webhook_delivery",
    "hold_rules",
    "api_keys",
    "api_key_create",
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", PAGES)
def test_who_may_see_each_settings_page(client_for, channel, delivery, role, page):
    url, allowed = _pages(channel, delivery.subscription, delivery)[page]
    expected = 200 if role in allowed else 403
    assert client_for(role).get(url).status_code == expected


@pytest.mark.parametrize("role", ROLES)
def test_who_may_create_a_channel(client_for, db, role):
    response = client_for(role).post(
        reverse("order_settings:channel_create"),
        {"code": "pos", "name": "POS", "kind": "pos", "currency": "EUR", "active": "on"},
    )
    allowed = role in INTEGRATIONS
    assert response.status_code == (302 if allowed else 403)
    assert SalesChannel.objects.filter(code="pos").exists() == allowed


@pytest.mark.parametrize("role", ROLES)
def test_who_may_edit_a_channel(client_for, channel, role):
    response = client_for(role).post(
        reverse("order_settings:channel_edit", args=[channel.pk]),
        {"code": "web", "name": "Renamed", "kind": "web", "currency": "EUR", "active": "on"},
    )
    allowed = role in INTEGRATIONS
    assert response.status_code == (302 if allowed else 403)
    channel.refresh_from_db()
    assert (channel.name == "Renamed") == allowed


@pytest.mark.parametrize("role", ROLES)
def test_who_may_create_an_api_key(client_for, db, role):
    response = client_for(role).post(
        reverse("settings:api_key_create"), {"name": "ERP", "scopes": ["orders:read"]}
    )
    allowed = role in API_KEYS
    assert response.status_code == (200 if allowed else 403)
    assert ApiKey.objects.exists() == allowed


@pytest.mark.parametrize("role", ROLES)
def test_who_may_revoke_an_api_key(client_for, db, role):
    api_key, _ = ApiKey.objects.create_key(name="old", scopes=["orders:read"])
    response = client_for(role).post(reverse("settings:api_key_revoke", args=[api_key.prefix]))
    allowed = role in API_KEYS
    assert response.status_code == (302 if allowed else 403)
    api_key.refresh_from_db()
    assert api_key.revoked == allowed


@pytest.mark.parametrize("role", ROLES)
def test_who_may_create_a_webhook(client_for, db, role):
    response = client_for(role).post(
        reverse("settings:webhook_create"),
        {"name": "ERP", "url": "https://example.com/h", "secret": "s", "active": "on"},
    )
    allowed = role in INTEGRATIONS
    assert response.status_code == (302 if allowed else 403)
    assert WebhookSubscription.objects.exists() == allowed


@pytest.mark.parametrize("role", ROLES)
def test_who_may_edit_a_webhook(client_for, subscription, role):
    response = client_for(role).post(
        reverse("settings:webhook_edit", args=[subscription.pk]),
        {"name": "Renamed", "url": "https://example.com/h", "secret": "s", "active": "on"},
    )
    allowed = role in INTEGRATIONS
    assert response.status_code == (302 if allowed else 403)
    subscription.refresh_from_db()
    assert (subscription.name == "Renamed") == allowed


@pytest.mark.parametrize("role", ROLES)
def test_who_may_redeliver(client_for, delivery, role):
    response = client_for(role).post(reverse("settings:webhook_redeliver", args=[delivery.pk]))
    allowed = role in INTEGRATIONS
    assert response.status_code == (302 if allowed else 403)
    delivery.refresh_from_db()
    assert (delivery.status == WebhookDelivery.Status.PENDING) == allowed


@pytest.mark.parametrize("role", ROLES)
def test_who_may_save_hold_rules(client_for, db, role):
    response = client_for(role).post(
        reverse("order_settings:hold_rules"), {"address_mismatch-enabled": "on"}
    )
    allowed = role in INTEGRATIONS
    assert response.status_code == (302 if allowed else 403)
    assert HoldRule.objects.filter(kind="address_mismatch", enabled=True).exists() == allowed


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    for name in (
        "settings:index",
        "order_settings:channels",
        "settings:api_keys",
        "settings:webhooks",
        "order_settings:hold_rules",
    ):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_webhook_form_refuses_internal_addresses(manager, db, settings):
    settings.OMS_WEBHOOK_ALLOW_PRIVATE = False
    response = manager.post(
        reverse("settings:webhook_create"),
        {"name": "x", "url": "http://169.254.169.254/", "secret": "s", "event_types": []},
    )
    assert response.status_code == 200
    assert "internal address" in str(response.context["form"].errors["url"])
    assert WebhookSubscription.objects.count() == 0
