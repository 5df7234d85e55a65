"""Query filters for API lists, strict where the schema is strict and never a 500.

- Date-time filters take RFC 3339 only (``2026-05-01T08:00:00Z`` or with an offset), as
  the schema's ``format: date-time`` says; an empty or malformed value is a 400. The value
  is converted to UTC before it reaches the database (PostgreSQL refuses offsets beyond
  ±15:59), and a moment outside the range Python can hold is clamped to its edge, which
  filters the same way.
- Text filters search for what was sent. A value with a NUL character can match nothing
  that PostgreSQL stores, so it gives an empty page rather than an error.

``FilterBackend`` uses ``FilterSet`` below as the base of every filter set, also those a
view declares with ``filterset_fields``.
"""

import datetime as dt
import re

import django_filters
from django import forms
from django.core.validators import ProhibitNullCharactersValidator
from django.db import models
from django_filters.rest_framework import DjangoFilterBackend

RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)
_EARLIEST = dt.datetime.min.replace(tzinfo=dt.UTC)
_LATEST = dt.datetime.max.replace(tzinfo=dt.UTC)


def parse_rfc3339(text: str) -> dt.datetime:
    """An aware datetime in UTC; ValueError if ``text`` is not an RFC 3339 date-time."""
    match = RFC3339.match(text)
    if not match:
        raise ValueError("not RFC 3339")
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    fraction, offset = match.group(7), match.group(8)
    if second == 60:  # a leap second: the last moment of that minute
        second, fraction = 59, ".999999"
    microsecond = int((fraction or ".0")[1:7].ljust(6, "0"))
    if offset in ("Z", "z"):
        delta = dt.timedelta(0)
    else:
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        if hours > 23 or minutes > 59:
            raise ValueError("offset out of range")
        delta = dt.timedelta(hours=hours, minutes=minutes) * (-1 if offset[0] == "-" else 1)
    local = dt.datetime(year, month, day, hour, minute, second, microsecond)  # may raise
    try:
        return (local - delta).replace(tzinfo=dt.UTC)
    except OverflowError:
        return _EARLIEST if delta > dt.timedelta(0) else _LATEST


class RFC3339Field(forms.Field):
    default_error_messages = {
        "invalid": "Enter an RFC 3339 date-time with an offset, e.g. 2026-05-01T08:00:00Z.",
        "required": "Enter an RFC 3339 date-time with an offset, e.g. 2026-05-01T08:00:00Z.",
    }

    def to_python(self, value):
        if value is None:
            return None
        try:
            return parse_rfc3339(str(value))
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")

    def clean(self, value):
        # Present but empty is an error (the schema's date-time can't be empty); absent is
        # no filter.
        if value == "":
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().clean(value)


class DateTimeFilter(django_filters.IsoDateTimeFilter):
    """An RFC 3339 bound on a date-time column."""

    field_class = RFC3339Field


class BooleanField(forms.Field):
    default_error_messages = {"invalid": "Enter true or false."}

    def to_python(self, value):
        if value in (None, ""):
            return None
        if value not in ("true", "false"):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return value == "true"

    def clean(self, value):
        if value == "":
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().clean(value)


class BooleanFilter(django_filters.BooleanFilter):
    """``true`` or ``false`` (the schema's boolean); anything else is a 400, not ignored."""

    field_class = BooleanField


class StrictChoiceField(django_filters.fields.ChoiceField):
    """One of the choices; present but empty is an error (the schema's enum has no "")."""

    def clean(self, value):
        if value == "":
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice", params={"value": ""}
            )
        return super().clean(value)


class ChoiceFilter(django_filters.ChoiceFilter):
    """A filter on one of a column's choices."""

    field_class = StrictChoiceField


class FilterSet(django_filters.FilterSet):
    """Base of the API's filter sets: see the module docstring."""

    FILTER_DEFAULTS = {
        **django_filters.FilterSet.FILTER_DEFAULTS,
        models.BooleanField: {"filter_class": BooleanFilter},
        models.DateTimeField: {"filter_class": DateTimeFilter},
    }

    @property
    def form(self):
        form = super().form
        for field in form.fields.values():
            field.validators = [
                validator
                for validator in field.validators
                if not isinstance(validator, ProhibitNullCharactersValidator)
            ]
        return form

    def filter_queryset(self, queryset):
        for value in self.form.cleaned_data.values():
            values = value if isinstance(value, (list, tuple)) else [value]
            if any(isinstance(item, str) and "\x00" in item for item in values):
                return queryset.none()
        return super().filter_queryset(queryset)


class FilterBackend(DjangoFilterBackend):
    filterset_base = FilterSet
