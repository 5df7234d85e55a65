"""Reads for the health pages: per channel, how the sync is doing."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Q, Sum
from django.utils import timezone

from .models import (
    MarketplaceConnection,
    MarketplaceListing,
    ShipmentPush,
    StockPushRequest,
    SyncFailure,
    SyncRun,
)

WINDOW = timedelta(hours=24)


@dataclass
class Health:
    connection: MarketplaceConnection
    last_success_at: object
    lag_seconds: float | None  # now - cursor: how far behind the marketplace we may be
    runs_24h: int
    failed_runs_24h: int
    fetched_24h: int
    failed_records_24h: int
    open_failures: int
    shipments_waiting: int
    shipments_failed: int
    listings: int
    listings_failing: int
    running: bool

    @property
    def error_rate(self) -> float:
        """Share of the last 24 hours' runs that failed."""
        return self.failed_runs_24h / self.runs_24h if self.runs_24h else 0.0

    @property
    def record_error_rate(self) -> float:
        return self.failed_records_24h / self.fetched_24h if self.fetched_24h else 0.0

    @property
    def state(self) -> str:
        if not self.connection.sync_enabled:
            return "disabled"
        if self.connection.consecutive_failures:
            return "failing"
        if self.open_failures or self.shipments_failed or self.listings_failing:
            return "attention"
        return "ok"


def health(connection: MarketplaceConnection) -> Health:
    now = timezone.now()
    runs = SyncRun.objects.filter(connection=connection, started_at__gte=now - WINDOW)
    totals = runs.aggregate(
        count=Count("pk"),
        failed_runs=Count("pk", filter=Q(status=SyncRun.Status.FAILED)),
        fetched=Sum("fetched"),
        failed=Sum("failed"),
    )
    pushes = ShipmentPush.objects.filter(connection=connection)
    listings = MarketplaceListing.objects.filter(connection=connection, active=True)
    return Health(
        connection=connection,
        last_success_at=connection.last_success_at,
        lag_seconds=(now - connection.cursor).total_seconds() if connection.cursor else None,
        runs_24h=totals["count"] or 0,
        failed_runs_24h=totals["failed_runs"] or 0,
        fetched_24h=totals["fetched"] or 0,
        failed_records_24h=totals["failed"] or 0,
        open_failures=SyncFailure.objects.filter(
            connection=connection, status=SyncFailure.Status.OPEN
        ).count(),
        shipments_waiting=pushes.filter(
            status__in=[ShipmentPush.Status.PENDING, ShipmentPush.Status.RETRYING]
        ).count(),
        shipments_failed=pushes.filter(status=ShipmentPush.Status.FAILED).count(),
        listings=listings.count(),
        listings_failing=listings.exclude(push_error="").count(),
        running=bool(connection.locked_until and connection.locked_until > now),
    )


def all_health() -> list[Health]:
    return [health(c) for c in MarketplaceConnection.objects.select_related("channel")]


def stock_waiting() -> int:
    return StockPushRequest.objects.count()
