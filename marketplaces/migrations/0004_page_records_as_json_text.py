"""A stored page keeps its records as JSON text, not jsonb.

The page is only ever read back whole. As jsonb, its hundred orders (about 250 kB) cost
PostgreSQL a parse on the way in and a rendering on the way out, on every page of every
sync. Pages not imported yet are carried over; imported ones were emptied anyway.
"""

import json

from django.db import migrations, models


def copy_pending_pages(apps, schema_editor):
    SyncPage = apps.get_model("marketplaces", "SyncPage")
    for page in SyncPage.objects.filter(done=False).only("pk", "records"):
        page.records_json = json.dumps(page.records)
        page.save(update_fields=["records_json"])


def copy_back(apps, schema_editor):
    SyncPage = apps.get_model("marketplaces", "SyncPage")
    for page in SyncPage.objects.filter(done=False).only("pk", "records_json"):
        page.records = json.loads(page.records_json)
        page.save(update_fields=["records"])


def compress_with_lz4(apps, schema_editor):
    # As 0003 does for the other record columns.
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
            "WHERE name = 'default_toast_compression'"
        )
        row = cursor.fetchone()
        if row and row[0]:
            cursor.execute(
                'ALTER TABLE "marketplaces_syncpage" ALTER COLUMN "records_json" '
                "SET COMPRESSION lz4"
            )


class Migration(migrations.Migration):
    dependencies = [
        ("marketplaces", "0003_records_compressed_with_lz4"),
    ]

    operations = [
        migrations.AddField(
            model_name="syncpage",
            name="records_json",
            field=models.TextField(
                default="[]", help_text="The page's records (a JSON array); emptied once imported."
            ),
        ),
        migrations.RunPython(compress_with_lz4, migrations.RunPython.noop),
        migrations.RunPython(copy_pending_pages, copy_back),
        migrations.RemoveField(
            model_name="syncpage",
            name="records",
        ),
    ]
