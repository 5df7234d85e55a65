"""Dates as people mean them: a day is a whole day in the site's time zone."""

from datetime import date, datetime, time

from django.utils import timezone


def start_of_day(day: date) -> datetime:
    """Midnight at the start of ``day``, in the site's time zone (filter ``>=`` it, and
    ``<`` the next day's, to keep a range on an indexed column)."""
    return timezone.make_aware(datetime.combine(day, time.min))
