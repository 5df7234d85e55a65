"""The stock CSV import at size (``import``): 20,000 rows through the import job's body
(``inventory.csv_io.apply_import``: check, then one bulk count under row locks), against
the row-by-row path it replaced (``inventory.stock.count`` per row, one stock.changed per
row), both with one webhook subscriber as in production.

Each run counts new figures (the on-hand values change every run), so every row writes.
The row-by-row baseline runs on a slice of the same SKUs (``--import-baseline-rows``) and
its rows/s is compared.
"""

import time

from django.db import transaction

from inventory import csv_io, stock
from inventory.models import StockLevel, Warehouse
from oms_site.actors import Actor
from oms_site.models import WebhookSubscription

from . import data
from .common import header, ratio

SKU_PREFIX = "BENCH-CSV"


def _content(skus, warehouse_code, seed) -> bytes:
    rows = ["sku,warehouse,on_hand,safety_stock"]
    rows += [
        f"{sku.code},{warehouse_code},{(i * 7 + seed) % 50 + 1},{seed % 3}"
        for i, sku in enumerate(skus)
    ]
    return ("\n".join(rows) + "\n").encode()


def _row_by_row(skus, warehouse, seed, actor) -> float:
    """What the import did before: a count and a safety-stock write per row."""
    started = time.perf_counter()
    with transaction.atomic():
        for i, sku in enumerate(skus):
            stock.set_safety_stock(sku=sku, warehouse=warehouse, safety_stock=seed % 3)
            stock.count(
                sku=sku,
                warehouse=warehouse,
                counted=(i * 7 + seed) % 50 + 1,
                actor=actor,
                note="CSV import (row by row)",
            )
    return time.perf_counter() - started


def run(*, rows=20_000, baseline_rows=2_000):
    header(f"Stock CSV import: {rows:,} rows (job body) vs row by row ({baseline_rows:,} rows)")
    data.ensure_places()
    skus = data.ensure_skus(SKU_PREFIX, rows)
    warehouse = Warehouse.objects.get(code="lds")
    owner = data.owner()
    actor = Actor.for_user(owner)
    subscription = WebhookSubscription.objects.create(
        name="bench-import", url="http://127.0.0.1:9/hook", secret="bench", event_types=[]
    )
    seed = int(time.time()) % 1000
    try:
        content = _content(skus, warehouse.code, seed)
        phases = {}

        def progress(phase, done, total):
            phases.setdefault(phase, time.perf_counter())

        started = time.perf_counter()
        result = csv_io.apply_import(content, kind="stock", user=owner, progress=progress)
        seconds = time.perf_counter() - started
        checked = phases.get("writing", started + seconds) - started
        print(
            f"  bulk import (job body)        {rows / seconds:10,.0f} rows/s   {seconds:6.1f} s "
            f"(check {checked:.1f} s, write {seconds - checked:.1f} s; applied {result.applied}, "
            f"created {result.created}, updated {result.updated}, errors {len(result.errors)})",
            flush=True,
        )
        baseline = _row_by_row(skus[:baseline_rows], warehouse, seed + 1, actor)
        print(
            f"  row by row (old path)         {baseline_rows / baseline:10,.0f} rows/s   "
            f"{baseline:6.1f} s for {baseline_rows:,} rows "
            f"(~{rows * baseline / baseline_rows:.0f} s for {rows:,})",
            flush=True,
        )
        print(
            f"  ratio bulk / row by row: {ratio(rows / seconds, baseline_rows / baseline)}   "
            f"target >= 2,000 rows/s (measured {rows / seconds:,.0f})"
        )
        levels = StockLevel.objects.filter(sku__code__startswith=SKU_PREFIX, warehouse=warehouse)
        print(f"  levels of the bench SKUs at {warehouse.code}: {levels.count():,}")
    finally:
        subscription.delete()
