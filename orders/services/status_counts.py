"""Exact order counts per status without counting the orders table.

Database triggers on ``orders_order`` (migration ``0002_status_counters``) append a +1/-1
``OrderStatusDelta`` row whenever an order is inserted, changes status or is deleted, in
that order's own transaction — services, bulk loaders and raw SQL alike. A count is the
status's ``OrderStatusCount`` row plus its unfolded deltas, read in one statement (one
snapshot), so it is exact at every moment.

Appending never waits on another transaction (no shared counter row is updated), so the
counters add no contention to placement. ``compact()`` folds the deltas into the count
rows (Celery beat runs it every few seconds; a read folds them itself when too many have
piled up), which keeps the read a sum over a few thousand rows at 1M or 10M orders alike.
``rebuild()`` recounts from the orders table (for a database whose triggers were off).
"""

from django.db import connection, connections, transaction
from django.db.models import Count

from ..models import Order, OrderStatus, OrderStatusCount, OrderStatusDelta

# A read that finds more unfolded deltas than this folds them first (beat normally does).
COMPACT_WHEN_PENDING = 20_000

_READ = """
SELECT status, SUM(n), SUM(pending) FROM (
    SELECT status, count AS n, 0 AS pending FROM orders_orderstatuscount
    UNION ALL
    SELECT status, delta AS n, 1 AS pending FROM orders_orderstatusdelta
) AS parts
GROUP BY status
"""

# Delete the deltas this statement sees and add them to the count rows, in one statement:
# deltas committed meanwhile are not seen, so they stay for the next run (never lost, never
# added twice).
_COMPACT_POSTGRES = """
WITH folded AS (
    DELETE FROM orders_orderstatusdelta RETURNING status, delta
), sums AS (
    SELECT status, SUM(delta) AS n, COUNT(*) AS rows FROM folded GROUP BY status
), applied AS (
    INSERT INTO orders_orderstatuscount (status, count)
    SELECT status, n FROM sums
    ON CONFLICT (status) DO UPDATE SET count = orders_orderstatuscount.count + EXCLUDED.count
)
SELECT COALESCE(SUM(rows), 0) FROM sums
"""


def _read() -> tuple[dict[str, int], int]:
    with connection.cursor() as cursor:
        cursor.execute(_READ)
        rows = cursor.fetchall()
    counts = {status: int(n) for status, n, _ in rows}
    pending = sum(int(p) for _, _, p in rows)
    return counts, pending


def current() -> dict[str, int]:
    """Orders per status, every status listed (zeros too): exact, without a table count."""
    counts, pending = _read()
    if pending > COMPACT_WHEN_PENDING:
        compact()
        counts, _ = _read()
    result = dict.fromkeys(OrderStatus.values, 0)
    result.update({status: n for status, n in counts.items() if n})
    return result


def compact() -> int:
    """Fold the delta rows into the count rows. Returns how many deltas were folded.

    Safe to run at any time and concurrently with itself and with order writes.
    """
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_COMPACT_POSTGRES)
            return int(cursor.fetchone()[0])
    # SQLite: the transaction holds the database's only write lock, so nothing can
    # append between the read and the delete.
    with transaction.atomic():
        deltas = list(OrderStatusDelta.objects.values_list("pk", "status", "delta"))
        if not deltas:
            return 0
        sums: dict[str, int] = {}
        for _, status, delta in deltas:
            sums[status] = sums.get(status, 0) + delta
        OrderStatusDelta.objects.filter(pk__lte=max(pk for pk, _, _ in deltas)).delete()
        existing = {row.status: row for row in OrderStatusCount.objects.filter(status__in=sums)}
        for status, n in sums.items():
            row = existing.get(status) or OrderStatusCount(status=status, count=0)
            row.count += n
            row.save()
        return len(deltas)


# After a burst (a backfill or an import of a million orders) the folded delta table keeps
# its emptied pages, and PostgreSQL's vacuum may skip cleaning its index when few dead
# rows are left, which leaves the pages in place: every count would then read hundreds of
# megabytes of empty pages (70 ms at 10M orders). Past this size the table is vacuumed with
# its index cleaned, which gives the pages back.
SHRINK_ABOVE_BYTES = 8 * 1024 * 1024


def shrink_if_bloated() -> bool:
    """Vacuum the delta table when it has grown past ``SHRINK_ABOVE_BYTES`` (PostgreSQL,
    outside a transaction: beat runs it after each fold). Returns whether it vacuumed."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return False
    table = OrderStatusDelta._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_relation_size(%s)", [table])
        if cursor.fetchone()[0] <= SHRINK_ABOVE_BYTES:
            return False
        cursor.execute(f"VACUUM (INDEX_CLEANUP ON) {connection.ops.quote_name(table)}")
    return True


def rebuild(*, using="default") -> dict[str, int]:
    """Count the orders table again and start the counters from that.

    Writers of orders wait while it runs (the table is locked in SHARE mode on
    PostgreSQL), so no change can slip between the count and the reset.
    """
    with transaction.atomic(using=using):
        if connections[using].vendor == "postgresql":
            with connections[using].cursor() as cursor:
                cursor.execute("LOCK TABLE orders_order IN SHARE MODE")
        OrderStatusDelta.objects.using(using).all().delete()
        OrderStatusCount.objects.using(using).all().delete()
        counted = dict(
            Order.objects.using(using).order_by().values_list("status").annotate(n=Count("pk"))
        )
        OrderStatusCount.objects.using(using).bulk_create(
            [OrderStatusCount(status=status, count=n) for status, n in counted.items()]
        )
    return counted


def table_counts() -> dict[str, int]:
    """The real COUNT per status (a full scan: for checks and tests, not for pages)."""
    result = dict.fromkeys(OrderStatus.values, 0)
    result.update(dict(Order.objects.order_by().values_list("status").annotate(n=Count("pk"))))
    return result
