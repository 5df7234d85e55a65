"""Money: tax classes and rates (EU standard rates, Norwegian MVA), so that new orders —
from the API or the manual order page — are taxed by the rules."""

from datetime import date
from decimal import Decimal

from inventory.models import TaxClass
from orders.models import TaxRate

TAX_CLASSES = [
    ("standard", "Standard rate", True),
    ("food", "Food and drink", False),
    ("reduced", "Reduced rate (transport, culture)", False),
    ("zero", "Zero-rated (books, newspapers)", False),
]
# Standard VAT rates in the EU member states, with the changes of 2024 and 2025.
EU_STANDARD_RATES = {
    "AT": "20", "BE": "21", "BG": "20", "HR": "25", "CY": "19", "CZ": "21", "DK": "25",
    "EE": "22", "FI": "24", "FR": "20", "DE": "19", "GR": "24", "HU": "27", "IE": "23",
    "IT": "22", "LV": "21", "LT": "21", "LU": "17", "MT": "18", "NL": "21", "PL": "23",
    "PT": "23", "RO": "19", "SK": "20", "SI": "22", "ES": "21", "SE": "25",
}  # fmt: skip
RATE_CHANGES = [  # country, new standard rate, from
    ("FI", "25.5", date(2024, 9, 1)),
    ("SK", "23", date(2025, 1, 1)),
    ("EE", "24", date(2025, 7, 1)),
    ("RO", "21", date(2025, 8, 1)),
]
REDUCED_FOOD_RATES = {"DE": "7", "FR": "5.5", "AT": "10", "NL": "9", "SE": "12", "IT": "10"}
NORWAY = [("standard", "25"), ("food", "15"), ("reduced", "12"), ("zero", "0")]
SINCE = date(2024, 1, 1)


def ensure_tax_rules() -> int:
    """Tax classes and rates; returns how many rates were added."""
    classes = {}
    for code, name, is_default in TAX_CLASSES:
        classes[code], _ = TaxClass.objects.get_or_create(
            code=code, defaults={"name": name, "is_default": is_default}
        )
    wanted = [("NO", classes[code], rate, "MVA", SINCE) for code, rate in NORWAY]
    wanted += [("GB", classes["standard"], "20", "VAT", SINCE)]
    wanted += [(c, classes["standard"], r, "VAT", SINCE) for c, r in EU_STANDARD_RATES.items()]
    wanted += [(c, classes["standard"], r, "VAT", since) for c, r, since in RATE_CHANGES]
    wanted += [(c, classes["food"], r, "VAT", SINCE) for c, r in REDUCED_FOOD_RATES.items()]
    added = 0
    for country, tax_class, rate, name, valid_from in wanted:
        _, created = TaxRate.objects.get_or_create(
            country=country,
            tax_class=tax_class,
            valid_from=valid_from,
            defaults={"rate": Decimal(rate), "name": name},
        )
        added += created
    return added


def load(context) -> str | None:
    added = ensure_tax_rules()
    return f"{added} tax rates (EU standard rates, Norwegian MVA)" if added else None
