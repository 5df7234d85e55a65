"""Indexes only PostgreSQL has: JSON containment on tags (GIN) and the shipping address's
postal code and name (expression indexes), for the dashboard's filters and search at
millions of orders. SQLite (the embedded default, small shops) does without them."""

from django.db import migrations

INDEXES = [
    (
        "order_tags_gin",
        "CREATE INDEX IF NOT EXISTS order_tags_gin ON orders_order USING gin (tags jsonb_path_ops)",
    ),
    (
        "order_ship_postal_code",
        "CREATE INDEX IF NOT EXISTS order_ship_postal_code "
        "ON orders_order ((shipping_address -> 'postal_code'))",
    ),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for _name, sql in INDEXES:
        schema_editor.execute(sql)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _sql in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("orders", "0005_dashboard_customers_sales_views_bulk_jobs")]

    operations = [migrations.RunPython(create, drop)]
