"""Reads on the order-placement path without the ORM compiling their SQL on every call.

Placing a batch of orders reads the SKUs (with product and supplier), the buyers and the
stock levels it locks. Compiling each of those QuerySets costs the Python process
0.3-0.6 ms per call, more than PostgreSQL takes to answer them. ``fetch`` builds such a
SELECT once per process from the model's fields and answers model instances as the ORM
would (``Model.from_db``, the fields' own converters, ``select_related``-style related
objects for the named foreign keys).

The statement takes its list as one array parameter (``= ANY(%s)``), so its text is the
same for any number of values: PostgreSQL only. Callers use the ORM on other databases.
"""

import threading

from django.db import connection

_statements: dict = {}
_lock = threading.Lock()


class _Statement:
    def __init__(self, model, column, related, for_update):
        quote = connection.ops.quote_name
        table = quote(model._meta.db_table)
        self.parts = [(model, [f.attname for f in model._meta.concrete_fields], None)]
        columns = [f"{table}.{quote(f.column)}" for f in model._meta.concrete_fields]
        joins = []
        for number, name in enumerate(related):
            field = model._meta.get_field(name)
            target = field.related_model
            alias = f"r{number}"
            columns += [f"{alias}.{quote(f.column)}" for f in target._meta.concrete_fields]
            joins.append(
                f"LEFT JOIN {quote(target._meta.db_table)} {alias} "
                f"ON {alias}.{quote(target._meta.pk.column)} = {table}.{quote(field.column)}"
            )
            self.parts.append((target, [f.attname for f in target._meta.concrete_fields], field))
        self.sql = (
            f"SELECT {', '.join(columns)} FROM {table} {' '.join(joins)} "
            f"WHERE {table}.{quote(model._meta.get_field(column).column)} = ANY(%s) "
            f"ORDER BY {table}.{quote(model._meta.pk.column)}"
            + (f" FOR UPDATE OF {table}" if for_update else "")
        )
        # Values a field converts on the way out of the database (none of today's
        # models has one; a JSON field would).
        self.converters = []
        offset = 0
        for part_model, names, _ in self.parts:
            self.converters += converters_of(part_model, offset)
            offset += len(names)


def converters_of(model, offset: int = 0) -> list:
    """(index in a row, field, converter) for each of ``model``'s concrete fields whose
    value the database backend converts on the way out, the model's columns starting at
    ``offset`` of the row."""
    return [
        (offset + index, field, convert)
        for index, field in enumerate(model._meta.concrete_fields)
        for convert in field.get_db_converters(connection)
    ]


def instances_from_rows(model, rows) -> list:
    """Rows of all of ``model``'s concrete columns, in field order (a ``RETURNING``'s,
    say), as instances, as the ORM would load them."""
    names = [field.attname for field in model._meta.concrete_fields]
    converters = converters_of(model)
    made = []
    for row in rows:
        if converters:
            row = list(row)
            for index, field, convert in converters:
                row[index] = convert(row[index], field, connection)
        made.append(model.from_db(connection.alias, names, row))
    return made


def _statement(model, column, related, for_update) -> _Statement:
    key = (model, column, related, for_update)
    statement = _statements.get(key)
    if statement is None:
        statement = _Statement(model, column, related, for_update)
        with _lock:
            _statements[key] = statement
    return statement


def fetch(model, column: str, values, *, related=(), for_update=False) -> list:
    """The rows of ``model`` whose ``column`` is one of ``values``, in primary-key order,
    as instances; each foreign key named in ``related`` comes loaded (or None). With
    ``for_update``, the rows of ``model`` (not the related ones) are locked."""
    statement = _statement(model, column, tuple(related), for_update)
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, [list(values)])
        rows = cursor.fetchall()
    alias = connection.alias
    instances = []
    for row in rows:
        if statement.converters:
            row = list(row)
            for index, field, convert in statement.converters:
                row[index] = convert(row[index], field, connection)
        offset = 0
        main = None
        for part_model, names, via in statement.parts:
            values_of_part = row[offset : offset + len(names)]
            offset += len(names)
            if via is None:
                main = part_model.from_db(alias, names, values_of_part)
                continue
            related_pk = values_of_part[names.index(part_model._meta.pk.attname)]
            related_obj = (
                None if related_pk is None else part_model.from_db(alias, names, values_of_part)
            )
            via.set_cached_value(main, related_obj)
        instances.append(main)
    return instances
