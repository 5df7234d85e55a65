"""Recent days: orders placed through the services for each of the last 30 days after the
newest order (the history ends on the day it was first loaded), including today so far, so
the home page's figures and charts look alive on whatever day ``make run`` starts.

Idempotent: only days after the newest order get orders, so a second run the same day adds
nothing, and the first load (whose history reaches the present) adds nothing either.
Orders go through ``place_order`` (routing, stock, events, webhooks, the sales rollup),
with the placement moment set to that day.
"""

from datetime import datetime, time, timedelta

from django.utils import timezone

from oms_site.actors import Actor
from oms_site.errors import DomainError
from orders import services
from orders.models import Order

DAYS = 30
ACTOR = Actor.system("demo")
CHANNEL_WEIGHTS = {"web": 55, "amazon": 15, "pos": 10, "ebay": 8, "shopify": 8, "api": 4}


def _moments(day, count, now, rng):
    start = timezone.make_aware(datetime.combine(day, time(7, 0)))
    end = min(timezone.make_aware(datetime.combine(day, time(22, 30))), now)
    if end <= start:
        return []
    span = (end - start).total_seconds()
    return sorted(start + timedelta(seconds=rng.uniform(0, span)) for _ in range(count))


def load(context) -> str | None:
    world = context.world
    channels = {c: ch for c, ch in world["channels"].items() if ch.active}
    customers = [c for c in world["customers"] if not c[1]["blocked"]]
    skus = [s for s in world["skus"] if s.active]
    if not channels or not customers or not skus:
        return None
    now = context.now
    today = timezone.localdate(now)
    newest = Order.objects.filter(placed_at__isnull=False).order_by("-placed_at").first()
    if newest is None:
        return None
    last_day = timezone.localdate(newest.placed_at)
    placed = 0
    for offset in range(DAYS, -1, -1):
        day = today - timedelta(days=offset)
        if day <= last_day:
            continue
        rng = context.rng(f"recent-{day.isoformat()}")
        weekend = day.weekday() >= 5
        count = rng.randint(6, 10) if weekend else rng.randint(9, 16)
        if offset == 0:
            count = max(3, count * timezone.localtime(now).hour // 24)
        for moment in _moments(day, count, now, rng):
            code = rng.choices(list(CHANNEL_WEIGHTS), weights=list(CHANNEL_WEIGHTS.values()))[0]
            channel = channels.get(code) or channels.get("web")
            customer, spec = rng.choice(customers)
            lines = [
                {"sku": sku.code, "quantity": rng.choice([1, 1, 1, 2])}
                for sku in rng.sample(skus, rng.choice([1, 1, 2, 3]))
            ]
            if channel.currency != "EUR":
                for line in lines:
                    line["unit_price"] = f"{rng.randint(9, 120)}.99"
            try:
                order = services.place_order(
                    channel=channel,
                    lines=lines,
                    shipping_address=spec["address"],
                    customer={"email": spec["email"], "name": spec["name"]},
                    placed_at=moment,
                    actor=ACTOR,
                )
            except DomainError:
                continue  # a price the channel refuses, say: skip that order
            # The order was keyed in at that moment too (the list filters on it).
            Order.objects.filter(pk=order.pk).update(created_at=moment - timedelta(seconds=20))
            placed += 1
    return f"{placed} recent orders placed through the services" if placed else None
