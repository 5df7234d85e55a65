"""Strict serializer fields: a JSON API should not guess what "2" or true means."""

from rest_framework import serializers


class StrictIntegerField(serializers.IntegerField):
    """An integer that must arrive as a JSON number (no strings, no booleans, no 2.5)."""

    default_error_messages = {"not_integer": "Must be a whole number, not {kind}."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            if isinstance(data, float) and data.is_integer():
                data = int(data)
            else:
                self.fail("not_integer", kind=type(data).__name__)
        return super().to_internal_value(data)


class StrictCharField(serializers.CharField):
    """Text that must arrive as a JSON string (numbers and objects are refused)."""

    default_error_messages = {"not_string": "Must be a string, not {kind}."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_string", kind=type(data).__name__)
        return super().to_internal_value(data)


class MoneyField(serializers.DecimalField):
    """A non-negative amount, as a JSON string ("19.90") or number."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 3)
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("coerce_to_string", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (str, int, float)):
            self.fail("invalid")
        return super().to_internal_value(data)


class RejectUnknownFields:
    """Serializer mixin: a key the serializer doesn't know is an error, not silently
    dropped (a typo like ``shiping_total`` must not pass as "no shipping")."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({key: ["Unknown field."] for key in unknown})
        return super().to_internal_value(data)
