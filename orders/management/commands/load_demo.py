"""``manage.py load_demo``: a demo shop with a year of history, loaded in seconds.

``make run`` calls this on every start, so it is idempotent: when the demo history is
there already it only makes sure the demo users exist (and the demo API key file) and
returns. The first run writes, in one transaction:

- four warehouses (Berlin, Lyon, Leeds, Newark) with bins, two suppliers (one drop-ships);
- a catalogue of SKUs (products with colour/size variants, valid GTIN-13 barcodes);
- five sales channels plus the "api" channel, ~600 customers in nine countries;
- 2,000 orders over the last twelve months in every status, with lines, allocations and
  an event trail each;
- stock written through the ledger: every ``StockLevel`` equals the sum of its
  ``StockMovement`` rows (receipts, allocations, shipments, return restocks), and its
  ``allocated`` equals the open warehouse ``Allocation`` rows;
- monthly exchange rates, the hold rules, demo users with roles and a demo API key.

History is written with ``bulk_create`` (no per-order service calls). The generator
(``HistoryWriter``) is reused by the benchmarks (``bench/``) to load 100k+ orders.
"""

import math
import random
import secrets
import time
import unicodedata
from collections import defaultdict
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone
from stdnum import ean

from inventory import geocoding
from inventory.models import (
    SKU,
    Bin,
    MovementReason,
    Product,
    StockLevel,
    StockMovement,
    Supplier,
    Warehouse,
    WarehouseAccess,
)
from oms_site.models import ApiKey, ApiScope, ExchangeRate, StaffProfile
from oms_site.money import quantize
from oms_site.roles import Role
from orders.models import (
    Allocation,
    Customer,
    HoldRule,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    PaymentStatus,
    SalesChannel,
)

S = OrderStatus
P = PaymentStatus
Kind = OrderEvent.Kind


def words(text) -> list[str]:
    return text.split() if isinstance(text, str) else list(text)


# The first demo order is a web order with this external id prefix; its presence means
# "the demo history is loaded".
DEMO_WEB_PREFIX = "WEB-"
API_KEY_NAME = "demo integration"
API_KEY_FILE = "demo-api-key.txt"

EU = words("AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE")

WAREHOUSES = [
    {
        "code": "ber",
        "name": "Berlin fulfilment centre",
        "address_line1": "Schnellerstraße 21",
        "city": "Berlin",
        "postal_code": "12439",
        "country": "DE",
        "latitude": 52.4559,
        "longitude": 13.5197,
        "rank": 10,
        "ships_to_countries": EU,
        "cutoff": (15, 0),
    },
    {
        "code": "lyo",
        "name": "Lyon Gerland warehouse",
        "address_line1": "40 Avenue Tony Garnier",
        "city": "Lyon",
        "postal_code": "69007",
        "country": "FR",
        "latitude": 45.7292,
        "longitude": 4.8323,
        "rank": 20,
        "ships_to_countries": EU,
        "cutoff": (14, 0),
    },
    {
        "code": "lds",
        "name": "Leeds distribution centre",
        "address_line1": "Howley Park Road",
        "city": "Leeds",
        "postal_code": "LS27 0BN",
        "country": "GB",
        "latitude": 53.7466,
        "longitude": -1.5862,
        "rank": 30,
        "ships_to_countries": ["GB", "IE"],
        "cutoff": (16, 0),
    },
    {
        "code": "ewr",
        "name": "Newark port warehouse",
        "address_line1": "1100 Corbin Street",
        "city": "Newark",
        "postal_code": "07114",
        "country": "US",
        "latitude": 40.6896,
        "longitude": -74.1507,
        "rank": 40,
        "ships_to_countries": ["US", "CA"],
        "cutoff": (17, 0),
    },
]

SUPPLIERS = [
    {
        "code": "nordtex",
        "name": "Nordtex Handelsgesellschaft mbH",
        "email": "orders@nordtex.example.com",
        "drop_ships": False,
        "lead_time_days": 14,
    },
    {
        "code": "directgear",
        "name": "DirectGear Ltd",
        "email": "dropship@directgear.example.com",
        "drop_ships": True,
        "lead_time_days": 3,
    },
]

CHANNELS = [
    ("web", "Web shop", SalesChannel.Kind.WEB, "EUR"),
    ("pos", "Berlin store (POS)", SalesChannel.Kind.POS, "EUR"),
    ("amazon", "Amazon UK", SalesChannel.Kind.AMAZON, "GBP"),
    ("ebay", "eBay US", SalesChannel.Kind.EBAY, "USD"),
    ("shopify", "Shopify US store", SalesChannel.Kind.SHOPIFY, "USD"),
    ("api", "Partner API", SalesChannel.Kind.API, "EUR"),
]

# Base currency units per unit of the currency, around which the monthly rates move.
RATE_CENTRES = {"GBP": 1.17, "USD": 0.92, "CHF": 1.05, "PLN": 0.232}

DEMO_USERS = [
    # username, password, role, superuser
    ("owner", "owner-demo-pass", Role.OWNER, True),
    ("manager", "manager-demo-pass", Role.MANAGER, False),
    ("support", "support-demo-pass", Role.SUPPORT, False),
    ("warehouse", "warehouse-demo-pass", Role.WAREHOUSE, False),
    ("viewer", "viewer-demo-pass", Role.READONLY, False),
]

HOLD_RULES = [
    (HoldRule.Kind.HIGH_VALUE, True, Decimal("2000")),
    (HoldRule.Kind.ADDRESS_MISMATCH, True, None),
    (HoldRule.Kind.BLOCKED_CUSTOMER, True, None),
    (HoldRule.Kind.FIRST_ORDER_HIGH_VALUE, False, Decimal("500")),
]

# --- Catalogue ---------------------------------------------------------------------------

COLOURS = ["Black", "Navy", "Grey", "Olive", "Sand", "Burgundy", "White", "Rust"]
SIZES = ["S", "M", "L", "XL"]
SHOE_SIZES = ["39", "40", "41", "42", "43", "44", "45", "46"]
# name, brand, category, net price EUR, weight g, (length, width, height) mm
PRODUCTS = [
    ("Merino Crew Sweater", "Fjellgarn", "apparel", "89.90", 380, (320, 260, 60)),
    ("Organic Cotton T-Shirt", "Fjellgarn", "apparel", "24.90", 180, (300, 220, 20)),
    ("Linen Shirt", "Atelier Loire", "apparel", "59.90", 240, (320, 240, 30)),
    ("Hooded Sweatshirt", "Northbound", "apparel", "64.90", 560, (340, 280, 70)),
    ("Rain Jacket", "Northbound", "apparel", "129.00", 420, (360, 280, 60)),
    ("Down Vest", "Northbound", "apparel", "99.00", 300, (340, 260, 60)),
    ("Chino Trousers", "Atelier Loire", "apparel", "69.90", 450, (350, 260, 40)),
    ("Denim Jacket", "Atelier Loire", "apparel", "89.00", 780, (380, 300, 60)),
    ("Fleece Pullover", "Northbound", "apparel", "54.90", 400, (330, 260, 60)),
    ("Polo Shirt", "Fjellgarn", "apparel", "39.90", 220, (300, 230, 30)),
    ("Running Shorts", "Stride", "apparel", "34.90", 120, (250, 200, 20)),
    ("Thermal Leggings", "Stride", "apparel", "44.90", 200, (280, 200, 30)),
    ("Wool Beanie", "Fjellgarn", "knit", "24.90", 90, (220, 180, 30)),
    ("Cashmere Scarf", "Fjellgarn", "knit", "79.00", 160, (300, 200, 40)),
    ("Wool Gloves", "Fjellgarn", "apparel", "34.90", 100, (240, 120, 30)),
    ("Cotton Socks 3-Pack", "Stride", "apparel", "19.90", 150, (220, 120, 40)),
    ("Trail Running Shoe", "Stride", "shoe", "119.00", 640, (330, 210, 120)),
    ("Leather Chelsea Boot", "Atelier Loire", "shoe", "169.00", 1150, (330, 220, 130)),
    ("Canvas Sneaker", "Stride", "shoe", "59.90", 720, (320, 200, 110)),
    ("Wool Slipper", "Fjellgarn", "shoe", "49.90", 380, (300, 180, 100)),
    ("Canvas Tote Bag", "Harbour & Co", "colour", "29.90", 260, (400, 380, 20)),
    ("Roll-Top Backpack 20L", "Harbour & Co", "colour", "89.00", 890, (480, 300, 150)),
    ("Leather Weekender", "Harbour & Co", "colour", "199.00", 1600, (550, 300, 280)),
    ("Hip Pack", "Harbour & Co", "colour", "34.90", 210, (300, 150, 80)),
    ('Laptop Sleeve 14"', "Harbour & Co", "colour", "39.90", 300, (360, 260, 30)),
    ("Leather Belt", "Atelier Loire", "apparel", "49.90", 220, (300, 120, 40)),
    ("Leather Wallet", "Atelier Loire", "colour", "59.00", 120, (120, 100, 25)),
    ("Baseball Cap", "Stride", "colour", "24.90", 110, (280, 200, 120)),
    ("Sunglasses", "Harbour & Co", "colour", "89.00", 90, (170, 70, 60)),
    ("Phone Case", "Harbour & Co", "colour", "24.90", 60, (170, 100, 20)),
    ("Ceramic Mug", "Casa Verde", "colour", "14.90", 380, (130, 100, 110)),
    ("Enamel Camping Mug", "Trailcraft", "colour", "16.90", 200, (120, 100, 90)),
    ("Linen Napkin Set", "Casa Verde", "colour", "29.90", 240, (250, 200, 30)),
    ("Wool Throw Blanket", "Fjellgarn", "colour", "89.00", 1300, (400, 320, 120)),
    ("Scented Candle", "Casa Verde", "scent", "22.90", 420, (110, 110, 120)),
    ("Cast Iron Skillet 26 cm", "Casa Verde", "one", "49.90", 2600, (470, 280, 60)),
    ("Chef's Knife 20 cm", "Casa Verde", "one", "79.00", 260, (340, 80, 30)),
    ("Bamboo Cutting Board", "Casa Verde", "one", "27.90", 900, (400, 280, 25)),
    ("French Press 1 L", "Casa Verde", "colour", "34.90", 700, (200, 150, 230)),
    ("Insulated Bottle 750 ml", "Trailcraft", "colour", "29.90", 380, (90, 90, 290)),
    ("Glass Water Bottle", "Casa Verde", "colour", "19.90", 420, (80, 80, 260)),
    ("Cotton Bath Towel", "Casa Verde", "colour", "24.90", 600, (350, 250, 80)),
    ("Trekking Poles", "Trailcraft", "one", "69.00", 520, (700, 120, 80)),
    ("Camping Lantern", "Trailcraft", "one", "39.90", 350, (150, 150, 220)),
    ("Sleeping Bag -5 °C", "Trailcraft", "one", "149.00", 1450, (450, 250, 250)),
    ("Two-Person Tent", "Trailcraft", "one", "299.00", 2300, (550, 200, 200)),
    ("Inflatable Sleeping Pad", "Trailcraft", "one", "79.00", 560, (280, 120, 120)),
    ("Headlamp 400 lm", "Trailcraft", "one", "34.90", 90, (120, 80, 60)),
    ("Dry Bag 10 L", "Trailcraft", "colour", "19.90", 110, (250, 150, 40)),
    ("Notebook A5", "Casa Verde", "colour", "14.90", 280, (215, 150, 20)),
]
SCENTS = ["Cedar", "Fig", "Sea Salt", "Amber", "Lavender", "Black Tea"]
EDITIONS = ["Trail", "Pro", "Lite", "Classic", "Mini", "Max"]

# --- People and places -------------------------------------------------------------------

# fmt: off
# country: weight, first names, last names (space-separated), streets, (city, postal code, region),
#          address format ("num_first" or "num_last"), phone prefix, VAT rate
COUNTRIES = {
    "DE": (
        30,
        "Lukas Leon Finn Jonas Paul Felix Maximilian Elias Anna Lena Marie Sophie Laura "
        "Hannah Lea Julia Katharina Johanna Erika Stefan",
        "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Koch "
        "Richter Klein Wolf Schröder Neumann Braun Zimmermann",
        ["Hauptstraße", "Bahnhofstraße", "Gartenstraße", "Schillerstraße", "Goethestraße",
         "Lindenstraße", "Bergstraße", "Kirchstraße", "Schulstraße", "Waldstraße"],
        [("Berlin", "10115", ""), ("Hamburg", "20095", ""), ("München", "80331", ""),
         ("Köln", "50667", ""), ("Frankfurt am Main", "60311", ""), ("Stuttgart", "70173", ""),
         ("Düsseldorf", "40213", ""), ("Leipzig", "04109", ""), ("Dresden", "01067", ""),
         ("Hannover", "30159", ""), ("Nürnberg", "90402", ""), ("Bremen", "28195", "")],
        "num_last", "+49", "0.19",
    ),
    "FR": (
        15,
        "Louis Gabriel Jules Arthur Hugo Lucas Emma Jade Louise Alice Chloé Léa Manon "
        "Camille Thomas Inès",
        "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon "
        "Laurent Lefebvre Michel Garnier Fontaine",
        ["Rue de la République", "Rue Victor Hugo", "Avenue Jean Jaurès", "Rue Pasteur",
         "Boulevard Gambetta", "Rue de la Paix", "Rue du Moulin", "Rue des Écoles"],
        [("Paris", "75011", ""), ("Marseille", "13001", ""), ("Lyon", "69003", ""),
         ("Toulouse", "31000", ""), ("Nice", "06000", ""), ("Nantes", "44000", ""),
         ("Strasbourg", "67000", ""), ("Montpellier", "34000", ""), ("Bordeaux", "33000", ""),
         ("Lille", "59000", ""), ("Rennes", "35000", "")],
        "num_first", "+33", "0.20",
    ),
    "GB": (
        18,
        "Oliver George Harry Jack Noah Charlie Olivia Amelia Isla Ava Emily Sophie Grace "
        "Freddie Poppy Alfie",
        "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts "
        "Walker Wright Hughes Green Clarke",
        ["High Street", "Station Road", "Church Lane", "Victoria Road", "Park Avenue",
         "Green Lane", "Mill Lane", "Queens Road", "Manor Road", "Kings Road"],
        [("London", "EC1V 9HX", ""), ("Manchester", "M1 1AE", ""), ("Birmingham", "B1 1BB", ""),
         ("Leeds", "LS1 4AP", ""), ("Glasgow", "G1 1XQ", ""), ("Liverpool", "L1 8JQ", ""),
         ("Bristol", "BS1 4DJ", ""), ("Sheffield", "S1 2HE", ""), ("Edinburgh", "EH1 1YZ", ""),
         ("Cardiff", "CF10 1EP", ""), ("Nottingham", "NG1 5FS", "")],
        "num_first", "+44", "0.20",
    ),
    "US": (
        15,
        "James John Michael David Emily Jessica Ashley Sarah Olivia Ethan Mason Madison "
        "Ava Daniel Chloe Tyler",
        "Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Anderson "
        "Taylor Moore Jackson Lee Harris Clark",
        ["Main Street", "Oak Street", "Maple Avenue", "Washington Street", "Park Avenue",
         "Elm Street", "Cedar Lane", "Lake Drive", "Sunset Boulevard", "Pine Street"],
        [("New York", "10001", "NY"), ("Los Angeles", "90012", "CA"), ("Chicago", "60601", "IL"),
         ("Houston", "77002", "TX"), ("Phoenix", "85003", "AZ"), ("Philadelphia", "19103", "PA"),
         ("San Antonio", "78205", "TX"), ("San Diego", "92101", "CA"), ("Dallas", "75201", "TX"),
         ("Austin", "78701", "TX"), ("Seattle", "98101", "WA"), ("Boston", "02108", "MA"),
         ("Denver", "80202", "CO")],
        "num_first", "+1", "0.07",
    ),
    "IE": (
        4,
        "Seán Conor Aoife Siobhán Niamh Ciarán Liam Saoirse Patrick Mary Oisín Róisín",
        "Murphy Kelly O'Sullivan Walsh Byrne Ryan O'Brien O'Connor McCarthy Doyle",
        ["Main Street", "Church Road", "Abbey Street", "Castle Street", "Patrick Street",
         "Bridge Street"],
        [("Dublin", "D02 X285", "Co. Dublin"), ("Cork", "T12 X70A", "Co. Cork"),
         ("Galway", "H91 E2K3", "Co. Galway"), ("Limerick", "V94 T9PX", "Co. Limerick"),
         ("Waterford", "X91 K7P2", "Co. Waterford")],
        "num_first", "+353", "0.23",
    ),
    "NL": (
        6,
        "Daan Sem Lucas Emma Julia Mila Sophie Tess Bram Noor Finn Sanne",
        ["de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Visser",
         "Smit", "Meijer", "de Boer"],
        ["Kerkstraat", "Dorpsstraat", "Molenweg", "Stationsweg", "Julianalaan", "Prinsengracht",
         "Beatrixlaan"],
        [("Amsterdam", "1012 JS", ""), ("Rotterdam", "3011 AA", ""), ("Den Haag", "2511 CV", ""),
         ("Utrecht", "3511 AA", ""), ("Eindhoven", "5611 AA", ""), ("Groningen", "9711 AA", "")],
        "num_last", "+31", "0.21",
    ),
    "AT": (
        4,
        "Lukas Tobias David Anna Sarah Lena Laura Florian Julia Matthias Theresa",
        "Gruber Huber Bauer Wagner Pichler Steiner Moser Mayer Hofer Berger",
        ["Hauptstraße", "Bahnhofstraße", "Kirchengasse", "Schulgasse", "Wiener Straße",
         "Mariahilfer Straße"],
        [("Wien", "1070", ""), ("Graz", "8010", ""), ("Linz", "4020", ""),
         ("Salzburg", "5020", ""), ("Innsbruck", "6020", "")],
        "num_last", "+43", "0.20",
    ),
    "ES": (
        4,
        "Hugo Martín Lucas Mateo Lucía Sofía María Martina Paula Daniel Carmen Pablo",
        "García Rodríguez González Fernández López Martínez Sánchez Pérez Gómez Ruiz",
        ["Calle Mayor", "Calle Real", "Gran Vía", "Calle de Alcalá", "Avenida de la Constitución",
         "Calle del Carmen"],
        [("Madrid", "28013", ""), ("Barcelona", "08002", ""), ("Valencia", "46002", ""),
         ("Sevilla", "41001", ""), ("Zaragoza", "50001", ""), ("Málaga", "29015", ""),
         ("Bilbao", "48001", "")],
        "num_last", "+34", "0.21",
    ),
    "IT": (
        4,
        "Leonardo Francesco Alessandro Lorenzo Sofia Giulia Aurora Alice Ginevra Marco "
        "Chiara Matteo",
        "Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco",
        ["Via Roma", "Via Garibaldi", "Via Mazzini", "Corso Italia", "Via Dante",
         "Via Giuseppe Verdi"],
        [("Roma", "00184", "RM"), ("Milano", "20121", "MI"), ("Napoli", "80133", "NA"),
         ("Torino", "10121", "TO"), ("Bologna", "40121", "BO"), ("Firenze", "50122", "FI"),
         ("Verona", "37121", "VR")],
        "num_last", "+39", "0.22",
    ),
}
# fmt: on
EMAIL_DOMAINS = ["example.com", "example.org", "example.net"]
SHIPPING_METHODS = {
    "DE": ("DHL Paket", "DHL"),
    "AT": ("Österreichische Post Paket", "Post AT"),
    "FR": ("Colissimo", "Colissimo"),
    "GB": ("Royal Mail Tracked 48", "Royal Mail"),
    "IE": ("An Post Express", "An Post"),
    "NL": ("PostNL Pakket", "PostNL"),
    "ES": ("Correos Paq Estándar", "Correos"),
    "IT": ("Poste Italiane Crono", "Poste Italiane"),
    "US": ("UPS Ground", "UPS"),
}
FREE_SHIPPING = {"EUR": ("4.90", "50"), "GBP": ("3.99", "40"), "USD": ("5.99", "60")}
# Rough prices in other currencies: net EUR price / this, rounded to .99.
PRICE_RATES = {"EUR": 1.0, "GBP": 1.17, "USD": 0.92}

# Weights of statuses in the history, and how long ago such an order was placed (days):
# mostly delivered; the open ones are recent, as in a real shop's order book.
STATUS_WEIGHTS = [
    (S.DELIVERED, 64),
    (S.SHIPPED, 6),
    (S.CANCELLED, 6),
    (S.ALLOCATED, 4),
    (S.PARTIALLY_SHIPPED, 1.5),
    (S.BACKORDERED, 2.5),
    (S.ON_HOLD, 2),
    (S.PENDING, 1.5),
    (S.DRAFT, 1.5),
    (S.RETURNED, 3),
    (S.PARTIALLY_RETURNED, 3),
]
AGE_DAYS = {
    S.DELIVERED: (6, 364),
    S.RETURNED: (25, 364),
    S.PARTIALLY_RETURNED: (25, 364),
    S.SHIPPED: (1.5, 10),
    S.PARTIALLY_SHIPPED: (1, 8),
    S.ALLOCATED: (0.02, 3),
    S.BACKORDERED: (1, 45),
    S.ON_HOLD: (0.05, 6),
    S.PENDING: (0.0, 0.1),
    S.DRAFT: (0.1, 30),
    S.CANCELLED: (0.5, 364),
}


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


# --- Reference data ------------------------------------------------------------------------


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
        StaffProfile.objects.get_or_create(user=user, defaults={"role": role})
        if role == Role.WAREHOUSE:
            warehouse = Warehouse.objects.filter(code=WAREHOUSES[0]["code"]).first()
            if warehouse is not None:
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


@dataclass
class WorldSku:
    sku: SKU
    dropship_supplier_id: int | None
    stocked: list = field(default_factory=list)  # warehouse ids with a level (or planned)
    out_of_stock: bool = False


@dataclass
class Counts:
    orders: int = 0
    lines: int = 0
    events: int = 0
    allocations: int = 0
    movements: int = 0
    levels: int = 0
    statuses: dict = field(default_factory=lambda: defaultdict(int))


class HistoryWriter:
    """Plans orders in every status and writes them with ``bulk_create`` in chunks, with
    the stock movements that keep every level equal to its ledger.

    ``ship_movements``: also write the allocation, shipment, deallocation and restock
    movements of past orders (the demo does; the benchmark's 100k-order load leaves past
    stock out of the levels and writes only the open allocations).
    Order and line primary keys are assigned here (``number`` is ``SO-<pk>``), so nothing
    else may insert orders while it runs; sequences are reset at the end.
    """

    def __init__(
        self,
        *,
        warehouses,
        skus,
        channels,
        customers,
        now=None,
        seed=7,
        ship_movements=True,
        batch_size=1000,
    ):
        self.now = now or timezone.now()
        self.rng = random.Random(seed)
        self.warehouses = [w for w in warehouses if w.active]
        self.warehouse_by_id = {w.pk: w for w in self.warehouses}
        self.channels = channels
        self.customers = customers
        self.open_customers = [c for c in customers if not c[1]["blocked"]] or customers
        self.blocked_customers = [c for c in customers if c[1]["blocked"]]
        self.ship_movements = ship_movements
        self.batch_size = batch_size
        self.counts = Counts()
        self._geo = {}
        self._existing_levels = {
            (lv.sku_id, lv.warehouse_id): lv.pk
            for lv in StockLevel.objects.filter(sku__in=[s.pk for s in skus])
        }
        self._plan_stock(skus)
        self._next_order_pk = (Order.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
        self._next_line_pk = (OrderLine.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
        self._movements: list[StockMovement] = []
        # Receipts that cover what the history allocates: (sku, wh) -> month -> units.
        self._receipts = defaultdict(lambda: defaultdict(int))
        self._deltas = defaultdict(lambda: [0, 0])  # (sku, wh) -> [on_hand, allocated]

    # -- stock plan --

    def _plan_stock(self, skus):
        rng = self.rng
        codes = {w.code: w.pk for w in self.warehouses}
        stocked_already = defaultdict(list)
        for sku_id, wh_id in self._existing_levels:
            if wh_id in self.warehouse_by_id:
                stocked_already[sku_id].append(wh_id)
        self.skus, fresh = [], []
        self.new_levels = {}  # (sku_id, wh_id) -> (free units, safety stock)
        for sku in skus:
            dropship = sku.supplier_id if sku.supplier and sku.supplier.drop_ships else None
            entry = WorldSku(sku=sku, dropship_supplier_id=dropship)
            if stocked_already.get(sku.pk):
                entry.stocked = stocked_already[sku.pk]
            elif dropship is None:
                # Every SKU in Leeds and Newark (the only ones for GB/US) and in one or
                # both EU warehouses.
                wanted = [c for c in ("lds", "ewr") if c in codes]
                eu = [c for c in ("ber", "lyo") if c in codes]
                if eu:
                    wanted += eu if rng.random() < 0.7 else [rng.choice(eu)]
                entry.stocked = [codes[c] for c in (wanted or list(codes))]
                fresh.append(entry)
            if entry.stocked or entry.dropship_supplier_id:
                self.skus.append(entry)
        # A few SKUs are sold out everywhere: backordered orders wait for them.
        for entry in rng.sample(fresh, max(1, len(fresh) // 25)) if fresh else []:
            entry.out_of_stock = True
        for entry in fresh:
            for wh_id in entry.stocked:
                if entry.out_of_stock:
                    free, safety = 0, 0
                else:
                    free = 0 if rng.random() < 0.08 else int(rng.lognormvariate(3.6, 0.9)) + 1
                    safety = rng.choice([0, 0, 0, 2, 3, 5, 10]) if free > 12 else 0
                self.new_levels[(entry.sku.pk, wh_id)] = (free, safety)
        self.sellable = [e for e in self.skus if not e.out_of_stock]
        self.out_of_stock = [e for e in self.skus if e.out_of_stock]
        if not self.sellable:
            raise CommandError("No sellable SKUs: load the catalogue first.")
        # Bestsellers: a few SKUs sell much more than the rest.
        self.weights = [1.0 / (rank + 3) ** 0.8 for rank in range(len(self.sellable))]
        rng.shuffle(self.weights)

    # -- small helpers --

    def _geocode(self, country, city):
        key = (country, city)
        if key not in self._geo:
            self._geo[key] = geocoding.locate(country, city)
        return self._geo[key]

    def _warehouse_for(self, entry: WorldSku, country, lat, lon):
        options = [self.warehouse_by_id[w] for w in entry.stocked if w in self.warehouse_by_id]
        eligible = [w for w in options if w.ships_to(country)] or options
        if not eligible:
            return None

        def distance(w):
            if None in (w.latitude, w.longitude, lat, lon):
                return w.rank * 1000.0
            return math.hypot(w.latitude - lat, (w.longitude - lon) * math.cos(math.radians(lat)))

        eligible.sort(key=lambda w: (distance(w), w.rank))
        # Now and then the nearest one is out of it and the next one ships.
        if len(eligible) > 1 and self.rng.random() < 0.1:
            return eligible[1]
        return eligible[0]

    def _price(self, entry: WorldSku, currency) -> Decimal:
        if currency == "EUR":
            return quantize(entry.sku.price, currency)
        local = float(entry.sku.price) / PRICE_RATES[currency]
        return Decimal(f"{math.floor(local) + 0.99:.2f}")

    def _when(self, status) -> datetime:
        low, high = AGE_DAYS[status]
        if high > 30:
            # More orders recently (the shop grows), spread over the year.
            days = low + (high - low) * self.rng.random() ** 1.2
        else:
            days = self.rng.uniform(low, high)
        moment = self.now - timedelta(days=days)
        if 0 <= moment.hour < 6 and days > 1:  # few orders at night
            moment += timedelta(hours=7)
        return min(moment, self.now - timedelta(minutes=2))

    def _status_for(self, seq) -> str:
        statuses = [s for s, _ in STATUS_WEIGHTS]
        if seq < len(statuses):
            return statuses[seq]  # every status at least once, even in small runs
        return self.rng.choices(statuses, weights=[w for _, w in STATUS_WEIGHTS])[0]

    def _channel_for(self, country, seq):
        rng = self.rng
        if seq == 0:
            code = "web"
        elif country == "US":
            code = rng.choices(["shopify", "ebay", "web"], [40, 35, 25])[0]
        elif country == "GB":
            code = rng.choices(["amazon", "web"], [55, 45])[0]
        elif country == "IE":
            code = rng.choices(["amazon", "web"], [30, 70])[0]
        elif country in ("DE", "AT"):
            code = rng.choices(["web", "pos"], [85, 15])[0]
        else:
            code = "web"
        return self.channels.get(code) or self.channels["web"]

    def _external_id(self, channel, pk) -> str:
        rng = self.rng
        if channel.code == "web":
            return f"{DEMO_WEB_PREFIX}{100000 + pk}"
        if channel.code == "amazon":
            return f"026-{rng.randint(1000000, 9999999)}-{pk:07d}"
        if channel.code == "ebay":
            return f"{rng.randint(10, 27)}-{pk:05d}-{rng.randint(10000, 99999)}"
        if channel.code == "shopify":
            return f"#{1000 + pk}"
        if channel.code == "pos":
            return f"POS-BER-{pk:06d}"
        return f"{channel.code.upper()}-{pk}"

    def _tracking(self, carrier) -> str:
        rng = self.rng
        if carrier == "UPS":
            digits = rng.randint(10**9, 10**10 - 1)
            return f"1Z{rng.randint(100, 999)}E{rng.randint(10, 99)}{digits}"
        if carrier in ("Royal Mail", "An Post"):
            return f"{rng.choice(['TT', 'RS', 'CE'])}{rng.randint(10**8, 10**9 - 1)}GB"
        if not carrier:
            return ""
        return f"00340434{rng.randint(10**11, 10**12 - 1)}"

    def _line(self, entry, quantity, currency, vat) -> dict:
        unit_price = self._price(entry, currency)
        gross = unit_price * quantity
        discount = Decimal(0)
        if self.rng.random() < 0.1:
            discount = quantize(gross * Decimal("0.10"), currency)
        tax = quantize((gross - discount) * vat, currency)
        line = {
            "pk": self._next_line_pk,
            "entry": entry,
            "quantity": quantity,
            "unit_price": unit_price,
            "discount": discount,
            "tax": tax,
            "line_total": gross - discount + tax,
            "source": None,  # ("warehouse", id) | ("supplier", id)
            "open": 0,  # units allocated now
            "shipped": 0,
            "returned": 0,
            "cancelled": 0,
        }
        self._next_line_pk += 1
        return line

    # -- one order --

    def plan_order(self, seq) -> dict:
        rng = self.rng
        status = S.DELIVERED if seq == 0 else self._status_for(seq)
        if status == S.ON_HOLD and self.blocked_customers and rng.random() < 0.25:
            customer, spec = rng.choice(self.blocked_customers)
        elif status == S.ON_HOLD:
            customer, spec = rng.choice(self.customers)
        else:
            customer, spec = rng.choice(self.open_customers)
        country = spec["country"]
        address = dict(spec["address"])
        channel = self._channel_for(country, seq)
        currency = channel.currency
        if channel.code == "web":
            currency = {"GB": "GBP", "US": "USD"}.get(country, "EUR")
        location = self._geocode(country, address["city"])
        vat = Decimal(COUNTRIES[country][7]) if country in COUNTRIES else Decimal("0.20")

        n_lines = rng.choices([1, 2, 3, 4], [45, 30, 17, 8])[0]
        if status in (S.PARTIALLY_SHIPPED, S.PARTIALLY_RETURNED):
            n_lines = max(n_lines, 2)
        chosen = []
        if status == S.BACKORDERED and self.out_of_stock:
            chosen.append(rng.choice(self.out_of_stock))
        attempts = 0
        while len(chosen) < n_lines and attempts < 50:
            attempts += 1
            entry = rng.choices(self.sellable, weights=self.weights)[0]
            if entry not in chosen:
                chosen.append(entry)
        if len(chosen) < 2 and status == S.PARTIALLY_SHIPPED:
            status = S.SHIPPED
        if len(chosen) < 2 and status == S.PARTIALLY_RETURNED:
            status = S.RETURNED
        if status == S.BACKORDERED and not any(e.out_of_stock for e in chosen):
            status = S.ALLOCATED  # nothing is sold out in this catalogue
        high_value = status == S.ON_HOLD and not spec["blocked"] and rng.random() < 0.35
        lines = []
        for index, entry in enumerate(chosen):
            quantity = rng.choices([1, 2, 3], [80, 15, 5])[0]
            if high_value and index == 0:
                quantity = max(quantity, int(2600 / max(float(entry.sku.price), 1)) + 1)
            lines.append(self._line(entry, quantity, currency, vat))

        subtotal = sum((ln["unit_price"] * ln["quantity"] for ln in lines), Decimal(0))
        discount_total = sum((ln["discount"] for ln in lines), Decimal(0))
        tax_total = sum((ln["tax"] for ln in lines), Decimal(0))
        fee, free_from = FREE_SHIPPING.get(currency, ("4.90", "50"))
        shipping = Decimal(fee)
        if channel.code == "pos" or subtotal >= Decimal(free_from):
            shipping = Decimal(0)

        pk = self._next_order_pk
        self._next_order_pk += 1
        placed = self._when(status)
        plan = {
            "pk": pk,
            "number": f"SO-{pk:07d}",
            "status": status,
            "channel": channel,
            "customer": customer,
            "spec": spec,
            "currency": currency,
            "country": country,
            "address": address,
            "billing": dict(address),
            "location": location,
            "placed": placed,
            "created": placed - timedelta(seconds=rng.randint(2, 40)),
            "lines": lines,
            "subtotal": subtotal,
            "discount_total": discount_total,
            "tax_total": tax_total,
            "shipping": shipping,
            "grand_total": subtotal - discount_total + tax_total + shipping,
            "hold_reason": "",
            "routing": {},
            "events": [],
        }
        method, carrier = SHIPPING_METHODS.get(country, ("Standard", "DHL"))
        if channel.code == "pos":
            method, carrier = "Store pickup", ""
        plan["method"], plan["carrier"] = method, carrier
        if status == S.ON_HOLD:
            if spec["blocked"]:
                plan["hold_reason"] = "Customer is blocked."
            elif high_value:
                plan["hold_reason"] = (
                    f"Order total above a threshold: {plan['grand_total']} {currency} > 2000 EUR."
                )
            elif rng.random() < 0.6:
                other = rng.choice([c for c in COUNTRIES if c != country])
                plan["billing"]["country"] = other
                plan["hold_reason"] = (
                    f"Billing country {other} differs from shipping country {country}."
                )
            else:
                plan["hold_reason"] = "Customer asked to change the delivery address."
        self._timeline(plan)
        return plan

    def _timeline(self, plan):
        """What happened to the order: events, allocations, shipments, payment, stock."""
        rng = self.rng
        status, channel, lines = plan["status"], plan["channel"], plan["lines"]
        total = f"{plan['grand_total']} {plan['currency']}"
        own_actor = {
            "web": ("api_key", "api-key:web shop"),
            "pos": ("api_key", "api-key:pos terminal"),
            "api": ("api_key", "api-key:partner"),
        }.get(channel.code, ("system", f"sync:{channel.code}"))
        events = plan["events"]

        def event(at, kind, message="", frm="", to="", details=None, actor=own_actor):
            events.append(
                OrderEvent(
                    order_id=plan["pk"],
                    kind=kind,
                    from_status=frm,
                    to_status=to,
                    message=message[:500],
                    details=details or {},
                    actor_kind=actor[0],
                    actor_label=actor[1],
                    created_at=at,
                )
            )

        def move(at, line, on_hand, allocated, reason, actor, note=""):
            self._movements.append(
                StockMovement(
                    sku_id=line["entry"].sku.pk,
                    warehouse_id=line["source"][1],
                    on_hand_change=on_hand,
                    allocated_change=allocated,
                    reason=reason,
                    reference=f"order:{plan['number']}",
                    note=note,
                    actor_label=actor,
                    created_at=at,
                )
            )

        def in_warehouse(line):
            return line["source"] is not None and line["source"][0] == "warehouse"

        def done(updated, payment):
            last_event = max(e.created_at for e in events)
            plan["updated"] = min(max(updated, last_event), self.now)
            plan["payment"] = payment
            if not self.ship_movements:
                # Only open allocations are in the ledger: receive and allocate them.
                for line in lines:
                    if line["open"] and in_warehouse(line):
                        self._need(line, plan["routed_at"], line["open"])
                        move(
                            plan["routed_at"],
                            line,
                            0,
                            line["open"],
                            MovementReason.ALLOCATION,
                            own_actor[1],
                        )

        created = {
            "lines": len(lines),
            "grand_total": str(plan["grand_total"]),
            "currency": plan["currency"],
        }
        plan["routed_at"] = plan["placed"]
        if status == S.DRAFT:
            plan["external_id"], plan["placed"] = None, None
            event(
                plan["created"],
                Kind.CREATED,
                "Created by support (draft)",
                to=S.DRAFT,
                details=created,
                actor=("user", "support"),
            )
            return done(plan["created"], P.UNPAID)
        plan["external_id"] = self._external_id(channel, plan["pk"])
        event(
            plan["created"],
            Kind.CREATED,
            f"Created from {channel.name} ({plan['external_id']})",
            to=S.DRAFT,
            details=created,
        )
        event(plan["placed"], Kind.STATUS_CHANGED, frm=S.DRAFT, to=S.PENDING)
        t = plan["placed"] + timedelta(seconds=1)
        payment = P.UNPAID
        if channel.code in ("amazon", "ebay", "pos"):
            payment = P.PAID  # marketplaces and the till collect the money themselves
            event(
                t,
                Kind.PAYMENT,
                f"Paid on {channel.name}: {total}",
                details={"amount": str(plan["grand_total"])},
            )
        elif status != S.PENDING:
            payment = P.AUTHORIZED
            event(
                t,
                Kind.PAYMENT,
                f"Payment authorized: {total}",
                details={"amount": str(plan["grand_total"]), "provider": "stripe"},
            )
        if status == S.PENDING:
            return done(t, payment)
        if status == S.ON_HOLD:
            reason = plan["hold_reason"]
            if "asked" in reason:
                event(
                    t + timedelta(minutes=rng.randint(3, 200)),
                    Kind.STATUS_CHANGED,
                    f"Held: {reason}",
                    frm=S.PENDING,
                    to=S.ON_HOLD,
                    actor=("user", "support"),
                )
            else:
                event(
                    t,
                    Kind.STATUS_CHANGED,
                    f"Held by pre-fulfillment checks: {reason}",
                    frm=S.PENDING,
                    to=S.ON_HOLD,
                    actor=("system", "hold-rules"),
                )
            return done(t, payment)

        cancel_at = min(t + timedelta(hours=rng.uniform(0.2, 30)), self.now - timedelta(minutes=1))
        if status == S.CANCELLED and rng.random() < 0.5:  # before it was routed
            for line in lines:
                line["cancelled"] = line["quantity"]
            reason = rng.choice(["customer request", "payment failed", "duplicate order"])
            event(
                cancel_at,
                Kind.STATUS_CHANGED,
                f"Cancelled: {reason}",
                frm=S.PENDING,
                to=S.CANCELLED,
                actor=("user", "support"),
            )
            if payment == P.PAID:
                payment = P.REFUNDED
                event(cancel_at, Kind.PAYMENT, f"Refunded in full: {total}")
            elif payment == P.AUTHORIZED:
                payment = P.UNPAID
                event(cancel_at, Kind.PAYMENT, "Authorization voided")
            return done(cancel_at, payment)

        # Routing.
        lat = plan["location"].latitude if plan["location"] else None
        lon = plan["location"].longitude if plan["location"] else None
        picks, assignments, waiting = defaultdict(int), [], 0
        for line in lines:
            entry = line["entry"]
            if entry.out_of_stock:
                waiting += line["quantity"]
                continue
            warehouse = self._warehouse_for(entry, plan["country"], lat, lon)
            if warehouse is not None:
                line["source"] = ("warehouse", warehouse.pk)
                place = warehouse.code
            else:
                line["source"] = ("supplier", entry.dropship_supplier_id)
                place = f"supplier {entry.sku.supplier.code}"
            picks[place] += line["quantity"]
            assignments.append(
                {
                    "line": line["pk"],
                    "sku_id": entry.sku.pk,
                    "quantity": line["quantity"],
                    "warehouse_id": warehouse.pk if warehouse else None,
                    "supplier_id": None if warehouse else entry.dropship_supplier_id,
                    "warehouse": warehouse.code if warehouse else None,
                }
            )
        rule = "ship_complete" if len(picks) == 1 else "closest"
        explanation = (
            "; ".join(
                f"{units} unit(s) from {place} (decided by "
                f"{'dropship' if place.startswith('supplier') else rule})"
                for place, units in picks.items()
            )
            or f"No warehouse can ship any of the {waiting} units: all backordered"
        )
        if waiting and picks:
            explanation += f"; {waiting} unit(s) backordered"
        plan["routing"] = {
            "decided_by": rule if picks else "backordered",
            "explanation": explanation + ".",
            "picks": [{"warehouse": p, "units": u} for p, u in picks.items()],
            "assignments": assignments,
            "backordered": {str(ln["pk"]): ln["quantity"] for ln in lines if not ln["source"]},
        }
        plan["routed_at"] = t
        event(
            t, Kind.ROUTED, explanation + ".", details=plan["routing"], actor=("system", "routing")
        )
        for line in lines:
            if line["source"]:
                line["open"] = line["quantity"]
                if in_warehouse(line) and self.ship_movements:
                    self._need(line, t, line["quantity"])
                    move(t, line, 0, line["quantity"], MovementReason.ALLOCATION, own_actor[1])
        routed_to = S.BACKORDERED if waiting else S.ALLOCATED
        event(t, Kind.STATUS_CHANGED, frm=S.PENDING, to=routed_to, actor=("system", "routing"))
        if status == S.BACKORDERED:
            return done(t, payment)
        if status == S.ALLOCATED:
            if payment == P.AUTHORIZED and rng.random() < 0.4:
                payment = P.PAID
                event(t + timedelta(minutes=2), Kind.PAYMENT, f"Payment captured: {total}")
            return done(t + timedelta(minutes=2), payment)
        if status == S.CANCELLED:
            released = 0
            for line in lines:
                if in_warehouse(line):
                    released += line["open"]
                    if self.ship_movements:
                        move(
                            cancel_at,
                            line,
                            0,
                            -line["open"],
                            MovementReason.DEALLOCATION,
                            "support",
                        )
                line["open"], line["cancelled"] = 0, line["quantity"]
            message = "Cancelled: customer request"
            if released:
                message += f"; {released} allocated unit(s) returned to stock"
            event(
                cancel_at,
                Kind.STATUS_CHANGED,
                message,
                frm=S.ALLOCATED,
                to=S.CANCELLED,
                actor=("user", "support"),
            )
            if payment == P.PAID:
                payment = P.REFUNDED
                event(cancel_at, Kind.PAYMENT, f"Refunded in full: {total}")
            elif payment == P.AUTHORIZED:
                payment = P.UNPAID
                event(cancel_at, Kind.PAYMENT, "Authorization voided")
            return done(cancel_at, payment)

        # Shipping: everything, or (partially shipped) the first line.
        ship_at = t + timedelta(hours=rng.uniform(3, 40))
        ship_at = min(ship_at, self.now - timedelta(minutes=20))
        shipped = lines[:1] if status == S.PARTIALLY_SHIPPED else lines
        units = 0
        for line in shipped:
            line["shipped"], line["open"] = line["quantity"], 0
            units += line["quantity"]
            if in_warehouse(line) and self.ship_movements:
                move(
                    ship_at,
                    line,
                    -line["quantity"],
                    -line["quantity"],
                    MovementReason.SHIPMENT,
                    "warehouse",
                )
        tracking = self._tracking(plan["carrier"])
        shipped_to = S.PARTIALLY_SHIPPED if status == S.PARTIALLY_SHIPPED else S.SHIPPED
        event(
            ship_at,
            Kind.STATUS_CHANGED,
            f"Shipped {units} unit(s) with {plan['carrier']} {tracking}"
            if tracking
            else f"Shipped {units} unit(s)",
            frm=S.ALLOCATED,
            to=shipped_to,
            actor=("user", "warehouse"),
            details={"units": units, "tracking_number": tracking, "carrier": plan["carrier"]},
        )
        if payment != P.PAID:
            payment = P.PAID
            event(ship_at, Kind.PAYMENT, f"Payment captured: {total}")
        if status in (S.SHIPPED, S.PARTIALLY_SHIPPED):
            return done(ship_at, payment)

        delivered_at = min(ship_at + timedelta(hours=rng.uniform(18, 100)), self.now)
        event(
            delivered_at,
            Kind.STATUS_CHANGED,
            "Delivered",
            frm=S.SHIPPED,
            to=S.DELIVERED,
            actor=("system", "carrier-tracking"),
        )
        if status == S.DELIVERED:
            return done(delivered_at, payment)

        returned_at = min(delivered_at + timedelta(days=rng.uniform(4, 20)), self.now)
        returned = lines if status == S.RETURNED else lines[:1]
        units = 0
        for line in returned:
            line["returned"] = line["quantity"]
            units += line["quantity"]
            if in_warehouse(line) and self.ship_movements:
                move(
                    returned_at,
                    line,
                    line["quantity"],
                    0,
                    MovementReason.RETURN_RESTOCK,
                    "returns-desk",
                    note="Customer return, restocked",
                )
        returned_to = S.RETURNED if status == S.RETURNED else S.PARTIALLY_RETURNED
        event(
            returned_at,
            Kind.STATUS_CHANGED,
            f"Return received: {units} unit(s) restocked",
            frm=S.DELIVERED,
            to=returned_to,
            actor=("user", "warehouse"),
        )
        payment = P.REFUNDED if status == S.RETURNED else P.PARTIALLY_REFUNDED
        refund = sum((ln["line_total"] for ln in returned), Decimal(0))
        event(
            returned_at,
            Kind.PAYMENT,
            f"Refunded {refund} {plan['currency']}",
            actor=("user", "support"),
        )
        return done(returned_at, payment)

    def _need(self, line, at, units):
        """Units the receipts must bring in before ``at`` (so the ledger never goes < 0)."""
        month = at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        self._receipts[(line["entry"].sku.pk, line["source"][1])][month] += units

    # -- writing --

    def _objects(self, plan):
        spec, location = plan["spec"], plan["location"]
        order = Order(
            pk=plan["pk"],
            number=plan["number"],
            channel=plan["channel"],
            external_id=plan["external_id"],
            status=plan["status"],
            payment_status=plan["payment"],
            customer=plan["customer"],
            email=spec["email"],
            currency=plan["currency"],
            subtotal=plan["subtotal"],
            discount_total=plan["discount_total"],
            tax_total=plan["tax_total"],
            shipping_total=plan["shipping"],
            grand_total=plan["grand_total"],
            shipping_address=plan["address"],
            billing_address=plan["billing"],
            ship_to_country=plan["country"],
            ship_to_latitude=location.latitude if location else None,
            ship_to_longitude=location.longitude if location else None,
            shipping_method=plan["method"],
            tags=["gift"] if plan["pk"] % 23 == 0 else [],
            hold_reason=plan["hold_reason"],
            tracking_token=secrets.token_urlsafe(32),
            routing_decision=plan["routing"],
            placed_at=plan["placed"],
            created_at=plan["created"],
            updated_at=plan["updated"],
        )
        lines, allocations = [], []
        for ln in plan["lines"]:
            sku = ln["entry"].sku
            lines.append(
                OrderLine(
                    pk=ln["pk"],
                    order_id=plan["pk"],
                    sku=sku,
                    sku_code=sku.code,
                    name=f"{sku.product.name} {sku.name}"[:200],
                    quantity=ln["quantity"],
                    unit_price=ln["unit_price"],
                    discount_amount=ln["discount"],
                    tax_amount=ln["tax"],
                    line_total=ln["line_total"],
                    quantity_allocated=ln["open"],
                    quantity_shipped=ln["shipped"],
                    quantity_returned=ln["returned"],
                    quantity_cancelled=ln["cancelled"],
                )
            )
            if ln["open"]:
                kind, source_id = ln["source"]
                allocations.append(
                    Allocation(
                        line_id=ln["pk"],
                        warehouse_id=source_id if kind == "warehouse" else None,
                        supplier_id=source_id if kind == "supplier" else None,
                        quantity=ln["open"],
                        created_at=plan["routed_at"],
                    )
                )
        return order, lines, allocations

    def write(self, count: int, *, progress=None) -> Counts:
        """Plan and write ``count`` orders, then the receipts and levels that back them."""
        plans = []
        for seq in range(count):
            plans.append(self.plan_order(seq))
            if len(plans) >= self.batch_size:
                self._flush(plans)
                plans = []
                if progress:
                    progress(self.counts.orders)
        if plans:
            self._flush(plans)
        self._finish()
        return self.counts

    def _flush(self, plans):
        orders, lines, allocations, events = [], [], [], []
        for plan in plans:
            order, order_lines, order_allocations = self._objects(plan)
            orders.append(order)
            lines += order_lines
            allocations += order_allocations
            events += plan["events"]
            self.counts.statuses[plan["status"]] += 1
        with historical_timestamps(Order, OrderEvent, Allocation, StockMovement):
            self.insert(Order, orders)
            self.insert(OrderLine, lines)
            self.insert(Allocation, allocations)
            self.insert(OrderEvent, events)
            self._write_movements(self._movements)
        self._movements = []
        self.counts.orders += len(orders)
        self.counts.lines += len(lines)
        self.counts.allocations += len(allocations)
        self.counts.events += len(events)

    def insert(self, model, objects):
        """Write new rows (timestamps as given). The benchmarks override this with COPY."""
        model.objects.bulk_create(objects, batch_size=500)

    def _write_movements(self, movements):
        for m in movements:
            delta = self._deltas[(m.sku_id, m.warehouse_id)]
            delta[0] += m.on_hand_change
            delta[1] += m.allocated_change
        self.insert(StockMovement, movements)
        self.counts.movements += len(movements)

    def _finish(self):
        """Receipts for opening stock and for everything the history allocated, then the
        levels: new ones are the sums of their rows, existing ones grow by the same sums."""
        opening = self.now - timedelta(days=372)
        codes = {w.pk: w.code.upper() for w in self.warehouses}
        receipts = []

        def receipt(sku_id, wh_id, units, at, reference, note):
            receipts.append(
                StockMovement(
                    sku_id=sku_id,
                    warehouse_id=wh_id,
                    on_hand_change=units,
                    reason=MovementReason.RECEIPT,
                    reference=reference,
                    note=note,
                    actor_label="goods-in",
                    created_at=at,
                )
            )

        for (sku_id, wh_id), (free, _) in self.new_levels.items():
            if free and (sku_id, wh_id) not in self._existing_levels:
                receipt(sku_id, wh_id, free, opening, f"PO-OPEN-{codes[wh_id]}", "Opening stock")
        for (sku_id, wh_id), months in sorted(self._receipts.items()):
            for month, units in sorted(months.items()):
                if units > 0:
                    receipt(
                        sku_id,
                        wh_id,
                        units,
                        month,
                        f"PO-{month:%Y%m}-{codes[wh_id]}",
                        "Supplier delivery",
                    )
        with historical_timestamps(StockMovement):
            self._write_movements(receipts)

        bins = defaultdict(list)
        for b in Bin.objects.filter(warehouse__in=list(self.warehouse_by_id)).order_by(
            "pick_sequence"
        ):
            bins[b.warehouse_id].append(b.pk)
        new = []
        for index, ((sku_id, wh_id), (_, safety)) in enumerate(self.new_levels.items()):
            if (sku_id, wh_id) in self._existing_levels:
                continue
            on_hand, allocated = self._deltas.pop((sku_id, wh_id), (0, 0))
            wh_bins = bins.get(wh_id)
            new.append(
                StockLevel(
                    sku_id=sku_id,
                    warehouse_id=wh_id,
                    bin_id=wh_bins[index % len(wh_bins)] if wh_bins else None,
                    on_hand=on_hand,
                    allocated=allocated,
                    safety_stock=safety,
                )
            )
        StockLevel.objects.bulk_create(new, batch_size=1000)
        self.counts.levels += len(new)
        for (sku_id, wh_id), (on_hand, allocated) in self._deltas.items():
            if on_hand or allocated:
                StockLevel.objects.filter(sku_id=sku_id, warehouse_id=wh_id).update(
                    on_hand=F("on_hand") + on_hand,
                    allocated=F("allocated") + allocated,
                    updated_at=self.now,
                )
        self._deltas.clear()
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [Order, OrderLine]):
                cursor.execute(sql)


# --- Entry points --------------------------------------------------------------------------


def demo_loaded() -> bool:
    return Order.objects.filter(
        channel__code="web", external_id__startswith=DEMO_WEB_PREFIX
    ).exists()


def load_world(*, skus: int = 200, customers: int = 600, seed: int = 7, now=None):
    """The reference data (idempotent). Returns what ``HistoryWriter`` needs."""
    now = now or timezone.now()
    rng = random.Random(seed)
    warehouses = ensure_warehouses()
    suppliers = ensure_suppliers()
    catalogue = ensure_catalogue(skus, suppliers, rng)
    channels = ensure_channels()
    people = ensure_customers(customers, now)
    rates = ensure_exchange_rates(timezone.localdate(now))
    ensure_hold_rules()
    return {
        "warehouses": warehouses,
        "skus": catalogue,
        "channels": channels,
        "customers": people,
        "rates": rates,
    }


class Command(BaseCommand):
    help = "Load the demo shop (idempotent: a second run only makes sure the demo users exist)."

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=2000, help="Historical orders.")
        parser.add_argument("--skus", type=int, default=200, help="SKUs in the catalogue.")
        parser.add_argument("--customers", type=int, default=600, help="Customers.")
        parser.add_argument("--seed", type=int, default=7, help="Random seed.")

    def handle(self, *args, orders, skus, customers, seed, **options):
        started = time.monotonic()
        if orders < 0 or skus < 1 or customers < 1:
            raise CommandError("--orders must be >= 0, --skus and --customers >= 1.")
        if demo_loaded():
            users = ensure_users()
            key = ensure_api_key()
            extra = f", {users} demo user(s) created" if users else ""
            extra += ", new demo API key written" if key else ""
            self.stdout.write(
                f"Demo data already loaded{extra} ({time.monotonic() - started:.1f} s)."
            )
            return
        now = timezone.now()
        with transaction.atomic():
            world = load_world(skus=skus, customers=customers, seed=seed, now=now)
            writer = HistoryWriter(
                warehouses=world["warehouses"],
                skus=world["skus"],
                channels=world["channels"],
                customers=world["customers"],
                now=now,
                seed=seed,
                ship_movements=True,
            )
            counts = writer.write(orders)
            users = ensure_users()
            key = ensure_api_key()
        self.stdout.write(
            f"Demo loaded: {len(world['warehouses'])} warehouses, {len(world['skus'])} SKUs, "
            f"{len(world['channels'])} channels, {len(world['customers'])} customers, "
            f"{counts.orders} orders ({counts.lines} lines, {counts.events} events, "
            f"{len(counts.statuses)} statuses), {counts.levels} stock levels, "
            f"{counts.movements} ledger rows, {world['rates']} exchange rates, {users} users"
            + (f", API key in {settings.VAR_DIR / API_KEY_FILE}" if key else "")
            + f" in {time.monotonic() - started:.1f} s."
        )
