"""``manage.py load_demo``: the demo shop, loaded in seconds and idempotent.

``make run`` calls this on every start. Every scenario in ``demo.scenarios.SCENARIOS``
runs, in order, in one transaction; each adds only what is missing (a scenario added by a
later version of the product loads into an existing demo database too). Then the demo
users and the demo API key file are made sure of.
"""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from demo.reference_data import API_KEY_FILE
from demo.scenarios import SCENARIOS
from demo.scenarios.context import DemoContext
from demo.world import ensure_api_key, ensure_users


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
        context = DemoContext(
            now=timezone.now(), seed=seed, orders=orders, skus=skus, customers=customers
        )
        summaries = []
        with transaction.atomic():
            for scenario in SCENARIOS:
                summary = scenario.load(context)
                if summary:
                    summaries.append(summary)
            users = ensure_users()
            key = ensure_api_key()
        took = f"{time.monotonic() - started:.1f} s"
        if not summaries:
            extra = f", {users} demo user(s) created" if users else ""
            extra += ", new demo API key written" if key else ""
            self.stdout.write(f"Demo data already loaded{extra} ({took}).")
            return
        summaries.append(f"{users} users")
        if key:
            summaries.append(f"API key in {settings.VAR_DIR / API_KEY_FILE}")
        self.stdout.write("Demo loaded: " + "; ".join(summaries) + f" in {took}.")
