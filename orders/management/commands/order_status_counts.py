"""manage.py order_status_counts: fold, check or rebuild the order counters per status.

- no option: fold the pending deltas and print the counts (what the order list shows);
- ``--check``: also count the orders table and compare; exit 1 on any difference;
- ``--rebuild``: count the orders table and restart the counters from it (writers of
  orders wait meanwhile) — after a bulk load that ran with the triggers disabled.
"""

import sys

from django.core.management.base import BaseCommand

from orders.services import status_counts


class Command(BaseCommand):
    help = "Fold, check (--check) or rebuild (--rebuild) the order counts per status."

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--check", action="store_true", help="compare with a real count")
        group.add_argument("--rebuild", action="store_true", help="recount the orders table")

    def handle(self, *args, check=False, rebuild=False, **options):
        if rebuild:
            status_counts.rebuild()
            self.stdout.write("Counters rebuilt from the orders table.")
        else:
            folded = status_counts.compact()
            self.stdout.write(f"Folded {folded} delta row(s).")
        counts = status_counts.current()
        for status, n in counts.items():
            self.stdout.write(f"{status:<20} {n:>12,}")
        if check:
            real = status_counts.table_counts()
            wrong = {s: (counts[s], real[s]) for s in real if counts.get(s) != real[s]}
            for status, (counted, actual) in wrong.items():
                self.stdout.write(f"MISMATCH {status}: counter {counted}, table {actual}")
            if wrong:
                self.stderr.write(f"{len(wrong)} status(es) differ.")
                sys.exit(1)
            self.stdout.write("Counters equal the orders table.")
