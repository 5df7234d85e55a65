"""Orders inserted in one statement are counted by one delta row per status (PostgreSQL).

The row trigger of 0004 ran a PL/pgSQL call and a one-row INSERT for every order; a
marketplace page inserts a hundred orders with one COPY. A statement trigger with a
transition table counts them all at once: one INSERT of at most a few rows. Status changes
and deletes keep their row trigger (a transition table can't be limited to ``UPDATE OF
status``, and would copy every updated order). SQLite keeps its triggers.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION orders_order_status_delta() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO orders_orderstatusdelta (status, delta) VALUES (OLD.status, -1);
    ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
        INSERT INTO orders_orderstatusdelta (status, delta)
        VALUES (OLD.status, -1), (NEW.status, 1);
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION orders_order_status_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO orders_orderstatusdelta (status, delta)
    SELECT status, COUNT(*) FROM inserted_orders GROUP BY status;
    RETURN NULL;
END $$;

DROP TRIGGER orders_order_status_delta ON orders_order;
CREATE TRIGGER orders_order_status_delta
    AFTER DELETE OR UPDATE OF status ON orders_order
    FOR EACH ROW EXECUTE FUNCTION orders_order_status_delta();
CREATE TRIGGER orders_order_status_inserted
    AFTER INSERT ON orders_order REFERENCING NEW TABLE AS inserted_orders
    FOR EACH STATEMENT EXECUTE FUNCTION orders_order_status_inserted();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS orders_order_status_inserted ON orders_order;
DROP FUNCTION IF EXISTS orders_order_status_inserted();

CREATE OR REPLACE FUNCTION orders_order_status_delta() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO orders_orderstatusdelta (status, delta) VALUES (NEW.status, 1);
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO orders_orderstatusdelta (status, delta) VALUES (OLD.status, -1);
    ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
        INSERT INTO orders_orderstatusdelta (status, delta)
        VALUES (OLD.status, -1), (NEW.status, 1);
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER orders_order_status_delta ON orders_order;
CREATE TRIGGER orders_order_status_delta
    AFTER INSERT OR DELETE OR UPDATE OF status ON orders_order
    FOR EACH ROW EXECUTE FUNCTION orders_order_status_delta();
"""


def _run(sql):
    def apply(apps, schema_editor):
        connection = schema_editor.connection
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0013_order_lookup_by_external_id"),
    ]

    operations = [
        migrations.RunPython(_run(FORWARD), _run(BACKWARD)),
    ]
