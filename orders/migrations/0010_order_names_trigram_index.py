"""A trigram index over the names and street an order ships to (PostgreSQL's pg_trgm), so
that the search box finds a name that is no customer's in milliseconds at millions of
orders instead of reading the whole table. Built CONCURRENTLY: a shop with many orders
keeps taking them while it builds. SQLite (the embedded default, small shops) scans."""

from django.db import migrations

# The same text as ``orders.selectors.OrderNamesText``; the planner uses the index only
# for that exact expression.
NAMES_TEXT = (
    "UPPER(customer_name || ' ' || COALESCE(shipping_address ->> 'name', '') || ' ' || "
    "COALESCE(shipping_address ->> 'line1', ''))"
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS order_names_trgm ON orders_order "
        f"USING gin (({NAMES_TEXT}) gin_trgm_ops)"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS order_names_trgm")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY can't run in a transaction

    dependencies = [("orders", "0009_order_editing")]

    operations = [migrations.RunPython(create, drop)]
