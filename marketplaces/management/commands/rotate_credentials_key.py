"""``manage.py rotate_credentials_key``: re-encrypt stored secrets under the newest key.

Put the new Fernet key first in OMS_CREDENTIALS_KEYS (keep the old one after it), run
this, then the old key may be removed."""

from django.core.management.base import BaseCommand

from marketplaces.services.connections import reencrypt_all


class Command(BaseCommand):
    help = "Re-encrypt every marketplace credential under the first OMS_CREDENTIALS_KEYS key."

    def handle(self, *args, **options):
        count = reencrypt_all()
        self.stdout.write(f"Re-encrypted the credentials of {count} connection(s).")
