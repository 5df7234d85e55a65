"""Secrets at rest: marketplace credentials and other outside systems' keys.

Values are encrypted with Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) under
keys that come from the environment, never from the database:

- ``OMS_CREDENTIALS_KEYS``: comma-separated Fernet keys, newest first; or
- ``OMS_CREDENTIALS_KEY_FILE``: a file with one key per line, newest first (``make``
  keeps one in ``var/credentials-key``).

Several keys make a ``MultiFernet``: the first encrypts, every one decrypts. To rotate the
key, put a new key first, restart, and run ``manage.py rotate_credentials_key`` (it
re-encrypts every stored secret under the new key); then the old key can be dropped.
"""

import json
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


class SecretUnreadable(Exception):
    """A stored secret could not be decrypted with any configured key."""


def configured_keys() -> list[str]:
    keys = [k.strip() for k in getattr(settings, "OMS_CREDENTIALS_KEYS", []) if k.strip()]
    key_file = getattr(settings, "OMS_CREDENTIALS_KEY_FILE", "")
    if not keys and key_file and Path(key_file).exists():
        keys = [line.strip() for line in Path(key_file).read_text().splitlines() if line.strip()]
    return keys


@lru_cache(maxsize=4)
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            f"OMS_CREDENTIALS_KEYS holds a value that is not a Fernet key ({exc})."
        ) from exc


def fernet() -> MultiFernet:
    keys = tuple(configured_keys())
    if not keys:
        raise ImproperlyConfigured(
            "No credentials key: set OMS_CREDENTIALS_KEYS (or OMS_CREDENTIALS_KEY_FILE) to a "
            "Fernet key, e.g. the output of "
            "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key())'`."
        )
    return _fernet_for(keys)


def encrypt_json(value: dict) -> str:
    return fernet().encrypt(json.dumps(value, sort_keys=True).encode()).decode()


def decrypt_json(token: str) -> dict:
    try:
        return json.loads(fernet().decrypt(token.encode()))
    except InvalidToken as exc:
        raise SecretUnreadable(
            "A stored secret can't be decrypted with the configured keys (was the key changed "
            "without keeping the old one in OMS_CREDENTIALS_KEYS?)."
        ) from exc


def reencrypt(token: str) -> str:
    """The same secret under the newest key (MultiFernet.rotate)."""
    try:
        return fernet().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable(
            "A stored secret can't be decrypted with the configured keys."
        ) from exc


def mask(value) -> str:
    """What a page may show of a secret: its length class and last four characters."""
    text = "" if value is None else str(value)
    if not text:
        return ""
    if len(text) <= 8:
        return "••••"
    return "••••" + text[-4:]


class EncryptedJSONField(models.TextField):
    """A dict stored as a Fernet token. Reads give the dict back; a wrong key raises
    ``SecretUnreadable`` when the value is used, not when the row is loaded elsewhere."""

    description = "Encrypted JSON"

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return {}
        return decrypt_json(value)

    def to_python(self, value):
        if isinstance(value, dict) or value is None:
            return value or {}
        return decrypt_json(value)

    def get_prep_value(self, value):
        if value in (None, "", {}):
            return ""
        return encrypt_json(value)
