"""Outgoing webhooks through a transactional outbox.

``publish()`` writes the event and one delivery per matching subscription in the caller's
transaction, and enqueues the deliveries only after commit: nothing is sent for work that
rolled back, and nothing is lost if the broker is down (beat re-dispatches due rows).
Each request is signed: ``X-OMS-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
"<t>.<body>">`` with the subscription's secret.
"""

import hashlib
import hmac
import ipaddress
import json
import logging
import random
import secrets
import socket
import time
from collections import Counter
from datetime import timedelta
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import connection, transaction
from django.utils import timezone

from .bulk_rows import default_values, insert_rows, new_ids_of, unnest_arrays
from .errors import ValidationFailed
from .models import (
    OutboxEvent,
    OutboxSequence,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from .process_cache import ProcessCache

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-OMS-Signature"
EVENT_TYPES = [
    "order.created",
    "order.status_changed",
    "order.routed",
    "order.cancelled",
    "order.edited",
    "stock.changed",
    "stock.at_risk",
    "payment.created",
    "payment.authorized",
    "payment.captured",
    "payment.voided",
    "payment.failed",
    "refund.created",
    "refund.succeeded",
    "refund.failed",
    "invoice.issued",
]


def register_event_types(*event_types: str) -> None:
    """Apps above the base layer add their event types (fulfillment: ``shipment.*``)
    from their AppConfig.ready(), so the base layer never imports them."""
    for event_type in event_types:
        if event_type not in EVENT_TYPES:
            EVENT_TYPES.append(event_type)


BASE_BACKOFF_SECONDS = 30
# How long a worker owns an attempt before beat may send the delivery again. Well above
# the connect + read timeouts, so a slow receiver is not sent the same attempt twice.
CLAIM_SECONDS = 600
MAX_BACKOFF_SECONDS = 6 * 3600
# Deliveries per task message when a bulk change publishes many events at once.
BATCH_SIZE = 100


def _is_internal(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return not ip.is_global or ip.is_multicast


def url_problem(url: str, *, resolve: bool = False) -> str | None:
    """Why the server must not POST to ``url``, or None.

    Webhooks must not become a way to make the OMS call into its own network (cloud
    metadata, admin ports): loopback, private, link-local and reserved addresses are
    refused unless ``OMS_WEBHOOK_ALLOW_PRIVATE`` is on. Forms check the URL as typed;
    delivery also checks every address the host name resolves to.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Use an http or https URL with a host name."
    try:
        port = parts.port  # Django's URLValidator lets any five digits through
    except ValueError:
        port = 0
    if port == 0:
        return "The port must be a number from 1 to 65535."
    if settings.OMS_WEBHOOK_ALLOW_PRIVATE:
        return None
    host = parts.hostname
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return f"{host} is an internal host."
    try:
        if _is_internal(host):
            return f"{host} is an internal address."
    except ValueError:
        pass  # a name, not an address
    if resolve:
        try:
            infos = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
        except OSError as exc:
            return f"{host} does not resolve ({exc})."
        for info in infos:
            if _is_internal(info[4][0]):
                return f"{host} resolves to the internal address {info[4][0]}."
    return None


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(secret: str, header: str, body: bytes, tolerance_seconds: int = 300) -> bool:
    """What a receiver does: recompute and compare in constant time, refuse stale stamps."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance_seconds:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), header)


# Every change publishes; the subscriptions are read from a per-process copy.
_active_subscriptions = ProcessCache(
    "oms_site.webhook_subscriptions",
    lambda: tuple(WebhookSubscription.objects.filter(active=True).order_by("pk")),
    models=[WebhookSubscription],
)


def subject_of(event_type: str, payload: dict) -> str:
    """What an event is about, for its per-subject sequence: ``order:<number>`` for order
    events and for events about an order's money or returns (their payload names the
    ``order``), ``stock:<sku>@<warehouse>`` for stock events, else the event type."""
    if event_type.startswith("order.") and payload.get("number"):
        return f"order:{payload['number']}"
    if isinstance(payload.get("order"), str) and payload["order"]:
        return f"order:{payload['order']}"
    if event_type.startswith("stock.") and payload.get("sku"):
        levels = payload.get("levels") or []
        warehouse = payload.get("warehouse") or (levels[0]["warehouse"] if len(levels) == 1 else "")
        # A bulk count's one event for a SKU in several warehouses is about the SKU.
        return f"stock:{payload['sku']}@{warehouse}" if warehouse else f"stock:{payload['sku']}"
    return event_type


def next_sequence(subject: str) -> int:
    """The subject's next sequence number, counted in the caller's transaction.

    One upsert: the row stays locked until commit, so two transactions publishing about
    the same subject get consecutive numbers in commit order (order and stock events are
    written under their order's or stock level's row lock anyway, so nobody waits more).
    """
    table = connection.ops.quote_name(OutboxSequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (subject, last_value) VALUES (%s, 1) "
            f"ON CONFLICT (subject) DO UPDATE SET last_value = {table}.last_value + 1 "
            "RETURNING last_value",
            [subject[:200]],
        )
        return cursor.fetchone()[0]


def next_sequences(subjects) -> list[int]:
    """``next_sequence`` for each of ``subjects`` (a subject may come more than once: its
    numbers then follow the list's order): one upsert per 1,000 subjects, rows taken in
    sorted order (so two bulk publishers never wait on each other in a cycle)."""
    counts = Counter(subjects)
    unique = sorted(counts)
    table = connection.ops.quote_name(OutboxSequence._meta.db_table)
    last = {}
    sequence_fields = [OutboxSequence._meta.get_field(n) for n in ("subject", "last_value")]
    upsert = (
        f" ON CONFLICT (subject) DO UPDATE SET last_value = {table}.last_value"
        " + EXCLUDED.last_value RETURNING subject, last_value"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(unique), 1000):
            chunk = unique[start : start + 1000]
            if connection.vendor == "postgresql":
                cursor.execute(  # two arrays: one statement text for any number of subjects
                    f"INSERT INTO {table} (subject, last_value) SELECT * FROM "
                    + unnest_arrays(connection, sequence_fields)
                    + upsert,
                    [chunk, [counts[subject] for subject in chunk]],
                )
            else:
                cursor.execute(
                    f"INSERT INTO {table} (subject, last_value) VALUES "
                    + ", ".join(["(%s, %s)"] * len(chunk))
                    + upsert,
                    [value for subject in chunk for value in (subject, counts[subject])],
                )
            last.update(dict(cursor.fetchall()))
    # Each subject's numbers end at its new last value, handed out in the list's order.
    next_of = {subject: last[subject] - counts[subject] + 1 for subject in unique}
    numbers = []
    for subject in subjects:
        numbers.append(next_of[subject])
        next_of[subject] += 1
    return numbers


def event_body(event: OutboxEvent) -> dict:
    """What a receiver gets: the event's id (stable across redeliveries: de-duplicate on
    it), type, time, subject and per-subject sequence, and the data."""
    return {
        "id": event.pk,
        "type": event.event_type,
        "created_at": event.created_at.isoformat(),
        "subject": event.subject,
        "sequence": event.sequence,
        "data": event.payload,
    }


def publish(event_type: str, payload: dict, *, subject: str | None = None) -> OutboxEvent:
    """Record an event in the current transaction; deliveries go out after commit."""
    subject = (subject or subject_of(event_type, payload))[:200]
    subscription_ids = [sub.pk for sub in _active_subscriptions.get() if sub.wants(event_type)]
    if connection.vendor == "postgresql":
        event, delivery_ids = _publish_in_one_statement(
            event_type, payload, subject, subscription_ids
        )
    else:
        event, delivery_ids = _publish_step_by_step(event_type, payload, subject, subscription_ids)
    if delivery_ids:
        transaction.on_commit(lambda: _enqueue(delivery_ids))
    return event


def _publish_step_by_step(event_type, payload, subject, subscription_ids):
    event = OutboxEvent.objects.create(
        event_type=event_type,
        payload=payload,
        subject=subject,
        sequence=next_sequence(subject),
    )
    now = timezone.now()
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(subscription_id=pk, event=event, next_attempt_at=now)
            for pk in subscription_ids
        ]
    )
    return event, [d.pk for d in deliveries]


# Every order placement publishes: the sequence upsert, the event and its deliveries go
# to PostgreSQL as one statement (one round trip instead of three; see next_sequence for
# why the upsert keeps sequences in commit order).
_PUBLISH_SQL = """
WITH seq AS (
    INSERT INTO {sequences} (subject, last_value) VALUES (%(subject)s, 1)
    ON CONFLICT (subject) DO UPDATE SET last_value = {sequences}.last_value + 1
    RETURNING last_value
), event AS (
    INSERT INTO {events} (event_type, payload, subject, sequence, created_at)
    SELECT %(event_type)s, %(payload)s, %(subject)s, seq.last_value, %(now)s FROM seq
    RETURNING id, sequence
), deliveries AS (
    INSERT INTO {deliveries} (subscription_id, event_id, next_attempt_at, {default_columns})
    SELECT sub.id, event.id, %(now)s, {default_values}
    FROM event CROSS JOIN unnest(%(subscriptions)s::bigint[]) AS sub(id)
    RETURNING id
)
SELECT event.id, event.sequence, ARRAY(SELECT id FROM deliveries ORDER BY id) FROM event
"""


def _publish_in_one_statement(event_type, payload, subject, subscription_ids):
    now = timezone.now()
    # The deliveries' other columns take their model defaults (status pending, no attempt).
    fields = {field.attname: field for field in WebhookDelivery._meta.concrete_fields}
    defaults = {
        fields[name].column: fields[name].get_db_prep_save(value, connection)
        for name, value in default_values(
            WebhookDelivery, {"subscription_id", "event_id", "next_attempt_at"}
        ).items()
    }
    quote = connection.ops.quote_name
    sql = _PUBLISH_SQL.format(
        sequences=quote(OutboxSequence._meta.db_table),
        events=quote(OutboxEvent._meta.db_table),
        deliveries=quote(WebhookDelivery._meta.db_table),
        default_columns=", ".join(quote(column) for column in defaults),
        default_values=", ".join(f"%(d_{column})s" for column in defaults),
    )
    params = {
        "subject": subject,
        "event_type": event_type,
        "payload": OutboxEvent._meta.get_field("payload").get_db_prep_save(payload, connection),
        "now": now,
        "subscriptions": subscription_ids,
    } | {f"d_{column}": value for column, value in defaults.items()}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        event_id, sequence, delivery_ids = cursor.fetchone()
    event = OutboxEvent(
        id=event_id,
        event_type=event_type,
        payload=payload,
        subject=subject,
        sequence=sequence,
        created_at=now,
    )
    event._state.adding = False
    return event, list(delivery_ids)


def publish_many(event_type: str, payloads: list[dict]) -> int:
    """``publish`` for many events of one type: one write of events, one of deliveries."""
    return publish_batch([(event_type, payload) for payload in payloads])


def publish_batch(events: list[tuple[str, dict]]) -> int:
    """``publish`` for many events, (type, payload) each, in this order: the sequence
    numbers of each subject in one upsert, then one write of events and one of
    deliveries."""
    if not events:
        return 0
    subjects = [subject_of(event_type, payload)[:200] for event_type, payload in events]
    sequences = next_sequences(subjects)
    subscriptions = list(_active_subscriptions.get())
    wanted = [[sub for sub in subscriptions if sub.wants(event_type)] for event_type, _ in events]
    # The events' and the deliveries' ids in one statement, then each table written at
    # once (COPY past a few rows: a marketplace page or a bulk job publishes hundreds).
    event_ids, delivery_ids = new_ids_of(
        (OutboxEvent, len(events)), (WebhookDelivery, sum(len(subs) for subs in wanted))
    )
    insert_rows(
        OutboxEvent,
        [
            {
                "event_type": event_type,
                "payload": payload,
                "subject": subject,
                "sequence": sequence,
            }
            for (event_type, payload), subject, sequence in zip(
                events, subjects, sequences, strict=True
            )
        ],
        given_ids=event_ids,
    )
    if delivery_ids:
        now = timezone.now()
        insert_rows(
            WebhookDelivery,
            [
                {"subscription_id": sub.pk, "event_id": event_id, "next_attempt_at": now}
                for event_id, subs in zip(event_ids, wanted, strict=True)
                for sub in subs
            ],
            given_ids=delivery_ids,
        )
        transaction.on_commit(lambda: _enqueue_batches(delivery_ids))
    return len(event_ids)


def _send(task, argument) -> None:
    """Enqueue ``task(argument)`` after a commit, in the thread that committed (an API
    request's). Without Celery's publish retries: with the broker down they would hold
    the request for seconds, and the deliveries are stored anyway (beat's
    ``dispatch_due_webhooks`` sends them within 30 s). The arguments' text for the
    task's logs is made by ``repr``, not Celery's slower ``saferepr``; together about 1 %
    of an API order's CPU."""
    task.apply_async((argument,), retry=False, argsrepr=repr((argument,))[:1024])


def _enqueue_batches(delivery_ids, size=BATCH_SIZE):
    from .tasks import deliver_webhooks

    for start in range(0, len(delivery_ids), size):
        batch = delivery_ids[start : start + size]
        try:
            _send(deliver_webhooks, batch)
        except Exception:  # broker down: beat's dispatch_due_webhooks picks them up later
            logger.exception("could not enqueue %s webhook deliveries", len(batch))


def _enqueue(delivery_ids):
    from .tasks import deliver_webhook

    for delivery_id in delivery_ids:
        try:
            _send(deliver_webhook, delivery_id)
        except Exception:  # broker down: beat's dispatch_due_webhooks picks it up later
            logger.exception("could not enqueue webhook delivery %s", delivery_id)


def backoff_seconds(attempt_count: int) -> int:
    """Exponential backoff with jitter: 30 s, 60 s, 120 s, ... capped at 6 hours."""
    base = min(BASE_BACKOFF_SECONDS * 2 ** max(attempt_count - 1, 0), MAX_BACKOFF_SECONDS)
    return int(base * random.uniform(0.8, 1.2))


def attempt_delivery(delivery_id: int) -> tuple[WebhookDelivery | None, bool]:
    """Make one attempt if the delivery is due; returns (delivery, whether it was sent).

    Safe to call twice: a delivery that has succeeded, failed for good or is not yet due
    is left alone, and the row lock keeps two workers from sending the same attempt."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("subscription", "event")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status in (
            WebhookDelivery.Status.SUCCEEDED,
            WebhookDelivery.Status.FAILED,
        ):
            return delivery, False
        if delivery.next_attempt_at and delivery.next_attempt_at > timezone.now():
            return delivery, False
        # Claim the attempt: push next_attempt_at out so beat does not pick it up meanwhile.
        delivery.next_attempt_at = timezone.now() + timedelta(seconds=CLAIM_SECONDS)
        delivery.save(update_fields=["next_attempt_at", "updated_at"])

    subscription, event = delivery.subscription, delivery.event
    body = json.dumps(
        event_body(event),
        separators=(",", ":"),
        sort_keys=True,
    ).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "OMS-Webhooks/1",
        "X-OMS-Event": event.event_type,
        "X-OMS-Delivery": str(delivery.pk),
        "X-OMS-Event-Id": str(event.pk),
        SIGNATURE_HEADER: sign(subscription.secret, timestamp, body),
    }
    started = time.monotonic()
    status_code, error, excerpt = None, "", ""
    problem = url_problem(subscription.url, resolve=True)
    try:
        if problem:
            raise requests.RequestException(f"refused: {problem}")
        response = requests.post(
            subscription.url,
            data=body,
            headers=headers,
            timeout=settings.OMS_WEBHOOK_TIMEOUT_SECONDS,
            allow_redirects=False,
        )
        status_code, excerpt = response.status_code, response.text[:500]
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    duration_ms = int((time.monotonic() - started) * 1000)

    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        WebhookAttempt.objects.create(
            delivery=delivery,
            status_code=status_code,
            error=error,
            response_excerpt=excerpt,
            duration_ms=duration_ms,
        )
        delivery.attempt_count += 1
        delivery.last_status_code = status_code
        if status_code is not None and 200 <= status_code < 300:
            delivery.status = WebhookDelivery.Status.SUCCEEDED
            delivery.next_attempt_at = None
        elif delivery.attempt_count >= settings.OMS_WEBHOOK_MAX_ATTEMPTS:
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.next_attempt_at = None
        else:
            delivery.status = WebhookDelivery.Status.RETRYING
            delivery.next_attempt_at = timezone.now() + timedelta(
                seconds=backoff_seconds(delivery.attempt_count)
            )
        delivery.save()
    return delivery, True


def redeliver(delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again now, whatever its state (from the dashboard)."""
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        delivery.status = WebhookDelivery.Status.PENDING
        delivery.next_attempt_at = timezone.now()
        if delivery.attempt_count >= settings.OMS_WEBHOOK_MAX_ATTEMPTS:
            delivery.attempt_count = 0
        delivery.save()
        delivery_id = delivery.pk
        transaction.on_commit(lambda: _enqueue([delivery_id]))
    return delivery


def due_delivery_ids(limit: int = 500) -> list[int]:
    return list(
        WebhookDelivery.objects.filter(
            status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING],
            next_attempt_at__lte=timezone.now(),
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


# --- Subscriptions (the API and the settings page) -----------------------------------------


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def check_subscription(*, url: str, event_types: list[str]) -> None:
    errors = {}
    try:
        URLValidator(schemes=["http", "https"])(url)
    except DjangoValidationError as invalid:
        errors["url"] = list(invalid.messages)
    else:
        problem = url_problem(url)
        if problem:
            errors["url"] = [problem]
    unknown = sorted(set(event_types) - set(EVENT_TYPES))
    if unknown:
        errors["event_types"] = [f"Unknown event types: {', '.join(unknown)}."]
    if errors:
        raise ValidationFailed("The subscription can't be saved.", fields=errors)


@transaction.atomic
def create_subscription(
    *, name: str, url: str, event_types: list[str], active: bool = True
) -> WebhookSubscription:
    """A new subscription with a fresh secret (shown to its creator once)."""
    check_subscription(url=url, event_types=event_types)
    return WebhookSubscription.objects.create(
        name=name, url=url, event_types=sorted(set(event_types)), active=active, secret=new_secret()
    )


@transaction.atomic
def update_subscription(subscription: WebhookSubscription, **changes) -> WebhookSubscription:
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    for key, value in changes.items():
        setattr(subscription, key, sorted(set(value)) if key == "event_types" else value)
    check_subscription(url=subscription.url, event_types=subscription.event_types)
    subscription.save()
    return subscription


@transaction.atomic
def rotate_secret(subscription: WebhookSubscription) -> WebhookSubscription:
    """A new secret at once: deliveries from now on are signed with it."""
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    subscription.secret = new_secret()
    subscription.save(update_fields=["secret"])
    return subscription


@transaction.atomic
def delete_subscription(subscription: WebhookSubscription) -> None:
    """Stops deliveries; the subscription's delivery log goes with it."""
    WebhookSubscription.objects.filter(pk=subscription.pk).delete()
