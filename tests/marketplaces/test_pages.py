"""Marketplace pages: who may see health, sync now, replay, rotate credentials; what they
show; the Shopify webhook's signature check."""

import base64
import hashlib
import hmac
import json

import pytest
from django.test import TestCase

from marketplaces.models import SyncFailure, SyncRun, WebhookReceipt
from orders.models import Order

from .helpers import fresh, sync

pytestmark = pytest.mark.django_db

ROLES = ["owner", "manager", "support", "warehouse", "readonly"]
VIEW = {"owner", "manager", "support", "readonly"}
SYNC = {"owner", "manager"}
CREDENTIALS = {"owner"}


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(client_for, marketplace, role):
    server, connection = marketplace("amazon")
    server.marketplace.store.generate(1, status="unshipped", afn=False)
    server.marketplace.faults.update({"malformed": 1})
    run = sync(connection)
    failure = SyncFailure.objects.get()
    client = client_for(role)
    code = connection.channel.code
    for url in ("/marketplaces/", f"/marketplaces/{code}/", f"/marketplaces/runs/{run.pk}/"):
        assert client.get(url).status_code == (200 if role in VIEW else 403), url
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(f"/marketplaces/{code}/sync/")
    assert response.status_code == (302 if role in SYNC else 403)
    response = client.post(f"/marketplaces/failures/{failure.pk}/ignore/")
    assert response.status_code == (302 if role in SYNC else 403)
    assert client.get(f"/marketplaces/{code}/credentials/").status_code == (
        200 if role in CREDENTIALS else 403
    )


def test_health_page_shows_runs_and_failed_records(client_for, marketplace):
    server, connection = marketplace("amazon")
    server.marketplace.store.generate(2, status="unshipped", afn=False)
    server.marketplace.faults.update({"malformed": 1})
    run = sync(connection)
    page = client_for("manager").get(f"/marketplaces/{connection.channel.code}/").content.decode()
    assert "Sync now" in page and "999-0000000-0000000" in page
    detail = client_for("manager").get(f"/marketplaces/runs/{run.pk}/").content.decode()
    assert "Replay" in detail and "not a date" in detail
    overview = client_for("readonly").get("/marketplaces/").content.decode()
    assert connection.channel.name in overview and "Sync now" not in overview


def test_sync_now_runs_a_manual_sync(client_for, marketplace):
    server, connection = marketplace("ebay")
    server.marketplace.store.generate(2, status="unshipped")
    with TestCase.captureOnCommitCallbacks(execute=True):
        client_for("manager").post(f"/marketplaces/{connection.channel.code}/sync/")
    run = SyncRun.objects.get()
    assert run.kind == SyncRun.Kind.MANUAL and run.triggered_by == "manager" and run.created == 2


def test_credentials_are_masked_encrypted_and_rotated(client_for, marketplace):
    from django.db import connection as db

    server, connection = marketplace("amazon")
    client = client_for("owner")
    page = client.get(f"/marketplaces/{connection.channel.code}/credentials/").content.decode()
    assert "lwa-secret" not in page and "••••" in page
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT credentials FROM marketplaces_marketplaceconnection WHERE id = %s",
            [connection.pk],
        )
        stored = cursor.fetchone()[0]
    assert "lwa-secret" not in stored and stored.startswith("gAAAA")
    response = client.post(
        f"/marketplaces/{connection.channel.code}/credentials/", {"client_secret": "new-lwa-secret"}
    )
    assert response.status_code == 302
    connection = fresh(connection)
    assert connection.credentials["client_secret"] == "new-lwa-secret"
    assert connection.credentials["refresh_token"] == "Atzr|refresh"  # blank kept it
    assert connection.token_cache == {}
    # The stub still expects the old secret: the next sync is refused and says so.
    server.marketplace.store.generate(1, status="unshipped", afn=False)
    run = sync(connection)
    assert run.status == SyncRun.Status.FAILED
    assert "AuthError" in run.error or "refused" in run.error


def _signed(secret, body):
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def test_shopify_webhook_is_verified_deduplicated_and_imports_the_order(client, marketplace):
    server, connection = marketplace("shopify")
    order = server.marketplace.store.generate(1, status="unshipped")[0]
    body = json.dumps(
        {"id": int(order["id"].rsplit("/", 1)[1]), "admin_graphql_api_id": order["id"]}
    ).encode()
    url = f"/integrations/shopify/{connection.channel.code}/webhooks"
    headers = {
        "HTTP_X_SHOPIFY_TOPIC": "orders/create",
        "HTTP_X_SHOPIFY_WEBHOOK_ID": "delivery-1",
        "HTTP_X_SHOPIFY_HMAC_SHA256": _signed("shpss_webhook_secret", body),
    }
    forged = dict(headers, HTTP_X_SHOPIFY_HMAC_SHA256=_signed("guess", body))
    assert client.post(url, body, content_type="application/json", **forged).status_code == 403
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert client.post(url, body, content_type="application/json", **headers).status_code == 200
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert client.post(url, body, content_type="application/json", **headers).status_code == 200
    assert WebhookReceipt.objects.count() == 1
    assert Order.objects.filter(external_id=order["id"]).count() == 1
    assert SyncRun.objects.get().kind == SyncRun.Kind.WEBHOOK
