"""Template filters that format for the active language with Babel (CLDR data).

``{% load oms_format %}`` then:

- ``{{ order.grand_total|money:order.currency }}`` — ``€1,234.50`` (en), ``kr 1 234,50`` (nb)
- ``{{ count|number }}`` — ``12,345`` / ``12 345``
- ``{{ change|percent }}`` — ``+12%`` / ``+12 %``
- ``{{ order.created_at|when }}`` — ``Jan 5, 2026, 14:03`` / ``5. jan. 2026, 14:03`` in the
  site's time zone; ``{{ day|day }}`` — ``Jan 5, 2026`` / ``5. jan. 2026``

One set of filters for every page, so that a currency or a date looks the same everywhere.
"""

from datetime import date, datetime
from functools import lru_cache

from babel import Locale
from babel.dates import format_skeleton
from django import template
from django.utils import timezone

from oms_site.money import babel_locale, format_money, format_number, format_percent

register = template.Library()


@register.filter
def money(amount, currency):
    """An amount in its currency, for the active language."""
    if amount is None or amount == "" or not currency:
        return "—"
    return format_money(amount, currency)


@register.filter
def number(value, decimals=None):
    if value is None or value == "":
        return "—"
    return format_number(value, decimals=decimals)


@register.filter
def percent(value):
    return format_percent(value)


@lru_cache(maxsize=16)
def _joining_pattern(locale: str) -> str:
    return str(Locale.parse(locale).datetime_formats["medium"])


def format_moment(value: datetime, *, seconds: bool = False) -> str:
    """Date and time the way the active language joins them (CLDR's medium pattern)."""
    locale = babel_locale()
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    joined = _joining_pattern(locale)
    return joined.format(
        format_skeleton("Hms" if seconds else "Hm", value, locale=locale),
        format_skeleton("yMMMd", value, locale=locale),
    )


@register.filter
def when(value, precision="minutes"):
    """A moment in the site's time zone, date and time (``|when:"seconds"`` adds them)."""
    if not value:
        return "—"
    if isinstance(value, datetime):
        return format_moment(value, seconds=precision == "seconds")
    return format_skeleton("yMMMd", value, locale=babel_locale())


@register.filter
def day(value, skeleton="yMMMd"):
    """A date (or the date of a moment) in the site's time zone."""
    if not value:
        return "—"
    if isinstance(value, datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, date):
        return format_skeleton(skeleton, value, locale=babel_locale())
    return value
