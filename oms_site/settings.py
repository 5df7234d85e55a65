"""Settings, read from the environment.

With no environment set, the embedded default serves: SQLite and Celery's filesystem
transport, both under ``var/``, so ``make run`` needs no server. Production sets
``DATABASE_URL`` (PostgreSQL), ``CELERY_BROKER_URL`` (Redis or RabbitMQ), ``SECRET_KEY``,
``DEBUG=false`` and ``ALLOWED_HOSTS``.
"""

from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("OMS_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)
(VAR_DIR / "static").mkdir(exist_ok=True)

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
# The key comes from SECRET_KEY, or from the file SECRET_KEY_FILE names, or from
# var/secret-key (which `make` creates). Only DEBUG may fall back to a development key.
SECRET_KEY = env.str("SECRET_KEY", default="")
_key_file = env.str("SECRET_KEY_FILE", default="") or (
    str(VAR_DIR / "secret-key") if (VAR_DIR / "secret-key").exists() else ""
)
if not SECRET_KEY and _key_file:
    SECRET_KEY = Path(_key_file).read_text().strip()
if not SECRET_KEY:
    if not DEBUG:
        raise environ.ImproperlyConfigured(
            "Set SECRET_KEY (or SECRET_KEY_FILE) to a long random value; only DEBUG=true "
            "runs without one."
        )
    # The "django-insecure-" prefix makes `check --deploy` flag it.
    SECRET_KEY = "django-insecure-development-key-set-SECRET_KEY-in-production-0123456789"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework_api_key",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_countries",
    "oms_site",
    "inventory",
    "inventory.forecasting",
    "orders",
    "fulfillment",
    "marketplaces",
    "returns",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language: the browser's (Accept-Language) or the cookie the switcher sets...
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # ...unless the logged-in user chose one: their preference wins.
    "oms_site.i18n.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "oms_site.urls"
WSGI_APPLICATION = "oms_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "oms_site.roles.role_context",
                "oms_site.i18n.language_context",
            ],
        },
    },
]

# The demo shop: "eu" (Berlin, EUR) or "norway" (Oslo, NOK, MVA, Norwegian first); each
# has a database file of its own on the embedded default, so both can be tried.
OMS_DEMO_SHOP = env.str("OMS_DEMO_SHOP", default="eu")
if OMS_DEMO_SHOP not in ("eu", "norway"):
    raise environ.ImproperlyConfigured('OMS_DEMO_SHOP must be "eu" or "norway".')
_SQLITE_FILE = "oms-norway.sqlite3" if OMS_DEMO_SHOP == "norway" else "oms.sqlite3"
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / _SQLITE_FILE}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web app, worker and beat read while one of them writes; the busy
    # timeout makes a writer wait for the lock instead of failing at once.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# The dashboard speaks English and Norwegian Bokmål. Catalogues live beside each app
# (``<app>/locale/nb/LC_MESSAGES/django.po``) and in ``locale/`` for the project templates;
# ``make`` compiles them to .mo with Babel (no system gettext needed).
LANGUAGE_CODE = "nb" if OMS_DEMO_SHOP == "norway" else "en"
LANGUAGES = [("en", "English"), ("nb", "Norsk bokmål")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "oms_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "oms_site" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Tests and `make run` serve static files straight from the app folders.
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=True)
WHITENOISE_AUTOREFRESH = DEBUG

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="oms@localhost")

# Security: on by default when DEBUG is off (check --deploy stays quiet).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG and SECURE_SSL_REDIRECT)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG and SECURE_SSL_REDIRECT)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- OMS ---------------------------------------------------------------------------------
OMS_BASE_CURRENCY = env.str(
    "OMS_BASE_CURRENCY", default="NOK" if OMS_DEMO_SHOP == "norway" else "EUR"
)
# Largest accepted API request body; larger ones are refused with 413 before parsing.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("OMS_MAX_REQUEST_BYTES", default=1024 * 1024)
OMS_MAX_ORDER_LINES = env.int("OMS_MAX_ORDER_LINES", default=500)
# The garbage collector's first-generation threshold in gunicorn and Celery workers, which
# also freeze their start-up objects (oms_site/gc_tuning.py); 0 keeps Python's defaults.
OMS_GC_THRESHOLD = env.int("OMS_GC_THRESHOLD", default=20_000)
# Grouped API placement (orders/services/grouped_placement.py): how long the request that
# places a batch waits for the other requests this process is serving to join it; 0 never
# waits.
OMS_PLACEMENT_GROUP_WAIT_MS = env.int("OMS_PLACEMENT_GROUP_WAIT_MS", default=20)
OMS_RESERVATION_DEFAULT_MINUTES = env.int("OMS_RESERVATION_DEFAULT_MINUTES", default=15)
OMS_WEBHOOK_MAX_ATTEMPTS = env.int("OMS_WEBHOOK_MAX_ATTEMPTS", default=8)
OMS_WEBHOOK_TIMEOUT_SECONDS = env.float("OMS_WEBHOOK_TIMEOUT_SECONDS", default=10.0)
# Allow webhook URLs on loopback/private networks (an ERP on the LAN; the test stubs).
OMS_WEBHOOK_ALLOW_PRIVATE = env.bool("OMS_WEBHOOK_ALLOW_PRIVATE", default=False)
# The address customers reach the app at (links in e-mails to the tracking page).
OMS_PUBLIC_URL = env.str("OMS_PUBLIC_URL", default="http://127.0.0.1:8000")
# Carriers are asked about shipments underway that were not checked for this long.
OMS_TRACKING_POLL_MINUTES = env.int("OMS_TRACKING_POLL_MINUTES", default=30)
# Bring's API address for accounts without their own (empty: Bring's production API).
# `make run` sets it to its local Bring sandbox.
OMS_BRING_BASE_URL = env.str("OMS_BRING_BASE_URL", default="")
# Vipps MobilePay ePayment API: credentials from the environment only (never the database).
OMS_VIPPS = {
    "base_url": env.str("OMS_VIPPS_BASE_URL", default="").rstrip("/"),
    "client_id": env.str("OMS_VIPPS_CLIENT_ID", default=""),
    "client_secret": env.str("OMS_VIPPS_CLIENT_SECRET", default=""),
    "subscription_key": env.str("OMS_VIPPS_SUBSCRIPTION_KEY", default=""),
    "msn": env.str("OMS_VIPPS_MSN", default=""),
    "webhook_secret": env.str("OMS_VIPPS_WEBHOOK_SECRET", default=""),
    "timeout": env.float("OMS_VIPPS_TIMEOUT_SECONDS", default=10.0),
}
# Unknown payment outcomes (timeouts, 5xx) are asked again with the same idempotency key.
OMS_PAYMENT_RETRY_SECONDS = env.int("OMS_PAYMENT_RETRY_SECONDS", default=60)
OMS_PAYMENT_MAX_ATTEMPTS = env.int("OMS_PAYMENT_MAX_ATTEMPTS", default=20)

# Secrets of outside systems (marketplace credentials) are encrypted with these Fernet
# keys, newest first (see oms_site/encryption.py); `make` keeps one in var/credentials-key.
OMS_CREDENTIALS_KEYS = env.list("OMS_CREDENTIALS_KEYS", default=[])
OMS_CREDENTIALS_KEY_FILE = env.str("OMS_CREDENTIALS_KEY_FILE", default="")
# Marketplace sync: how long a stock change waits for more changes of the same SKU before
# it is pushed (seconds), and how often beat looks for channels due a sync.
OMS_STOCK_PUSH_DEBOUNCE_SECONDS = env.float("OMS_STOCK_PUSH_DEBOUNCE_SECONDS", default=10.0)
OMS_MARKETPLACE_HTTP_TIMEOUT_SECONDS = env.float(
    "OMS_MARKETPLACE_HTTP_TIMEOUT_SECONDS", default=30.0
)

# --- REST API ----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "oms_site.api_auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "oms_site.api_schema.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "oms_site.api_pagination.CreatedCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["oms_site.api_filters.FilterBackend"],
    "EXCEPTION_HANDLER": "oms_site.api_errors.exception_handler",
    # JSON in, JSON out: other request bodies get 415, other Accept headers 406.
    "DEFAULT_PARSER_CLASSES": ["oms_site.api_parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
API_KEY_CUSTOM_HEADER = None

SPECTACULAR_SETTINGS = {
    "TITLE": "OMS API",
    "DESCRIPTION": "Order management system: orders, stock, routing, webhooks.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Refunds and payment transactions share one outcome machine: one enum.
    "ENUM_NAME_OVERRIDES": {
        "MoneyOutcomeEnum": "orders.payments.models.TransactionStatus",
        "ReturnReasonEnum": "returns.models.ReturnReason",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "oms_site.api_schema.add_links",
    ],
}

# --- Celery ------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_FILESYSTEM_DIR = Path(env.str("CELERY_FILESYSTEM_DIR", default=str(VAR_DIR / "celery")))


def filesystem_broker_options(folder: Path) -> dict:
    """Celery's filesystem transport: one folder of message files, made if missing."""
    for sub in ("queue", "processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return {
        "control_folder": str(folder / "control"),
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        "store_processed": False,
    }


if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(CELERY_FILESYSTEM_DIR)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "oms_site.tasks.deliver_webhook": {"queue": "webhooks"},
    "oms_site.tasks.deliver_webhooks": {"queue": "webhooks"},
    "oms_site.tasks.dispatch_due_webhooks": {"queue": "webhooks"},
    "forecasting.tasks.*": {"queue": "forecast"},
    "marketplaces.tasks.*": {"queue": "sync"},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "release-expired-reservations": {
        "task": "inventory.tasks.release_expired_reservations",
        "schedule": 60.0,
    },
    "dispatch-due-webhooks": {"task": "oms_site.tasks.dispatch_due_webhooks", "schedule": 30.0},
    "allocate-backorders": {"task": "orders.tasks.allocate_backorders", "schedule": 300.0},
    "poll-carrier-tracking": {"task": "fulfillment.tasks.poll_due_tracking", "schedule": 300.0},
    # Keeps the order list's counts a sum over a few rows (orders.services.status_counts).
    "compact-order-status-counts": {
        "task": "orders.tasks.compact_status_counts",
        "schedule": 10.0,
    },
    "resume-bulk-jobs": {"task": "orders.tasks.resume_bulk_jobs", "schedule": 60.0},
    "reconcile-sales-rollup": {
        "task": "orders.tasks.reconcile_sales_rollup",
        "schedule": 3600.0,
    },
    # Forecasts use complete days: the nightly run starts after midnight (TIME_ZONE).
    "nightly-forecast": {
        "task": "forecasting.tasks.nightly_forecast",
        "schedule": crontab(
            hour=env.int("OMS_FORECAST_HOUR", default=2),
            minute=env.int("OMS_FORECAST_MINUTE", default=15),
        ),
    },
    "resume-stalled-forecast-batches": {
        "task": "forecasting.tasks.resume_stalled_batches",
        "schedule": 300.0,
    },
    # Each marketplace channel has its own interval; this only looks for the ones due.
    "sync-due-marketplaces": {"task": "marketplaces.tasks.sync_due_channels", "schedule": 15.0},
    "push-due-marketplace-stock": {"task": "marketplaces.tasks.push_due_stock", "schedule": 10.0},
    "retry-due-marketplace-pushes": {
        "task": "marketplaces.tasks.retry_due_pushes",
        "schedule": 60.0,
    },
    "retry-pending-payments": {
        "task": "orders.tasks.retry_pending_transactions",
        "schedule": 60.0,
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
