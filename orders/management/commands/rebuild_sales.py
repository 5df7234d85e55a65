"""``manage.py rebuild_sales [--days N | --all]``: recompute the home page's sales rollup
from the orders (after a bulk load, or a change of the base currency)."""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db.models import Min
from django.utils import timezone

from orders.models import Order
from orders.services.reporting import rebuild_sales


class Command(BaseCommand):
    help = "Recompute the sales rollup (HourlySales) from the orders."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=60, help="Days back from today.")
        parser.add_argument("--all", action="store_true", help="Every day with orders.")

    def handle(self, *args, days, all, **options):
        today = timezone.localdate()
        first = today - timedelta(days=days)
        if all:
            oldest = Order.objects.aggregate(first=Min("placed_at"))["first"]
            first = timezone.localdate(oldest) if oldest else today
        rows = rebuild_sales(first=first, last=today)
        self.stdout.write(f"Sales rollup rebuilt from {first} to {today}: {rows} rows written.")
