"""Outgoing webhooks: outbox in the transaction, signed delivery, retries, redelivery."""

import json
import time

import pytest
from django.db import transaction
from django.utils import timezone

from oms_site import webhooks
from oms_site.models import OutboxEvent, WebhookDelivery, WebhookSubscription
from oms_site.tasks import dispatch_due_webhooks

from ..stub_http import StubServer

pytestmark = pytest.mark.django_db


def subscribe(url, event_types=(), secret="s3cret"):
    return WebhookSubscription.objects.create(
        name="shop", url=url, secret=secret, event_types=list(event_types)
    )


def test_delivery_is_signed_with_hmac_sha256(django_capture_on_commit_callbacks):
    with StubServer([200]) as stub:
        subscribe(stub.url)
        with django_capture_on_commit_callbacks(execute=True):
            webhooks.publish("order.created", {"number": "SO-1"})
        assert len(stub.requests) == 1
        request = stub.requests[0]
    header = request["headers"]["X-OMS-Signature"]
    assert webhooks.verify_signature("s3cret", header, request["body"])
    assert not webhooks.verify_signature("wrong", header, request["body"])
    assert not webhooks.verify_signature("s3cret", header, request["body"] + b" ")
    body = json.loads(request["body"])
    assert body["type"] == "order.created" and body["data"] == {"number": "SO-1"}
    assert request["headers"]["X-OMS-Event"] == "order.created"
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "succeeded" and delivery.attempt_count == 1
    assert delivery.attempts.get().status_code == 200


def test_signature_with_a_stale_timestamp_is_refused():
    body = b"{}"
    old = webhooks.sign("k", int(time.time()) - 3600, body)
    assert not webhooks.verify_signature("k", old, body)


def test_failed_delivery_is_retried_with_backoff_and_every_attempt_logged(
    django_capture_on_commit_callbacks,
):
    with StubServer([500, 503, 200]) as stub:
        subscribe(stub.url)
        with django_capture_on_commit_callbacks(execute=True):
            webhooks.publish("order.created", {"n": 1})
        delivery = WebhookDelivery.objects.get()
        assert delivery.status == "retrying"
        assert delivery.attempt_count == 1 and delivery.last_status_code == 500
        wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
        assert 20 <= wait <= 40  # first backoff: 30 s with jitter

        # Not due yet: running the dispatcher sends nothing.
        dispatch_due_webhooks()
        assert len(stub.requests) == 1

        for expected_status in ("retrying", "succeeded"):
            WebhookDelivery.objects.update(next_attempt_at=timezone.now())
            dispatch_due_webhooks()
            delivery.refresh_from_db()
            assert delivery.status == expected_status
        assert len(stub.requests) == 3
        assert [a.status_code for a in delivery.attempts.all()] == [500, 503, 200]


def test_backoff_grows_exponentially():
    assert 24 <= webhooks.backoff_seconds(1) <= 36
    assert 48 <= webhooks.backoff_seconds(2) <= 72
    assert 192 <= webhooks.backoff_seconds(4) <= 288
    assert webhooks.backoff_seconds(30) <= webhooks.MAX_BACKOFF_SECONDS * 1.2


def test_delivery_gives_up_after_max_attempts(settings, django_capture_on_commit_callbacks):
    settings.OMS_WEBHOOK_MAX_ATTEMPTS = 2
    with StubServer([500]) as stub:
        subscribe(stub.url)
        with django_capture_on_commit_callbacks(execute=True):
            webhooks.publish("order.created", {})
        WebhookDelivery.objects.update(next_attempt_at=timezone.now())
        dispatch_due_webhooks()
        delivery = WebhookDelivery.objects.get()
        assert delivery.status == "failed" and delivery.next_attempt_at is None
        dispatch_due_webhooks()
        assert len(stub.requests) == 2


def test_unreachable_endpoint_is_logged_as_an_error(django_capture_on_commit_callbacks):
    subscribe("http://127.0.0.1:9/nothing-listens-here")
    with django_capture_on_commit_callbacks(execute=True):
        webhooks.publish("order.created", {})
    attempt = WebhookDelivery.objects.get().attempts.get()
    assert attempt.status_code is None and "Error" in attempt.error


def test_redeliver_sends_again(settings, django_capture_on_commit_callbacks):
    settings.OMS_WEBHOOK_MAX_ATTEMPTS = 1
    with StubServer([500, 200]) as stub:
        subscribe(stub.url)
        with django_capture_on_commit_callbacks(execute=True):
            webhooks.publish("order.created", {})
        delivery = WebhookDelivery.objects.get()
        assert delivery.status == "failed"
        with django_capture_on_commit_callbacks(execute=True):
            webhooks.redeliver(delivery)
        delivery.refresh_from_db()
        assert delivery.status == "succeeded"
        assert len(stub.requests) == 2


def test_rolled_back_work_sends_nothing():
    subscribe("http://127.0.0.1:9/")
    with pytest.raises(RuntimeError), transaction.atomic():
        webhooks.publish("order.created", {})
        raise RuntimeError("the order failed")
    assert OutboxEvent.objects.count() == 0
    assert WebhookDelivery.objects.count() == 0


def test_only_subscribed_event_types_are_delivered():
    subscribe("http://127.0.0.1:9/", event_types=["order.cancelled"])
    webhooks.publish("order.created", {})
    assert WebhookDelivery.objects.count() == 0
    webhooks.publish("order.cancelled", {})
    assert WebhookDelivery.objects.count() == 1


def test_publish_writes_the_event_its_sequence_and_a_pending_delivery_per_subscriber(
    django_capture_on_commit_callbacks,
):
    # PostgreSQL writes all of it in one statement, SQLite step by step: the same rows.
    every = subscribe("http://127.0.0.1:9/a")
    only_cancelled = subscribe("http://127.0.0.1:9/b", event_types=["order.cancelled"])
    also_created = subscribe("http://127.0.0.1:9/c", event_types=["order.created"])
    with django_capture_on_commit_callbacks() as callbacks:
        first = webhooks.publish("order.created", {"number": "SO-7", "total": "1.50"})
    second = webhooks.publish("order.cancelled", {"number": "SO-7"})

    stored = OutboxEvent.objects.get(pk=first.pk)
    assert (stored.event_type, stored.subject, stored.sequence) == (
        "order.created",
        "order:SO-7",
        1,
    )
    assert stored.payload == first.payload == {"number": "SO-7", "total": "1.50"}
    assert stored.created_at == first.created_at
    assert (second.subject, second.sequence) == ("order:SO-7", 2)
    deliveries = WebhookDelivery.objects.filter(event=stored).order_by("subscription_id")
    assert [d.subscription_id for d in deliveries] == [every.pk, also_created.pk]
    for delivery in deliveries:
        assert delivery.status == WebhookDelivery.Status.PENDING
        assert delivery.attempt_count == 0 and delivery.last_status_code is None
        assert delivery.next_attempt_at is not None and delivery.created_at is not None
    assert len(callbacks) == 1  # the two deliveries are enqueued after commit
    assert WebhookDelivery.objects.filter(subscription=only_cancelled).count() == 1


def test_publish_many_writes_each_event_and_its_deliveries(django_capture_on_commit_callbacks):
    first = subscribe("http://127.0.0.1:9/a")
    second = subscribe("http://127.0.0.1:9/b", event_types=["order.created"])
    subscribe("http://127.0.0.1:9/c", event_types=["order.cancelled"])
    webhooks.publish("order.created", {"number": "SO-1"})  # SO-1's first event
    with django_capture_on_commit_callbacks() as callbacks:
        count = webhooks.publish_many(
            "order.created", [{"number": "SO-1"}, {"number": "SO-2", "lines": [1, 2]}]
        )

    assert count == 2
    events = OutboxEvent.objects.filter(event_type="order.created").order_by("pk")
    assert [(e.subject, e.sequence) for e in events] == [
        ("order:SO-1", 1),
        ("order:SO-1", 2),
        ("order:SO-2", 1),
    ]
    assert events[2].payload == {"number": "SO-2", "lines": [1, 2]}
    new = WebhookDelivery.objects.filter(event__in=events[1:])
    assert sorted((d.event_id, d.subscription_id) for d in new) == sorted(
        (e.pk, s.pk) for e in events[1:] for s in (first, second)
    )
    assert {(d.status, d.attempt_count) for d in new} == {(WebhookDelivery.Status.PENDING, 0)}
    assert len(callbacks) == 1


def test_order_changes_publish_events(api, channel, warehouse, sku):
    from ..factories import stock
    from ..helpers import order_payload

    stock(sku, warehouse, 5)
    number = api.post("/api/v1/orders/", order_payload(), format="json").json()["number"]
    api.post(f"/api/v1/orders/{number}/cancel/", {}, format="json")
    types = list(
        OutboxEvent.objects.filter(event_type__startswith="order.")
        .values_list("event_type", flat=True)
        .order_by("id")
    )
    # Placement announces the new order once, in its final state; later changes each.
    assert types == ["order.created", "order.status_changed", "order.cancelled"]
    created = OutboxEvent.objects.get(event_type="order.created")
    assert created.payload["status"] == "allocated"


def test_on_hand_changes_publish_stock_events(warehouse, sku, system_actor):
    from inventory import stock

    stock.receive(sku=sku, warehouse=warehouse, quantity=4, actor=system_actor)
    event = OutboxEvent.objects.get(event_type="stock.changed")
    assert event.payload == {
        "sku": "TSHIRT-BLK-M",
        "warehouse": "ber",
        "on_hand": 4,
        "allocated": 0,
        "safety_stock": 0,
        "sellable": 4,
        "reason": "receipt",
        "levels": [
            {"warehouse": "ber", "on_hand": 4, "allocated": 0, "safety_stock": 0, "sellable": 4}
        ],
    }


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/x",
        "http://localhost/x",
        "http://10.0.0.5/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/x",
        "ftp://example.com/x",
    ],
)
def test_internal_or_odd_urls_are_refused_in_production(settings, url):
    settings.OMS_WEBHOOK_ALLOW_PRIVATE = False
    assert webhooks.url_problem(url)


def test_public_url_is_accepted(settings):
    settings.OMS_WEBHOOK_ALLOW_PRIVATE = False
    assert webhooks.url_problem("https://hooks.example.com/oms") is None


def test_delivery_to_an_internal_address_is_refused_and_logged(
    settings, django_capture_on_commit_callbacks
):
    settings.OMS_WEBHOOK_ALLOW_PRIVATE = False
    with StubServer([200]) as stub:
        subscribe(stub.url)
        with django_capture_on_commit_callbacks(execute=True):
            webhooks.publish("order.created", {})
        assert stub.requests == []
    attempt = WebhookDelivery.objects.get().attempts.get()
    assert "refused" in attempt.error and "internal address" in attempt.error


@pytest.mark.parametrize("url", ["http://example.com:99999/x", "https://example.com:0/x"])
def test_a_port_that_cannot_exist_is_refused_even_on_private_networks(settings, url):
    settings.OMS_WEBHOOK_ALLOW_PRIVATE = True
    assert "port" in webhooks.url_problem(url)
    assert "port" in webhooks.url_problem(url, resolve=True)


def test_the_api_refuses_a_subscription_to_an_impossible_port(api):
    response = api.post(
        "/api/v1/webhooks/",
        {"name": "shop", "url": "https://hooks.example.com:99999/oms"},
        format="json",
    )
    assert response.status_code == 422, response.content
    assert "url" in response.json()["error"]["fields"]
    assert not WebhookSubscription.objects.exists()
    created = api.post(
        "/api/v1/webhooks/", {"name": "shop", "url": "https://hooks.example.com/oms"}, format="json"
    )
    changed = api.patch(
        f"/api/v1/webhooks/{created.json()['id']}/",
        {"url": "https://hooks.example.com:65536/oms"},
        format="json",
    )
    assert changed.status_code == 422 and "url" in changed.json()["error"]["fields"]
    assert WebhookSubscription.objects.get().url == "https://hooks.example.com/oms"


def test_a_stored_url_with_an_impossible_port_fails_its_delivery_cleanly(
    django_capture_on_commit_callbacks,
):
    """A row saved before the check existed: the attempt is logged as refused, the
    delivery task does not crash."""
    subscribe("http://hooks.example.com:99999/oms")
    with django_capture_on_commit_callbacks(execute=True):
        webhooks.publish("order.created", {})
    attempt = WebhookDelivery.objects.get().attempts.get()
    assert "refused" in attempt.error and "port" in attempt.error


def test_a_broker_that_is_down_leaves_the_deliveries_for_beat_without_retrying(
    monkeypatch, caplog, django_capture_on_commit_callbacks
):
    """Enqueueing runs in the committing thread (an API request's): one try, no publish
    retries to wait through; the stored deliveries go out with dispatch_due_webhooks."""
    from kombu.exceptions import OperationalError

    from oms_site import tasks

    calls = []

    def broker_down(args, **options):
        calls.append(options)
        raise OperationalError("connection refused")

    monkeypatch.setattr(tasks.deliver_webhooks, "apply_async", broker_down)
    subscribe("http://127.0.0.1:9/a")
    with django_capture_on_commit_callbacks(execute=True):
        webhooks.publish_batch([("order.created", {"number": f"SO-{n}"}) for n in (1, 2)])
    assert [options["retry"] for options in calls] == [False]
    assert "could not enqueue 2 webhook deliveries" in caplog.text
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"pending"}
    assert WebhookDelivery.objects.count() == 2
