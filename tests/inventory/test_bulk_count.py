"""Bulk cycle counts (``inventory.stock.count_many``) and CSV stock imports as jobs."""

import pytest
from django.db.models import F
from django.test import TestCase
from django.urls import reverse

from inventory import services, stock
from inventory.models import SKU, ImportJob, MovementReason, StockLevel, StockMovement
from oms_site.actors import Actor
from oms_site.models import OutboxEvent

from ..factories import ProductFactory, SKUFactory, WarehouseFactory
from ..factories import stock as put_stock
from .test_csv_io import apply, lines, upload, var_dir  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("count-test")


@pytest.fixture
def ham(db):
    return WarehouseFactory(code="ham", city="Hamburg")


def test_count_many_writes_the_ledger_and_one_event_per_sku(warehouse, ham):
    tee, mug = SKUFactory(code="TEE"), SKUFactory(code="MUG")
    put_stock(tee, warehouse, 10)
    OutboxEvent.objects.all().delete()
    outcome = stock.count_many(
        [
            stock.LevelCount(tee.pk, warehouse.pk, 7, key="a"),
            stock.LevelCount(tee.pk, ham.pk, 5, safety_stock=1, key="b"),
            stock.LevelCount(mug.pk, ham.pk, 0, key="c"),
            stock.LevelCount(mug.pk, warehouse.pk, 3, key="d"),
        ],
        actor=ACTOR,
        note="recount",
    )
    assert (outcome.created, outcome.updated, outcome.unchanged) == (["b", "c", "d"], ["a"], [])
    # "c" created an empty level: nothing counted, nothing in the ledger.
    assert sorted(
        StockMovement.objects.filter(reason=MovementReason.CYCLE_COUNT).values_list(
            "sku__code", "warehouse__code", "on_hand_change", "note"
        )
    ) == [("MUG", "ber", 3, "recount"), ("TEE", "ber", -3, "recount"), ("TEE", "ham", 5, "recount")]
    events = {
        e.payload["sku"]: e.payload for e in OutboxEvent.objects.filter(event_type="stock.changed")
    }
    assert set(events) == {"TEE", "MUG"}
    assert sorted(level["warehouse"] for level in events["TEE"]["levels"]) == ["ber", "ham"]
    ham_tee = next(level for level in events["TEE"]["levels"] if level["warehouse"] == "ham")
    assert ham_tee == {
        "warehouse": "ham",
        "on_hand": 5,
        "allocated": 0,
        "safety_stock": 1,
        "sellable": 4,
    }


def test_count_many_refuses_counts_below_the_allocated_units(warehouse):
    tee, mug = SKUFactory(code="TEE"), SKUFactory(code="MUG")
    put_stock(tee, warehouse, 10)
    put_stock(mug, warehouse, 10)
    services.reserve(items=[(tee, 4)], actor=ACTOR, minutes=60)
    counts = [
        stock.LevelCount(tee.pk, warehouse.pk, 3, key=2),
        stock.LevelCount(mug.pk, warehouse.pk, 6, key=3),
    ]
    before = list(StockLevel.objects.order_by("pk").values("on_hand", "allocated"))

    with pytest.raises(stock.CountsRefused) as refused:
        stock.count_many(counts, actor=ACTOR)
    assert [key for key, _ in refused.value.refused] == [2]
    assert list(StockLevel.objects.order_by("pk").values("on_hand", "allocated")) == before

    outcome = stock.count_many(counts, actor=ACTOR, skip_refused=True)
    assert outcome.updated == [3] and [key for key, _ in outcome.refused] == [2]
    assert StockLevel.objects.get(sku=mug).on_hand == 6
    assert StockLevel.objects.get(sku=tee).on_hand == 10


def test_a_large_stock_import_runs_as_a_job_and_reports_progress(client_for, warehouse, var_dir):  # noqa: F811
    product = ProductFactory()
    SKU.objects.bulk_create(
        [SKU(product=product, code=f"BULK-{i:05d}", name="x", price=1) for i in range(3000)]
    )
    content = lines("sku,warehouse,on_hand", *[f"BULK-{i:05d},ber,{i % 7}" for i in range(3000)])
    client = client_for("manager")
    preview = upload(client, content)
    assert preview.context["counts"]["create"] == 3000

    page = apply(client, preview)
    job = ImportJob.objects.get()
    assert (job.status, job.rows_total, job.rows_done, job.percent) == ("done", 3000, 3000, 100)
    assert page.context["result"].applied and page.context["result"].created == 3000
    assert StockLevel.objects.count() == 3000
    # A ledger row for every level that got units, one event for every SKU that changed.
    with_units = sum(1 for i in range(3000) if i % 7)
    assert StockMovement.objects.count() == with_units
    assert OutboxEvent.objects.filter(event_type="stock.changed").count() == with_units


def test_the_job_page_follows_a_queued_import(client_for, sku, warehouse, users):
    client = client_for("owner")
    preview = upload(client, lines("sku,warehouse,on_hand", f"{sku.code},ber,3"))
    token = preview.context["apply_form"].initial["token"]
    response = client.post(reverse("inventory:import_apply"), {"token": token, "mode": "all"})
    # Not committed yet in this test, so no worker has it: the page shows it waiting.
    job = ImportJob.objects.get()
    assert response["Location"] == reverse("inventory:import_job", args=[job.pk])
    page = client.get(response["Location"])
    html = page.content.decode()
    assert "Waiting for a worker" in html and 'http-equiv="refresh"' in html
    # Only the person who started it sees it.
    assert client_for("manager").get(response["Location"]).status_code == 404

    from inventory import import_jobs

    with TestCase.captureOnCommitCallbacks(execute=True):
        import_jobs.run_import(job.pk)
    import_jobs.run_import(job.pk)  # a second delivery of the task changes nothing
    page = client.get(response["Location"])
    assert page.context["result"].applied
    assert 'http-equiv="refresh"' not in page.content.decode()
    assert StockMovement.objects.filter(reason=MovementReason.CYCLE_COUNT).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_bulk_counts_and_placements_on_the_same_skus_neither_deadlock_nor_oversell():
    import threading

    from django.db import connections

    from orders import services as order_services
    from orders.audit import audit_stock

    from ..factories import ChannelFactory
    from ..helpers import order_payload

    channel = ChannelFactory()
    berlin = WarehouseFactory(code="ber")
    skus = [SKUFactory(code=f"RACE-{i:02d}") for i in range(30)]
    for sku in skus:
        put_stock(sku, berlin, 5)
    errors = []

    def count_all(seed):
        try:
            for round_ in range(3):
                counts = [
                    stock.LevelCount(sku.pk, berlin.pk, 5 + (seed + round_ + i) % 4)
                    for i, sku in enumerate(reversed(skus))
                ]
                stock.count_many(counts, actor=ACTOR, skip_refused=True)
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    def place(seed):
        try:
            for i in range(6):
                picked = [skus[(seed * 7 + i * 3 + j) % 30].code for j in range(3)]
                body = order_payload(lines=[(code, 1) for code in picked])
                order_services.place_order(
                    channel=channel,
                    lines=body["lines"],
                    shipping_address=body["shipping_address"],
                    actor=ACTOR,
                )
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=count_all, args=(s,)) for s in range(2)]
    threads += [threading.Thread(target=place, args=(s,)) for s in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert audit_stock() == []
    assert not StockLevel.objects.filter(allocated__gt=F("on_hand")).exists()
