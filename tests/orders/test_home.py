"""The home page: sales figures from the hourly rollup (kept in the order's transaction,
rebuilt from the orders), the work that waits, and the charts."""

from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from oms_site.actors import Actor
from oms_site.models import ExchangeRate, OutboxEvent, WebhookDelivery, WebhookSubscription
from orders import home, services
from orders.models import HourlySales, OrderStatus, SalesChannel
from orders.services.reporting import rebuild_sales
from tests import factories

SYSTEM = Actor.system("test")
ADDRESS = {"name": "Kari Nordmann", "line1": "Storgata 1", "city": "Oslo", "country": "NO"}


def place(channel, quantity=1, **kwargs):
    return services.place_order(
        channel=channel,
        lines=[{"sku": "TSHIRT-BLK-M", "quantity": quantity, **kwargs.pop("line", {})}],
        shipping_address=ADDRESS,
        actor=SYSTEM,
        **kwargs,
    )


def rollup():
    rows = HourlySales.objects.all()
    return {
        "orders": sum(r.orders for r in rows),
        "cancelled": sum(r.cancelled for r in rows),
        "unconverted": sum(r.unconverted for r in rows),
        "revenue": sum((r.revenue for r in rows), Decimal(0)),
    }


@pytest.fixture
def stocked(warehouse, sku):
    return factories.stock(sku, warehouse, 50)


def test_placing_and_cancelling_keep_the_rollup_in_step(channel, stocked):
    first = place(channel)  # 19.90
    place(channel, quantity=2)  # 39.80
    assert rollup() == {
        "orders": 2,
        "cancelled": 0,
        "unconverted": 0,
        "revenue": Decimal("59.700"),
    }
    services.cancel_order(first, actor=SYSTEM, reason="test")
    assert rollup()["cancelled"] == 1
    assert rollup()["revenue"] == Decimal("39.800")


def test_drafts_count_when_submitted(channel, stocked):
    draft = place(channel, draft=True)
    assert rollup()["orders"] == 0
    services.submit_draft(draft, actor=SYSTEM)
    assert rollup()["orders"] == 1


def test_other_currencies_are_converted_with_the_rate_of_the_day(channel, stocked):
    ExchangeRate.objects.create(
        currency="NOK", rate=Decimal("0.085"), valid_on=timezone.localdate() - timedelta(days=3)
    )
    place(channel, currency="NOK", line={"unit_price": "100.00"})
    place(channel, currency="SEK", line={"unit_price": "100.00"})  # no rate
    assert rollup()["revenue"] == Decimal("8.500")
    assert rollup()["unconverted"] == 1


def test_a_rebuild_gives_what_the_transactions_wrote(channel, stocked):
    orders = [place(channel, quantity=q) for q in (1, 2, 3)]
    services.cancel_order(orders[1], actor=SYSTEM)
    before = rollup()
    HourlySales.objects.update(orders=0, revenue=0, cancelled=0)
    today = timezone.localdate()
    rebuild_sales(first=today - timedelta(days=1), last=today)
    assert rollup() == before
    # And again: nothing changes.
    assert rebuild_sales(first=today - timedelta(days=1), last=today) == 0
    assert rollup() == before


def test_home_figures_compare_with_the_period_before(channel, stocked):
    place(channel)
    place(channel)
    figures = home.home(user=None)
    today, week, month = figures.periods
    assert today.current.orders == 2
    assert today.current.revenue == Decimal("39.800")
    assert today.current.average == Decimal("19.9")
    assert today.orders_change is None  # nothing yesterday
    # Last week had one order: the 7-day figure doubled... the week before that had it.
    HourlySales.objects.create(
        day=timezone.localdate() - timedelta(days=8),
        hour=10,
        channel=channel,
        currency="EUR",
        orders=1,
        revenue=Decimal("19.900"),
    )
    week = home.home(user=None).periods[1]
    assert week.current.orders == 2 and week.previous.orders == 1
    assert week.orders_change == Decimal(1)


def test_late_to_ship_counts_orders_placed_before_the_last_cutoff(channel, warehouse, stocked):
    warehouse.cutoff_time = time(15, 0)
    warehouse.save()
    order = place(channel)
    now = timezone.now()
    assert order.status == OrderStatus.ALLOCATED
    # Two days on, it has missed a cut-off.
    later = now + timedelta(days=2)
    assert list(home.late_to_ship(later)) == [order]
    assert list(home.late_to_ship(now - timedelta(days=1))) == []


def test_capped_counts_stop_at_the_cap(channel, stocked):
    for _ in range(3):
        place(channel)
    from orders.models import Order

    assert home.capped_count(Order.objects.all(), cap=2) == (2, True)
    assert home.capped_count(Order.objects.all(), cap=5) == (3, False)


def test_home_page_shows_figures_work_and_charts(client_for, channel, stocked):
    place(channel)
    held = place(channel)
    services.hold_order(held, reason="check", actor=SYSTEM)
    subscription = WebhookSubscription.objects.create(name="erp", url="http://x", secret="s")
    event = OutboxEvent.objects.create(event_type="order.created", payload={})
    WebhookDelivery.objects.create(
        subscription=subscription, event=event, status=WebhookDelivery.Status.FAILED
    )
    response = client_for("manager").get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="kpi-today"' in html
    assert "€39.80" in html
    assert 'id="chart-orders-t"' in html and "<svg" in html
    work = {item["key"]: item for item in response.context["work"]}
    assert work["on_hold"]["count"] == (1, False)
    assert work["failed_webhooks"]["count"] == (1, False)
    assert work["on_hold"]["url"].endswith("status=on_hold")


def test_home_page_in_norwegian(client_for, channel, stocked):
    place(channel)
    html = client_for("manager").get("/", HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    assert "I dag" in html
    assert "€\u00a019,90" in html


def test_home_page_queries_do_not_grow_with_orders(client_for, channel, stocked):
    client = client_for("manager")
    place(channel)
    client.get("/")
    with CaptureQueriesContext(connection) as few:
        client.get("/")
    for _ in range(5):
        place(channel)
    with CaptureQueriesContext(connection) as more:
        client.get("/")
    assert len(more) == len(few)


@pytest.mark.parametrize("role", ["owner", "manager", "support", "warehouse", "readonly"])
def test_every_role_sees_the_home_page(client_for, role, db):
    SalesChannel.objects.get_or_create(code="web", defaults={"name": "Web", "kind": "web"})
    assert client_for(role).get("/").status_code == 200


def test_anonymous_visitors_log_in_first(client):
    response = client.get("/")
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_placements_are_all_counted(channel, warehouse, sku):
    """Eight threads placing orders at once: every order lands in the rollup once, and no
    thread waits forever on a counter row (they are sharded)."""
    import threading

    from django.db import connection as main_connection

    factories.stock(sku, warehouse, 100)
    errors = []

    def worker():
        from django.db import connection

        try:
            for _ in range(5):
                place(channel)
        except Exception as exc:  # a test collects what went wrong in a thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    main_connection.close()
    assert not errors
    assert rollup()["orders"] == 40
    assert rollup()["revenue"] == Decimal("19.900") * 40
