"""Settings for the test suite: the base settings with what tests need changed."""

import os
from pathlib import Path

# The suite runs without DEBUG (as production does) and needs no secret of its own.
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-" + "x" * 20)

from .settings import *  # noqa: E402, F403
from .settings import VAR_DIR, env, filesystem_broker_options  # noqa: E402

# A fixed credentials key: tests store and read encrypted marketplace credentials.
if not OMS_CREDENTIALS_KEYS and not OMS_CREDENTIALS_KEY_FILE:  # noqa: F405
    OMS_CREDENTIALS_KEYS = ["dGVzdC1vbmx5LWNyZWRlbnRpYWxzLWtleS0zMmJ5dGU="]
OMS_STOCK_PUSH_DEBOUNCE_SECONDS = 0

# Tests create many users; a slow password hash would dominate the suite's time.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Tests get their own queue folder so they never meet a running `make run`'s messages.
CELERY_FILESYSTEM_DIR = Path(env.str("CELERY_FILESYSTEM_DIR", default=str(VAR_DIR / "test-celery")))
if CELERY_BROKER_URL.startswith("filesystem://"):  # noqa: F405
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(CELERY_FILESYSTEM_DIR)
