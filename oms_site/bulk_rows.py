"""Writing many rows at once without a model instance per row.

``bulk_create`` builds and prepares a model instance for every row, and its ``INSERT``
carries each value as a query parameter: tens of thousands of rows cost seconds of Python.
On PostgreSQL ``insert_rows`` sends them with ``COPY`` instead (values as the caller gives
them, the fields' defaults computed once), with ids taken from the table's sequence first
when the caller needs them. Elsewhere (SQLite) it falls back to ``bulk_create``. Like
``bulk_create``, it sends no signals and calls no ``save()``.

Each function takes the connection out of ``connections`` once: every use of Django's
``connection`` proxy is a thread-local lookup (~2 us), and preparing a value per row and
field made thousands of them a page.
"""

import sqlite3
from functools import partial

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.utils import timezone

from . import raw_reads
from .json_field import JSONField, JSONTextField, dumps_text


def default_values(model, given: set[str]) -> dict:
    """The value of every concrete field the caller doesn't give, computed once."""
    now = timezone.now()
    values = {}
    for field in model._meta.concrete_fields:
        if field.primary_key or field.attname in given:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            values[field.attname] = now
        else:
            values[field.attname] = field.get_default()
    return values


def new_ids(model, count: int) -> list[int]:
    """Draw ``count`` primary keys for rows of ``model`` that are about to be written, so
    that rows which point at them (and values made from them, like an order's number) can
    be built before the first INSERT.

    PostgreSQL: from the table's sequence. SQLite: the table's ``AUTOINCREMENT`` counter in
    ``sqlite_sequence``, moved on by ``count`` (the UPDATE takes the database's write lock
    until the transaction ends, so no other writer draws the same ids)."""
    db = connections[DEFAULT_DB_ALIAS]
    if count <= 0:
        return []
    table, pk = model._meta.db_table, model._meta.pk.column
    with db.cursor() as cursor:
        if db.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, pk, count],
            )
            return [row[0] for row in cursor.fetchall()]
        highest = f"SELECT COALESCE(MAX({db.ops.quote_name(pk)}), 0) FROM " + (
            db.ops.quote_name(table)
        )
        cursor.execute(
            f"UPDATE sqlite_sequence SET seq = MAX(seq, ({highest})) + %s WHERE name = %s "
            "RETURNING seq",
            [count, table],
        )
        row = cursor.fetchone()
        if row is None:  # nothing was ever inserted into the table
            cursor.execute(
                f"INSERT INTO sqlite_sequence (name, seq) VALUES (%s, ({highest}) + %s) "
                "RETURNING seq",
                [table, count],
            )
            row = cursor.fetchone()
    return list(range(row[0] - count + 1, row[0] + 1))


def new_ids_of(*wanted: tuple) -> list[list[int]]:
    """``new_ids`` for several models at once, ``wanted`` being (model, count) pairs; on
    PostgreSQL in one statement."""
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql":
        return [new_ids(model, count) for model, count in wanted]
    draws = [(model, count) for model, count in wanted if count > 0]
    if not draws:
        return [[] for _ in wanted]
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT "
            + ", ".join(
                "ARRAY(SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s))"
                for _ in draws
            ),
            [
                value
                for model, count in draws
                for value in (model._meta.db_table, model._meta.pk.column, count)
            ],
        )
        drawn = iter(cursor.fetchone())
    return [sorted(next(drawn)) if count > 0 else [] for _model, count in wanted]


# Up to this many rows an INSERT is cheaper than a COPY (one round trip, not two). Past
# one row the COPY wins: an INSERT's parameters are parsed out of its text and quoted one
# by one, and a wide row has many (measured on PostgreSQL 15, client CPU: two orders 570
# against 380 us, three lines 480 against 360 us; one line 280 against 360 us).
SMALL_INSERT_ROWS = 1


def insert_rows(
    model, rows: list[dict], *, ids: bool = False, given_ids: list[int] | None = None
) -> list[int] | None:
    """Insert ``rows`` (dicts of field attnames, e.g. ``order_id``; every row the same
    keys) into ``model``'s table, in order. Returns their new ids when ``ids``;
    ``given_ids`` are ids drawn before (``new_ids_of``) for the rows to take."""
    db = connections[DEFAULT_DB_ALIAS]
    if not rows:
        return [] if ids or given_ids is not None else None
    if db.vendor != "postgresql":
        if given_ids is not None:
            pk = model._meta.pk.attname
            rows = [row | {pk: key} for row, key in zip(rows, given_ids, strict=True)]
        made = model.objects.bulk_create([model(**row) for row in rows], batch_size=2000)
        return [obj.pk for obj in made] if ids or given_ids is not None else None
    names = list(rows[0])
    return _write(
        db,
        model,
        names,
        [[row[name] for name in names] for row in rows],
        ids=ids,
        given_ids=given_ids,
    )


def _write(db, model, names, value_lists, *, ids=False, given_ids=None):
    """PostgreSQL: write rows given as lists of values in ``names``' order (each list is
    completed in place), the other fields at their defaults; COPY past one row."""
    defaults = default_values(model, set(names))
    fields = {f.attname: f for f in model._meta.concrete_fields}
    # Values a driver can't send as they are (JSON) are encoded once per row; the
    # defaults once in all.
    prepared = [
        (position, _encoder(fields[name], db))
        for position, name in enumerate(names)
        if isinstance(fields[name], models.JSONField | JSONTextField)
    ]
    constant = [fields[n].get_db_prep_save(v, db) for n, v in defaults.items()]
    drawn = new_ids(model, len(value_lists)) if ids else given_ids
    columns = [fields[name].column for name in [*names, *defaults]]
    if drawn is not None:
        columns.append(model._meta.pk.column)
    for n, values in enumerate(value_lists):
        for position, encode in prepared:
            values[position] = encode(values[position])
        values += constant
        if drawn is not None:
            values.append(drawn[n])
    table = db.ops.quote_name(model._meta.db_table)
    column_list = ", ".join(db.ops.quote_name(c) for c in columns)
    if len(value_lists) <= SMALL_INSERT_ROWS:
        placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
        with db.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({column_list}) VALUES "
                + ", ".join([placeholders] * len(value_lists)),
                [value for values in value_lists for value in values],
            )
        return drawn
    # Django's cursor turns the driver's errors into its own (IntegrityError, ...) but not
    # those of COPY, which callers catch the same way as an INSERT's: wrap it.
    sql = f"COPY {table} ({column_list}) FROM STDIN"
    with db.wrap_database_errors, db.cursor() as cursor, cursor.copy(sql) as copy:
        for values in value_lists:
            copy.write_row(values)
    return drawn


def insert_new_rows(model, rows: list[dict]) -> list:
    """Insert ``rows`` (dicts of field attnames, every row the same keys; the other fields
    take their defaults), skipping any that a unique constraint already holds (another
    transaction inserted it meanwhile: ``ON CONFLICT DO NOTHING``). Returns the rows
    inserted, as instances, with every field as stored; a skipped row is not among them.

    PostgreSQL only: one ``INSERT ... SELECT * FROM unnest(...)`` of an array per column
    (``unnest_arrays``); no instance is built before the database answers."""
    db = connections[DEFAULT_DB_ALIAS]
    assert db.vendor == "postgresql", "insert_new_rows needs PostgreSQL"
    if not rows:
        return []
    fields = {f.attname: f for f in model._meta.concrete_fields}
    names = list(rows[0])
    defaults = default_values(model, set(names))
    quote = db.ops.quote_name
    columns = [*names, *defaults]
    arrays = [[fields[name].get_db_prep_save(row[name], db) for row in rows] for name in names] + [
        [fields[name].get_db_prep_save(value, db)] * len(rows) for name, value in defaults.items()
    ]
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} "
        f"({', '.join(quote(fields[name].column) for name in columns)}) SELECT * FROM "
        + unnest_arrays(db, [fields[name] for name in columns])
        + " ON CONFLICT DO NOTHING RETURNING "
        + ", ".join(quote(field.column) for field in model._meta.concrete_fields)
    )
    with db.cursor() as cursor:
        cursor.execute(sql, arrays)
        return raw_reads.instances_from_rows(model, cursor.fetchall())


def unnest_arrays(db, fields) -> str:
    """``unnest(CAST(%s AS <type>[]), ...)``: rows from one array parameter per field,
    each typed as its column (PostgreSQL). The statement's text is the same for any
    number of rows, so psycopg parses it once; it parses a statement of more than 50
    parameters again on every call."""
    return "unnest(" + ", ".join(f"CAST(%s AS {field.db_type(db)}[])" for field in fields) + ")"


def _encoder(field, db):
    """How a JSON value of ``field`` goes to the database: our own fields' documents as
    orjson's text, which PostgreSQL reads into the column as it would the driver's
    parameter (without a wrapper object and a dumper lookup per value; an order and its
    rows carry about seventeen); others through the field (their encoder)."""
    if isinstance(field, JSONField | JSONTextField):
        return dumps_text
    return partial(field.get_db_prep_save, connection=db)


def insert_objects(objs, fields: list[str], *, ids: bool = False) -> None:
    """``insert_rows`` for unsaved instances of one model: ``fields`` (attnames, e.g.
    ``order_id``; ``id`` for keys drawn with ``new_ids``) are read from each, the others
    take their defaults; with ``ids`` each instance gets its new primary key, as
    ``bulk_create`` would give it."""
    db = connections[DEFAULT_DB_ALIAS]
    if not objs:
        return
    if db.vendor != "postgresql":
        # The instances themselves, so what Django fills in as it saves (auto_now
        # timestamps, keys) is on them as in the database.
        type(objs[0]).objects.bulk_create(objs, batch_size=2000)
        return
    names = list(fields)
    value_lists = [[getattr(obj, name) for name in names] for obj in objs]
    drawn = _write(db, type(objs[0]), names, value_lists, ids=ids)
    for n, obj in enumerate(objs):
        if ids:
            obj.pk = drawn[n]
        if obj.pk is not None:
            obj._state.adding = False  # saved now, as bulk_create would leave it


def update_rows(objs, fields: list[str]) -> None:
    """Write ``fields`` of these saved model instances (one model) in one ``UPDATE``.

    What ``bulk_update`` does for a handful of rows on a hot path, without its ``CASE WHEN``
    expression per row and field, which costs more Python to build and compile than the
    database spends on the statement: ``UPDATE ... FROM unnest(<one array per column>)``
    on PostgreSQL, ``WITH v(id, ...) AS (VALUES ...) UPDATE ... FROM v`` on SQLite (from
    3.33). Sends no signals.
    """
    db = connections[DEFAULT_DB_ALIAS]
    if not objs:
        return
    model = type(objs[0])
    if db.vendor == "sqlite" and sqlite3.sqlite_version_info < (3, 33):
        model.objects.bulk_update(objs, fields)  # no UPDATE ... FROM before SQLite 3.33
        return
    meta = model._meta
    concrete = [meta.get_field(name) for name in fields]
    quote = db.ops.quote_name
    table = quote(meta.db_table)
    names = ["id_", *(f"v{n}" for n in range(len(concrete)))]
    assignments = ", ".join(
        f"{quote(field.column)} = v.{name}" for field, name in zip(concrete, names[1:], strict=True)
    )
    where = f" WHERE {table}.{quote(meta.pk.column)} = v.id_"
    if db.vendor == "postgresql":
        # One array per column (a marketplace page's stock levels as a VALUES list, 500
        # parameters, cost 4 % of the page's CPU in psycopg's parsing alone).
        arrays = unnest_arrays(db, [meta.pk, *concrete])
        sql = f"UPDATE {table} SET {assignments} FROM {arrays} AS v ({', '.join(names)})"
        params = [[obj.pk for obj in objs]] + [
            [field.get_db_prep_save(getattr(obj, field.attname), db) for obj in objs]
            for field in concrete
        ]
    else:
        row = "(" + ", ".join(["%s"] * len(names)) + ")"
        sql = (
            f"WITH v ({', '.join(names)}) AS (VALUES {', '.join([row] * len(objs))}) "
            f"UPDATE {table} SET {assignments} FROM v"
        )
        params = []
        for obj in objs:
            params.append(obj.pk)
            params.extend(
                field.get_db_prep_save(getattr(obj, field.attname), db) for field in concrete
            )
    sql += where
    with db.cursor() as cursor:
        cursor.execute(sql, params)
