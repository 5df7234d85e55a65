"""Money: ``Decimal`` amounts beside an ISO 4217 currency code, never floats.

Currency codes and their minor units come from py-moneyed and Babel (CLDR data), so JPY
rounds to whole yen and KWD to three decimals without a table of our own.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.numbers import format_currency, format_decimal, get_currency_precision
from babel.numbers import format_percent as babel_percent
from django.utils import translation
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


# Norwegian bookkeeping writes the currency first ("kr 1 234,50"); CLDR's newer data puts
# it last, so the Norwegian locales get their pattern here (digits still follow CLDR).
_LOCALE_PATTERNS = {
    "nb": "¤\u00a0#,##0.00;-¤\u00a0#,##0.00",
    "nn": "¤\u00a0#,##0.00;-¤\u00a0#,##0.00",
    "no": "¤\u00a0#,##0.00;-¤\u00a0#,##0.00",
}


def babel_locale(language: str | None = None) -> str:
    """The Babel locale of a Django language code (the active one by default):
    "en-us" -> "en_US", "nb" -> "nb_NO"."""
    language = language or translation.get_language() or "en-us"
    locale = translation.to_locale(language)
    if locale in ("nb", "nn", "no"):
        locale = f"{locale}_NO"
    return locale


def format_money(amount, currency: str, *, locale: str | None = None) -> str:
    """An amount as people read it in their language: "€1,234.50" in English,
    "kr 1 234,50" in Norwegian; digits as the currency has them (JPY none, KWD three).
    A missing amount shows as an em dash. Templates use the ``money`` filter
    (``oms_site.templatetags.oms_format``), which calls this."""
    if amount is None or amount == "":
        return "—"
    locale = locale or babel_locale()
    pattern = _LOCALE_PATTERNS.get(locale.split("_")[0])
    return format_currency(
        quantize(amount, currency), currency, format=pattern, locale=locale, currency_digits=True
    )


def format_number(value, *, locale: str | None = None, decimals: int | None = None) -> str:
    """A count or a plain number in the active language's format (1,234 / 1 234)."""
    if value is None:
        return "—"
    if decimals is not None:
        value = Decimal(value).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return format_decimal(value, locale=locale or babel_locale())


def format_percent(value, *, locale: str | None = None) -> str:
    """A change such as +12 % / −3 %: the sign always shown, one decimal below 10 %."""
    if value is None:
        return "—"
    pattern = "+#,##0.#%;-#,##0.#%" if abs(value) < Decimal("0.1") else "+#,##0%;-#,##0%"
    return babel_percent(value, format=pattern, locale=locale or babel_locale())


def convert_to_base(amount, currency: str, on_date):
    """(amount in the base currency, the rate used, its date) or None when no rate is known.

    The rate is the latest one on or before ``on_date``; callers store it with the result.
    """
    from django.conf import settings

    from .batch_cache import cached
    from .models import ExchangeRate

    base = settings.OMS_BASE_CURRENCY
    if currency == base:
        return Decimal(amount), Decimal(1), on_date
    rate = cached(
        ("exchange_rate", currency, on_date),
        lambda: (
            ExchangeRate.objects.filter(currency=currency, valid_on__lte=on_date)
            .order_by("-valid_on")
            .first()
        ),
    )
    if rate is None:
        return None
    return quantize(Decimal(amount) * rate.rate, base), rate.rate, rate.valid_on
