"""Strict serializers and fields: a JSON API should not guess what "2" or true means.

Input serializers derive from ``StrictSerializer`` (or ``StrictModelSerializer``): unknown
properties are refused, and every value must have the JSON type the schema states (a string
for text, a number for integers, true/false for booleans). The schema generator
(``oms_site.api_schema``) states the same rules, so what the schema allows the server
accepts, and what it refuses the server refuses with 400.
"""

import re

from rest_framework import serializers

_TEXT_FIELDS = (
    serializers.CharField,
    serializers.ChoiceField,
    serializers.DateTimeField,
    serializers.DateField,
)
_NAMES = {bool: "boolean", int: "integer", str: "string", list: "array"}


def _kind(value) -> str:
    """How an error names a JSON value of the wrong type: a decimal number by its value
    (``2.0`` is refused where ``2`` is taken, so "not number" would puzzle)."""
    if isinstance(value, float):
        return repr(value)
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "object"
    return _NAMES.get(type(value), type(value).__name__)


def json_type_problem(field, value) -> str | None:
    """Why ``value`` can't be given to ``field`` in JSON, or None if its type fits."""
    if value is None:
        return None  # the field's own allow_null decides
    if isinstance(field, serializers.BooleanField):
        ok = isinstance(value, bool)
        expected = "true or false"
    elif isinstance(field, serializers.IntegerField):
        ok = isinstance(value, int) and not isinstance(value, bool)
        expected = "a whole number"
    elif isinstance(field, serializers.DecimalField):
        if decimal_as_string(field):
            ok, expected = isinstance(value, str), 'a decimal number in a string, e.g. "19.90"'
        else:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            expected = "a number"
    elif isinstance(field, _TEXT_FIELDS):
        ok = isinstance(value, str)
        expected = "a string"
    elif isinstance(field, serializers.ListField | serializers.ListSerializer):
        ok = isinstance(value, list)
        expected = "an array"
    elif isinstance(field, serializers.DictField | serializers.Serializer):
        ok = isinstance(value, dict)
        expected = "an object"
    else:
        return None
    return None if ok else f"Must be {expected}, not {_kind(value)}."


class RefusesUnknownFields:
    """Serializer mixin: refuse properties the serializer doesn't declare, and values whose
    JSON type doesn't fit the field. The schema marks these objects
    ``additionalProperties: false``."""

    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            if isinstance(field, serializers.CharField):
                # Lengths and patterns are checked on the text as sent, as the schema says.
                field.trim_whitespace = False
        return fields

    def to_internal_value(self, data):
        if isinstance(data, dict):
            errors = {}
            writable = {name: field for name, field in self.fields.items() if not field.read_only}
            for key in data:
                if key not in writable:
                    errors[key] = ["Unknown field."]
                else:
                    problem = json_type_problem(writable[key], data[key])
                    if problem:
                        errors[key] = [problem]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class StrictSerializer(RefusesUnknownFields, serializers.Serializer):
    """Base of every API input serializer."""


class StrictModelSerializer(RefusesUnknownFields, serializers.ModelSerializer):
    """Base of API input serializers built from a model."""


class StrictIntegerField(serializers.IntegerField):
    """An integer that must arrive as a JSON integer (no strings, no booleans, no 2.5, no 2.0)."""

    default_error_messages = {"not_integer": "Must be a whole number, not {kind}."}

    def to_internal_value(self, data):
        # 2.0 too: the schema (OpenAPI 3.0) says integer, and JSON keeps the two apart.
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("not_integer", kind=_kind(data))
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """true or false, not "yes", 1 or "true"."""

    default_error_messages = {"not_boolean": "Must be true or false, not {kind}."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("not_boolean", kind=_kind(data))
        return data


class StrictCharField(serializers.CharField):
    """Text that must arrive as a JSON string (numbers and objects are refused).

    Whitespace is kept as sent, so that the lengths the schema states are the lengths the
    server checks; services strip where it matters (names, addresses).
    """

    default_error_messages = {"not_string": "Must be a string, not {kind}."}

    def __init__(self, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_string", kind=_kind(data))
        return super().to_internal_value(data)


def decimal_as_string(field: serializers.DecimalField) -> bool:
    from rest_framework.settings import api_settings

    coerce = field.coerce_to_string
    return api_settings.COERCE_DECIMAL_TO_STRING if coerce is None else bool(coerce)


def decimal_pattern(field: serializers.DecimalField) -> str:
    """The exact text of a decimal the field accepts: no sign unless negatives are allowed,
    no exponent, no spaces, at most its digits."""
    sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
    places = field.decimal_places or 0
    whole = (field.max_digits or 30) - places
    fraction = f"(\\.\\d{{1,{places}}})?" if places else ""
    return f"^{sign}\\d{{1,{whole}}}{fraction}$"


class MoneyField(serializers.DecimalField):
    """A non-negative amount, as a JSON string ("19.90"): exact, never a float."""

    default_error_messages = {
        "not_decimal_text": 'Must be a decimal number in a string, e.g. "19.90".',
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 3)
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("coerce_to_string", True)
        super().__init__(**kwargs)
        self._pattern = re.compile(decimal_pattern(self))

    def to_internal_value(self, data):
        if not isinstance(data, str) or not self._pattern.fullmatch(data):
            self.fail("not_decimal_text")
        return super().to_internal_value(data)


# The earlier name of the mixin, kept for code that still imports it.
RejectUnknownFields = RefusesUnknownFields
