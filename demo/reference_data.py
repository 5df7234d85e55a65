"""The demo shop's fixed data: places, channels, users, catalogue, customers' countries."""

from decimal import Decimal

from oms_site.roles import Role
from orders.models import HoldRule, OrderStatus, SalesChannel

S = OrderStatus


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
    ("aliexpress", "AliExpress store", SalesChannel.Kind.ALIEXPRESS, "USD"),
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

# Thresholds in the base currency.
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

# --- Marketplaces ------------------------------------------------------------------------

# The demo's marketplace channels talk to local sandboxes (`make run` starts them on these
# ports, read back from each connection's URL). The secrets are the sandboxes' own.
SANDBOX_HOST = "127.0.0.1"
MARKETPLACE_SANDBOXES = {
    "amazon": {
        "port": 8411,
        "credentials": {
            "client_id": "amzn1.application-oa2-client.demo",
            "client_secret": "demo-lwa-client-secret",
            "refresh_token": "Atzr|demo-refresh-token",
        },
        "options": {
            "seller_id": "A2DEMOSELLER",
            "marketplace_ids": ["A1F83G8C2ARO7P"],
            "country": "GB",
            "prices_include_tax": True,
            "product_type": "PRODUCT",
        },
    },
    "ebay": {
        "port": 8412,
        "credentials": {
            "client_id": "OMSDemo-app-PRD-0123456789",
            "client_secret": "PRD-demo-cert-secret",
            "refresh_token": "v^1.1#i^1#demo-refresh",
        },
        "options": {"country": "US"},
    },
    "shopify": {
        "port": 8413,
        "credentials": {
            "access_token": "shpat_demo_0123456789abcdef",
            "client_secret": "shpss_demo_webhook_secret",
        },
        "options": {"location_id": "gid://shopify/Location/1", "country": "US"},
    },
    "aliexpress": {
        "port": 8414,
        "credentials": {
            "app_key": "500321",
            "app_secret": "demo-aliexpress-app-secret",
            "access_token": "50000demo-session",
        },
        "options": {"time_zone": "America/Los_Angeles", "country": "US"},
    },
}
# How many SKUs of the catalogue each marketplace lists (the first N with stock).
LISTED_SKUS = 40

# Where the web shop's customers pay in their own currency (else the channel's currency is
# EUR) and where the shop has a till (POS orders in the history).
WEB_CURRENCY_BY_COUNTRY = {"GB": "GBP", "US": "USD"}
POS_COUNTRIES = ("DE", "AT")
# The demo users' saved language ("": the browser's).
DEMO_USER_LANGUAGE = ""
# Warehouses the demo warehouse user works in.
WAREHOUSE_USER_WAREHOUSES = ["ber"]
# The warehouses that stock (part of) the whole range for the European customers.
HOME_WAREHOUSES = ("ber", "lyo")


# --- The demo shop based in Norway (OMS_DEMO_SHOP=norway) ---------------------------------
# Same catalogue and warehouses plus Oslo, which ships the Nordic countries; the web shop
# and the till sell in NOK, most customers are Norwegian, Norwegian MVA applies, the base
# currency is NOK (settings follow OMS_DEMO_SHOP) and the rates are kroner per unit.

OSLO = {
    "code": "osl",
    "name": "Oslo lager Alnabru",
    "address_line1": "Nedre Kalbakkvei 88",
    "city": "Oslo",
    "postal_code": "1081",
    "country": "NO",
    "latitude": 59.9297,
    "longitude": 10.8445,
    "rank": 5,
    "ships_to_countries": ["NO", "SE", "DK", "FI"],
    "cutoff": (15, 0),
}
# fmt: off
NORWEGIANS = (
    60,
    "Jakob Emil Noah Oliver Filip William Lucas Liam Nora Emma Ella Maja Olivia Sofie "
    "Ingrid Kari Ola Sigrid Astrid Håkon",
    "Hansen Johansen Olsen Larsen Andersen Pedersen Nilsen Kristiansen Jensen Karlsen "
    "Johnsen Pettersen Eriksen Berg Haugen Hagen Johannessen Dahl",
    ["Storgata", "Kirkegata", "Skolegata", "Parkveien", "Strandveien", "Fjordveien",
     "Bjørkeveien", "Solveien", "Granveien", "Sjøgata"],
    [("Oslo", "0150", ""), ("Bergen", "5003", ""), ("Trondheim", "7011", ""),
     ("Stavanger", "4006", ""), ("Kristiansand", "4611", ""), ("Tromsø", "9008", ""),
     ("Drammen", "3015", ""), ("Fredrikstad", "1606", ""), ("Bodø", "8006", ""),
     ("Ålesund", "6002", "")],
    "num_last", "+47", "0.25",
)
# fmt: on
NOK_PER_UNIT = {"EUR": 11.7, "GBP": 13.7, "USD": 10.8, "CHF": 12.3, "PLN": 2.72, "SEK": 1.0}


def _norway() -> bool:
    from django.conf import settings

    return getattr(settings, "OMS_DEMO_SHOP", "eu") == "norway"


if _norway():
    WAREHOUSES = [OSLO, *WAREHOUSES]
    CHANNELS = [
        ("web", "Nettbutikk", SalesChannel.Kind.WEB, "NOK"),
        ("pos", "Oslo-butikken (POS)", SalesChannel.Kind.POS, "NOK"),
        *[c for c in CHANNELS if c[0] not in ("web", "pos", "api")],
        ("api", "Partner API", SalesChannel.Kind.API, "NOK"),
    ]
    RATE_CENTRES = NOK_PER_UNIT
    COUNTRIES = {
        "NO": NORWEGIANS,
        **{code: (max(1, spec[0] // 4), *spec[1:]) for code, spec in COUNTRIES.items()},
    }
    SHIPPING_METHODS = {**SHIPPING_METHODS, "NO": ("Bring Pakke til hentested", "Bring")}
    FREE_SHIPPING = {**FREE_SHIPPING, "NOK": ("69.00", "699")}
    PRICE_RATES = {**PRICE_RATES, "NOK": 1 / NOK_PER_UNIT["EUR"]}
    WEB_CURRENCY_BY_COUNTRY = {**WEB_CURRENCY_BY_COUNTRY, "NO": "NOK"}
    POS_COUNTRIES = ("NO",)
    WAREHOUSE_USER_WAREHOUSES = ["osl", "ber"]
    DEMO_USER_LANGUAGE = "nb"
    HOME_WAREHOUSES = ("osl", "ber", "lyo")
    HOLD_RULES = [
        (kind, on, threshold * 10 if kind == HoldRule.Kind.HIGH_VALUE else threshold)
        for kind, on, threshold in HOLD_RULES
    ]

HIGH_VALUE_THRESHOLD = next(t for k, _on, t in HOLD_RULES if k == HoldRule.Kind.HIGH_VALUE)
