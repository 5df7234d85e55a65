"""An order link keeps the marketplace's record as JSON text, not jsonb.

The record (about 2.5 kB an order) is only ever read back whole. As jsonb, PostgreSQL
parsed it on every import and rendered it on every read: most of what an order link
cost the database. The column's values carry over (PostgreSQL casts them to their text;
SQLite stored them as text already), and so does its lz4 compression (0003).
"""

from django.db import migrations

import oms_site.json_field


class Migration(migrations.Migration):
    dependencies = [
        ("marketplaces", "0004_page_records_as_json_text"),
    ]

    operations = [
        migrations.AlterField(
            model_name="marketplaceorder",
            name="payload",
            field=oms_site.json_field.JSONTextField(default=dict),
        ),
    ]
