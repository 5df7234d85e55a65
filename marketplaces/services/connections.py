"""Marketplace connections: their credentials (encrypted, shown masked, rotated from the
page) and the listings whose stock is pushed."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..connectors import tokens
from ..models import MarketplaceConnection

# Per marketplace: (key, label) of each secret the connection needs.
CREDENTIAL_FIELDS = {
    "amazon": [
        ("client_id", _("LWA client id")),
        ("client_secret", _("LWA client secret")),
        ("refresh_token", _("LWA refresh token")),
    ],
    "ebay": [
        ("client_id", _("App id (client id)")),
        ("client_secret", _("Cert id (client secret)")),
        ("refresh_token", _("User refresh token")),
    ],
    "shopify": [
        ("access_token", _("Admin API access token")),
        ("client_secret", _("App client secret (verifies webhooks)")),
    ],
    "aliexpress": [
        ("app_key", _("App key")),
        ("app_secret", _("App secret")),
        ("access_token", _("Seller access token (session)")),
    ],
}


def credential_fields(kind: str) -> list[tuple[str, str]]:
    return CREDENTIAL_FIELDS.get(kind, [])


@transaction.atomic
def rotate_credentials(connection: MarketplaceConnection, *, values: dict) -> MarketplaceConnection:
    """Store new secrets (a blank value keeps the current one) and drop the cached access
    token, so the next call authenticates with the new ones."""
    connection = MarketplaceConnection.objects.select_for_update(of=("self",)).get(pk=connection.pk)
    current = dict(connection.credentials)
    for key, _label in credential_fields(connection.channel.kind):
        value = (values.get(key) or "").strip()
        if value:
            current[key] = value
    connection.credentials = current
    connection.token_cache = {}
    connection.credentials_rotated_at = timezone.now()
    connection.save(update_fields=["credentials", "token_cache", "credentials_rotated_at"])
    transaction.on_commit(lambda: tokens.forget(connection.pk))
    return connection


@transaction.atomic
def reencrypt_all() -> int:
    """Re-encrypt every stored secret under the newest key (after adding a key)."""
    count = 0
    for connection in MarketplaceConnection.objects.select_for_update(of=("self",)):
        connection.save(update_fields=["credentials", "token_cache"])
        count += 1
    return count
