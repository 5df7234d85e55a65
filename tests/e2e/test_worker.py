"""A real Celery worker on the configured broker (filesystem under var/ by default,
Redis or RabbitMQ in CI) picks up work enqueued after commit."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from oms_site import webhooks
from oms_site.celery_app import app
from oms_site.models import WebhookDelivery, WebhookSubscription

from ..stub_http import StubServer

ROOT = Path(__file__).resolve().parents[2]

# Real workers share one broker: under pytest-xdist these tests run on one test
# process, one after another, so no worker takes another test's task.
pytestmark = pytest.mark.xdist_group("real_celery_worker")


def _database_url():
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture
def worker():
    env = os.environ | {
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_FILESYSTEM_DIR": str(settings.CELERY_FILESYSTEM_DIR),
        # The stub receiver listens on 127.0.0.1, refused by default in production.
        "OMS_WEBHOOK_ALLOW_PRIVATE": "true",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "oms_site",
            "worker",
            "--pool",
            "solo",
            "--queues",
            "default,webhooks",
            "--loglevel",
            "WARNING",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.mark.django_db(transaction=True)
def test_worker_delivers_a_webhook_enqueued_after_commit(worker):
    app.conf.task_always_eager = False
    with StubServer([200]) as stub:
        WebhookSubscription.objects.create(name="shop", url=stub.url, secret="k")
        from django.db import transaction

        with transaction.atomic():
            webhooks.publish("order.created", {"number": "SO-1"})
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            delivery = WebhookDelivery.objects.get()
            if delivery.status == WebhookDelivery.Status.SUCCEEDED:
                break
            assert worker.poll() is None, worker.stdout.read().decode()
            time.sleep(0.3)
        assert delivery.status == WebhookDelivery.Status.SUCCEEDED, delivery.status
        assert len(stub.requests) == 1


def test_beat_schedule_names_registered_tasks():
    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks, entry["task"]
