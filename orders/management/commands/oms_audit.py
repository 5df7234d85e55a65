"""manage.py oms_audit: recompute stock from the ledger and allocations; exit 1 on any
mismatch, printing each one."""

import sys

from django.core.management.base import BaseCommand

from orders.audit import audit_stock


class Command(BaseCommand):
    help = "Check every stock level against the ledger and open allocations."

    def handle(self, *args, **options):
        mismatches = audit_stock()
        for mismatch in mismatches:
            self.stdout.write(f"MISMATCH {mismatch}")
        if mismatches:
            self.stderr.write(f"{len(mismatches)} mismatch(es) found.")
            sys.exit(1)
        self.stdout.write("Stock audit clean: every level equals its ledger and allocations.")
