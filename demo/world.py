"""The demo shop's reference data, created idempotently: warehouses and bins, suppliers,
catalogue, channels, customers, exchange rates, hold rules, users and the demo API key."""

import math
import random
import unicodedata
from contextlib import contextmanager, suppress
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from stdnum import ean

from inventory.models import SKU, Bin, Product, Supplier, Warehouse, WarehouseAccess
from oms_site.models import ApiKey, ApiScope, ExchangeRate, StaffProfile
from oms_site.roles import Role
from orders.models import Customer, HoldRule, SalesChannel

from .reference_data import (
    API_KEY_FILE,
    API_KEY_NAME,
    CHANNELS,
    COLOURS,
    COUNTRIES,
    DEMO_USER_LANGUAGE,
    DEMO_USERS,
    EDITIONS,
    EMAIL_DOMAINS,
    HOLD_RULES,
    PRODUCTS,
    RATE_CENTRES,
    SCENTS,
    SHOE_SIZES,
    SIZES,
    SUPPLIERS,
    WAREHOUSE_USER_WAREHOUSES,
    WAREHOUSES,
    words,
)


def ascii_slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in text.lower() if ch.isalnum())


def gtin13(number: int) -> str:
    """A GTIN-13 in the 20-29 "in-store" range (never a real product's number)."""
    body = f"20{number:010d}"
    return body + ean.calc_check_digit(body)


@contextmanager
def historical_timestamps(*models):
    """Let ``bulk_create`` store the given ``created_at``/``updated_at`` values instead of
    "now" (``auto_now``/``auto_now_add`` are switched off for the duration). Used only by
    this loader and the benchmarks, single-threaded, before anything else runs."""
    fields = [
        f
        for model in models
        for f in model._meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def ensure_warehouses() -> list[Warehouse]:
    warehouses = []
    for spec in WAREHOUSES:
        spec = dict(spec)
        hour, minute = spec.pop("cutoff")
        warehouse, created = Warehouse.objects.get_or_create(
            code=spec["code"],
            defaults=spec | {"cutoff_time": f"{hour:02d}:{minute:02d}"},
        )
        if created:
            Bin.objects.bulk_create(
                [
                    Bin(warehouse=warehouse, code=f"{aisle}-{shelf:02d}", pick_sequence=seq)
                    for seq, (aisle, shelf) in enumerate(
                        ((a, s) for a in "ABCDEF" for s in range(1, 11)), start=1
                    )
                ]
            )
        warehouses.append(warehouse)
    return warehouses


def ensure_suppliers() -> dict[str, Supplier]:
    return {
        spec["code"]: Supplier.objects.get_or_create(code=spec["code"], defaults=spec)[0]
        for spec in SUPPLIERS
    }


def _variants(category, rng):
    if category == "apparel":
        colours = rng.sample(COLOURS, 2)
        return [(c, s) for c in colours for s in rng.sample(SIZES, 2)]
    if category == "shoe":
        colour = rng.choice(COLOURS[:4])
        return [(colour, s) for s in sorted(rng.sample(SHOE_SIZES, 4))]
    if category == "scent":
        return [(s, "") for s in rng.sample(SCENTS, 4)]
    if category == "one":
        return [("", e) for e in rng.sample(EDITIONS, 4)]
    return [(c, "") for c in rng.sample(COLOURS, 4)]  # colour, knit


def ensure_catalogue(sku_count: int, suppliers, rng) -> list[SKU]:
    """``sku_count`` SKUs, four variants per product; existing codes are kept as they are."""
    specs = []
    product_index = 0
    while len(specs) < sku_count:
        name, brand, category, price, weight, dims = PRODUCTS[product_index % len(PRODUCTS)]
        edition = product_index // len(PRODUCTS)
        product_name = name if edition == 0 else f"{name} ({2024 + edition} edition)"
        abbreviation = "".join(w[0] for w in name.replace("-", " ").split() if w[0].isalpha())
        prefix = f"{abbreviation.upper()[:4]}{product_index + 1:03d}"
        for variant_index, (first, second) in enumerate(_variants(category, rng)):
            if len(specs) >= sku_count:
                break
            parts = [p for p in (first, second) if p]
            code = "-".join([prefix] + [ascii_slug(p)[:3].upper() for p in parts])
            price_eur = Decimal(price) + (Decimal("5") if second in ("XL", "Max") else 0)
            specs.append(
                {
                    "product": (product_name, brand, category),
                    "code": code,
                    "name": " / ".join(parts) or "Standard",
                    "barcode": gtin13(product_index * 10 + variant_index + 1),
                    "price": price_eur,
                    "weight_grams": weight + (variant_index * 10 if category == "shoe" else 0),
                    "dims": dims,
                }
            )
        product_index += 1

    existing = {s.code: s for s in SKU.objects.filter(code__in=[s["code"] for s in specs])}
    products = {}
    dropship_every = 16  # one product in 16 is drop-shipped by the supplier
    new_skus = []
    for spec in specs:
        if spec["code"] in existing:
            continue
        product_name, brand, category = spec["product"]
        product = products.get(product_name)
        if product is None:
            product = Product.objects.filter(name=product_name).first() or Product.objects.create(
                name=product_name,
                brand=brand,
                description=f"{product_name} by {brand}.",
            )
            products[product_name] = product
        product_number = int(spec["code"].split("-")[0][-3:])
        supplier = suppliers["directgear" if product_number % dropship_every == 7 else "nordtex"]
        length, width, height = spec["dims"]
        new_skus.append(
            SKU(
                product=product,
                code=spec["code"],
                name=spec["name"],
                barcode=spec["barcode"],
                price=spec["price"],
                currency="EUR",
                weight_grams=spec["weight_grams"],
                length_mm=length,
                width_mm=width,
                height_mm=height,
                supplier=supplier,
            )
        )
    SKU.objects.bulk_create(new_skus)
    return list(
        SKU.objects.filter(code__in=[s["code"] for s in specs])
        .select_related("supplier", "product")
        .order_by("pk")
    )


def ensure_channels() -> dict[str, SalesChannel]:
    return {
        code: SalesChannel.objects.get_or_create(
            code=code, defaults={"name": name, "kind": kind, "currency": currency}
        )[0]
        for code, name, kind, currency in CHANNELS
    }


def customer_spec(index: int) -> dict:
    """Customer number ``index``: the same person every time (name, email, address)."""
    rng = random.Random(f"customer-{index}")
    countries = list(COUNTRIES)
    country = rng.choices(countries, weights=[COUNTRIES[c][0] for c in countries])[0]
    _, firsts, lasts, streets, cities, fmt, phone_prefix, _ = COUNTRIES[country]
    first, last = rng.choice(words(firsts)), rng.choice(words(lasts))
    city, postal_code, region = rng.choice(cities)
    number = rng.randint(1, 180)
    street = rng.choice(streets)
    line1 = f"{number} {street}" if fmt == "num_first" else f"{street} {number}"
    email = f"{ascii_slug(first)}.{ascii_slug(last)}{index}@{rng.choice(EMAIL_DOMAINS)}"
    phone = f"{phone_prefix} {rng.randint(100, 999)} {rng.randint(1000000, 9999999)}"
    name = f"{first} {last}"
    return {
        "email": email,
        "name": name,
        "phone": phone,
        "country": country,
        "blocked": index % 97 == 13,
        "address": {
            "name": name,
            "line1": line1,
            "city": city,
            "region": region,
            "postal_code": postal_code,
            "country": country,
            "phone": phone,
        },
        "created_days_ago": rng.uniform(380, 1100),
    }


def ensure_customers(count: int, now) -> list[tuple[Customer, dict]]:
    specs = [customer_spec(i) for i in range(count)]
    with historical_timestamps(Customer):
        Customer.objects.bulk_create(
            [
                Customer(
                    email=s["email"],
                    name=s["name"],
                    phone=s["phone"],
                    blocked=s["blocked"],
                    notes="Blocked after repeated chargebacks." if s["blocked"] else "",
                    created_at=now - timedelta(days=s["created_days_ago"]),
                )
                for s in specs
            ],
            ignore_conflicts=True,
            batch_size=500,
        )
    by_email = {c.email: c for c in Customer.objects.filter(email__in=[s["email"] for s in specs])}
    return [(by_email[s["email"]], s) for s in specs]


def ensure_exchange_rates(today) -> int:
    first = today.replace(day=1)
    rows = []
    for months_back in range(13):
        index = first.year * 12 + first.month - 1 - months_back
        valid_on = first.replace(year=index // 12, month=index % 12 + 1)
        for n, (currency, centre) in enumerate(RATE_CENTRES.items()):
            wiggle = 0.025 * math.sin(index * 0.9 + n) + 0.01 * math.cos(index * 2.3 + n * 1.7)
            rate = Decimal(str(round(centre * (1 + wiggle), 6)))
            rows.append(ExchangeRate(currency=currency, rate=rate, valid_on=valid_on))
    before = ExchangeRate.objects.count()
    ExchangeRate.objects.bulk_create(rows, ignore_conflicts=True)
    return ExchangeRate.objects.count() - before


def ensure_hold_rules() -> None:
    for kind, enabled, threshold in HOLD_RULES:
        HoldRule.objects.get_or_create(
            kind=kind, defaults={"enabled": enabled, "threshold": threshold}
        )


def ensure_users() -> int:
    """Create the demo users that are missing; existing users are left exactly as they are."""
    User = get_user_model()
    created = 0
    for username, password, role, superuser in DEMO_USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(
                username=username,
                email=f"{username}@example.com",
                first_name=username.title(),
                is_staff=superuser,
                is_superuser=superuser,
            )
            user.set_password(password)
            user.save()
            created += 1
        StaffProfile.objects.get_or_create(
            user=user, defaults={"role": role, "language": DEMO_USER_LANGUAGE}
        )
        if role == Role.WAREHOUSE:
            for warehouse in Warehouse.objects.filter(code__in=WAREHOUSE_USER_WAREHOUSES):
                WarehouseAccess.objects.get_or_create(user=user, warehouse=warehouse)
    return created


def ensure_api_key() -> bool:
    """The demo integration's key, written to var/ once (the raw key is shown only once)."""
    path = settings.VAR_DIR / API_KEY_FILE
    if path.exists():
        return False
    _, raw = ApiKey.objects.create_key(
        name=API_KEY_NAME, scopes=[s.value for s in ApiScope], channel_codes=[]
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(raw + "\n")
    with suppress(OSError):
        path.chmod(0o600)
    return True


# --- History -------------------------------------------------------------------------------


def load_world(*, skus: int = 200, customers: int = 600, seed: int = 7, now=None):
    """The reference data (idempotent). Returns what ``HistoryWriter`` needs, and in
    ``created`` how many rows this call added."""
    now = now or timezone.now()
    counted = (Warehouse, Supplier, SKU, SalesChannel, Customer, HoldRule)
    before = sum(model.objects.count() for model in counted)
    rng = random.Random(seed)
    warehouses = ensure_warehouses()
    suppliers = ensure_suppliers()
    catalogue = ensure_catalogue(skus, suppliers, rng)
    channels = ensure_channels()
    people = ensure_customers(customers, now)
    rates = ensure_exchange_rates(timezone.localdate(now))
    ensure_hold_rules()
    created = sum(model.objects.count() for model in counted) - before + rates
    return {
        "created": created,
        "warehouses": warehouses,
        "skus": catalogue,
        "channels": channels,
        "customers": people,
        "rates": rates,
    }
