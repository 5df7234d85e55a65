"""The dated exchange-rate table: import from CSV, add one rate, read the latest.

A rate says how many units of the shop's base currency one unit of a currency bought on
a day (``ExchangeRate.rate``). Every converted amount is stored with the rate used and its
date, so later imports never change what was recorded.

CSV columns (a header row is required; extra columns are ignored):

- ``currency`` — ISO 4217 code (not the base currency);
- ``valid_on`` (or ``date``) — ISO date, ``2025-03-31``;
- ``rate`` — base currency per unit of ``currency`` (NOK→EUR: ``0.0852``), **or**
  ``units_per_base`` — units of ``currency`` per one base unit, as central banks publish
  them (EUR→NOK: ``11.7325``), which is inverted here.

The import is all-or-nothing: any bad row refuses the file, with its line number; a rate
for a currency and day that exists is replaced.
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction

from .errors import ValidationFailed
from .models import ExchangeRate
from .money import is_currency

MAX_ROWS = 50_000
RATE_PLACES = Decimal("0.00000001")
MAX_RATE = Decimal("1e10")


@dataclass
class RateImport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


def _parse_rate(row) -> Decimal:
    raw_rate, raw_inverse = (row.get("rate") or "").strip(), (row.get("units_per_base") or "")
    raw_inverse = raw_inverse.strip()
    if bool(raw_rate) == bool(raw_inverse):
        raise ValueError("give either rate or units_per_base")
    try:
        value = Decimal((raw_rate or raw_inverse).replace(",", "."))
    except InvalidOperation:
        raise ValueError(f"'{raw_rate or raw_inverse}' is not a number")
    if not value.is_finite() or value <= 0 or value >= MAX_RATE:
        raise ValueError("the rate must be a positive number")
    rate = value if raw_rate else Decimal(1) / value
    rate = rate.quantize(RATE_PLACES)
    if rate <= 0:
        raise ValueError("the rate is too small for 8 decimals")
    return rate


def parse_rates(text: str) -> tuple[dict[tuple[str, date], Decimal], list[str]]:
    """(currency, day) -> rate for every row, and the errors with their line numbers."""
    base = settings.OMS_BASE_CURRENCY
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    columns = {name.strip().lower() for name in (reader.fieldnames or [])}
    if "currency" not in columns or not ({"valid_on", "date"} & columns):
        return {}, ["Line 1: the header must name currency, valid_on (or date) and rate."]
    if not ({"rate", "units_per_base"} & columns):
        return {}, ["Line 1: the header must name rate or units_per_base."]
    rates, errors = {}, []
    for number, raw in enumerate(reader, start=2):
        if number - 1 > MAX_ROWS:
            errors.append(f"More than {MAX_ROWS} rows: split the file.")
            break
        row = {(key or "").strip().lower(): (value or "") for key, value in raw.items()}
        if not any(value.strip() for value in row.values() if isinstance(value, str)):
            continue
        currency = row.get("currency", "").strip().upper()
        problems = []
        if not is_currency(currency):
            problems.append(f"'{currency}' is not an ISO 4217 currency")
        elif currency == base:
            problems.append(f"{base} is the base currency (its rate is always 1)")
        day_text = (row.get("valid_on") or row.get("date") or "").strip()
        try:
            day = date.fromisoformat(day_text)
        except ValueError:
            problems.append(f"'{day_text}' is not a date (YYYY-MM-DD)")
            day = None
        try:
            rate = _parse_rate(row)
        except ValueError as exc:
            problems.append(str(exc))
        if not problems and (currency, day) in rates:
            problems.append(f"{currency} on {day} appears twice")
        if problems:
            errors.append(f"Line {number}: " + "; ".join(problems) + ".")
            continue
        rates[(currency, day)] = rate
    if not rates and not errors:
        errors.append("The file has no rates.")
    return rates, errors


@transaction.atomic
def import_rates(text: str) -> RateImport:
    """Import a CSV of rates, all or nothing; raises ValidationFailed listing bad rows."""
    rates, errors = parse_rates(text)
    if errors:
        raise ValidationFailed(
            f"The file was not imported: {len(errors)} row(s) have problems.",
            fields={"file": errors[:50]},
        )
    result = RateImport()
    currencies = {currency for currency, _ in rates}
    days = {day for _, day in rates}
    existing = {
        (rate.currency, rate.valid_on): rate
        for rate in ExchangeRate.objects.select_for_update().filter(
            currency__in=currencies, valid_on__in=days
        )
    }
    new, changed = [], []
    for key, value in rates.items():
        stored = existing.get(key)
        if stored is None:
            new.append(ExchangeRate(currency=key[0], valid_on=key[1], rate=value))
        elif stored.rate != value:
            stored.rate = value
            changed.append(stored)
        else:
            result.unchanged += 1
    ExchangeRate.objects.bulk_create(new, batch_size=1000)
    ExchangeRate.objects.bulk_update(changed, ["rate"], batch_size=1000)
    result.created, result.updated = len(new), len(changed)
    return result


@transaction.atomic
def save_rate(*, currency: str, valid_on: date, rate: Decimal) -> ExchangeRate:
    """Add or replace one day's rate."""
    if currency == settings.OMS_BASE_CURRENCY or not is_currency(currency):
        raise ValidationFailed(
            f"{currency} can't have a rate.", fields={"currency": ["Not a foreign currency."]}
        )
    if rate <= 0:
        raise ValidationFailed("The rate must be positive.", fields={"rate": ["Must be > 0."]})
    stored, _ = ExchangeRate.objects.update_or_create(
        currency=currency, valid_on=valid_on, defaults={"rate": rate.quantize(RATE_PLACES)}
    )
    return stored


def latest_rates() -> list[ExchangeRate]:
    """The newest rate of every currency."""
    return list(
        ExchangeRate.objects.order_by("currency", "-valid_on").distinct("currency")
        if _supports_distinct_on()
        else _latest_by_python()
    )


def _supports_distinct_on() -> bool:
    from django.db import connection

    return connection.features.can_distinct_on_fields


def _latest_by_python():
    seen, latest = set(), []
    for rate in ExchangeRate.objects.order_by("currency", "-valid_on").iterator():
        if rate.currency not in seen:
            seen.add(rate.currency)
            latest.append(rate)
    return latest
