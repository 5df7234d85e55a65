"""The marketplace's records are compressed with lz4 where PostgreSQL has it.

A stored page is a hundred orders of JSON (about 250 kB) and each order link keeps its
record (about 2.5 kB): both are over PostgreSQL's TOAST threshold, so every write
compresses them. pglz, the default, took about 3 ms per page here; lz4 does it in about
half a millisecond, and its output was smaller. Reads are as fast. Other databases, and a
PostgreSQL built without lz4, keep their default.
"""

from django.db import migrations

COLUMNS = [
    ("marketplaces_syncpage", "records"),
    ("marketplaces_marketplaceorder", "payload"),
    ("marketplaces_syncfailure", "payload"),
]


def _has_lz4(cursor) -> bool:
    cursor.execute(
        "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
    )
    row = cursor.fetchone()
    return bool(row and row[0])


def _set(method_when_lz4):
    def apply(apps, schema_editor):
        connection = schema_editor.connection
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            if not _has_lz4(cursor):
                return
            for table, column in COLUMNS:
                cursor.execute(
                    f'ALTER TABLE "{table}" ALTER COLUMN "{column}" '
                    f"SET COMPRESSION {method_when_lz4}"
                )

    return apply


class Migration(migrations.Migration):
    dependencies = [
        ("marketplaces", "0002_link_lookup_by_external_id"),
    ]

    operations = [
        migrations.RunPython(_set("lz4"), _set("pglz")),
    ]
