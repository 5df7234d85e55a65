"""manage.py oms_audit: run every audit — stock against the ledger and allocations, money
against the payment ledger, document numbers, returns — and exit 1 on any problem,
printing each one."""

import sys

from django.core.management.base import BaseCommand

from orders.audit import AUDITS, run_audits


class Command(BaseCommand):
    help = "Check stock, money, documents and returns against their ledgers."

    def handle(self, *args, **options):
        problems = run_audits()
        for problem in problems:
            self.stdout.write(f"MISMATCH {problem}")
        if problems:
            self.stderr.write(f"{len(problems)} problem(s) found.")
            sys.exit(1)
        self.stdout.write(f"Audit clean: {', '.join(AUDITS)}.")
