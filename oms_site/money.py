"""Money: ``Decimal`` amounts beside an ISO 4217 currency code, never floats.

Currency codes and their minor units come from py-moneyed and Babel (CLDR data), so JPY
rounds to whole yen and KWD to three decimals without a table of our own.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.numbers import get_currency_precision
from moneyed import CURRENCIES

from .errors import ValidationFailed

# ISO 4217 "X" codes are metals, fund units and testing codes, except for these real
# regional currencies (CFA francs, East Caribbean dollar, CFP franc, Caribbean guilder).
_REAL_X_CURRENCIES = {"XAF", "XCD", "XOF", "XPF", "XCG"}
_NON_SALES = {c for c in CURRENCIES if c.startswith("X") and c not in _REAL_X_CURRENCIES}
SALES_CURRENCIES = sorted(code for code in CURRENCIES if code not in _NON_SALES and len(code) == 3)
CURRENCY_CHOICES = [(code, code) for code in SALES_CURRENCIES]
MAX_DIGITS = 14
DECIMAL_PLACES = 3


def is_currency(code: str) -> bool:
    return isinstance(code, str) and code in CURRENCIES and code not in _NON_SALES


def validate_currency(code: str, *, field: str = "currency") -> str:
    if not is_currency(code):
        raise ValidationFailed(
            f"'{code}' is not an ISO 4217 currency code.", fields={field: ["Unknown currency."]}
        )
    return code


def minor_units(currency: str) -> int:
    return get_currency_precision(currency)


def quantize(amount, currency: str) -> Decimal:
    """Round to the currency's minor unit, half up (commercial rounding)."""
    exponent = Decimal(1).scaleb(-minor_units(currency))
    return Decimal(amount).quantize(exponent, rounding=ROUND_HALF_UP)


def to_decimal(value, *, field: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationFailed(f"{field} is not a number.", fields={field: ["Not a number."]})
    if not amount.is_finite():
        raise ValidationFailed(f"{field} is not a number.", fields={field: ["Not a number."]})
    return amount


def format_money(amount, currency: str) -> str:
    return f"{quantize(amount, currency):,} {currency}"


def convert_to_base(amount, currency: str, on_date):
    """(amount in the base currency, the rate used, its date) or None when no rate is known.

    The rate is the latest one on or before ``on_date``; callers store it with the result.
    """
    from django.conf import settings

    from .models import ExchangeRate

    base = settings.OMS_BASE_CURRENCY
    if currency == base:
        return Decimal(amount), Decimal(1), on_date
    rate = (
        ExchangeRate.objects.filter(currency=currency, valid_on__lte=on_date)
        .order_by("-valid_on")
        .first()
    )
    if rate is None:
        return None
    return quantize(Decimal(amount) * rate.rate, base), rate.rate, rate.valid_on
