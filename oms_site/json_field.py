"""A JSONField whose documents are encoded and decoded by orjson.

The tables written in bulk (orders, their event trail, the outbox, marketplace pages and
order links) carry thousands of JSON documents a minute, and the standard library's
encoder was a sixth of a marketplace worker's time. orjson does the same work several
times faster. What it refuses to encode (an integer beyond 64 bits, a key that is not a
string) goes to the standard library, so the field stores what Django's own JSONField
would. One difference on the way back: orjson reads an integer beyond 64 bits as a float
(no document these fields hold has one: marketplace ids are strings or fit in 64 bits).
"""

import json

import orjson
from django.db import models
from django.db.models.fields.json import KeyTransform


def dumps(value) -> bytes:
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return json.dumps(value).encode()


def dumps_text(value) -> str | None:
    """``value`` as JSON text for a column; None stays NULL."""
    return None if value is None else dumps(value).decode()


class JSONField(models.JSONField):
    def deconstruct(self):
        # The column is Django's JSONField's: migrations see that field, so swapping the
        # class needs none (on SQLite an altered field rebuilds its table and drops the
        # triggers on it).
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.JSONField", args, kwargs

    def get_db_prep_value(self, value, connection, prepared=False):
        if not prepared:
            value = self.get_prep_value(value)
        if connection.vendor == "postgresql":
            from psycopg.types.json import Jsonb

            return Jsonb(value, dumps=dumps)
        return dumps_text(value)

    def from_db_value(self, value, expression, connection):
        if value is None or (isinstance(expression, KeyTransform) and not isinstance(value, str)):
            return value
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return super().from_db_value(value, expression, connection)


class JSONTextField(models.TextField):
    """A JSON document kept as text: for documents only ever read back whole (a
    marketplace's record of an order), never queried inside.

    PostgreSQL's jsonb parses a document on the way in and renders it on the way out; for
    the two and a half kilobytes of an imported order's record, that was most of what its
    order link cost the database. Reads and writes give and take the decoded value, as a
    ``JSONField`` does; lookups into the document are not available."""

    description = "A JSON document stored as text"

    def get_prep_value(self, value):
        return dumps_text(value)

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return orjson.loads(value)

    def to_python(self, value):
        if isinstance(value, str):
            try:
                return orjson.loads(value)
            except orjson.JSONDecodeError:
                return value
        return value

    def value_to_string(self, obj):
        return self.get_prep_value(self.value_from_object(obj))

    def formfield(self, **kwargs):
        return models.JSONField().formfield(**kwargs)
