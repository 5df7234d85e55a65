"""Customers: found by e-mail when an order is placed, their page (orders, lifetime value
in the base currency, addresses, notes), block/unblock, and merging two with the same
e-mail from different channels."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from oms_site.actors import Actor
from oms_site.errors import ValidationFailed
from oms_site.models import ExchangeRate
from orders import services
from orders.models import Customer, HoldRule, Order, OrderStatus
from orders.services import customers as customer_services
from tests import factories

SYSTEM = Actor.system("test")
ADDRESS = {"name": "Kari Nordmann", "line1": "Storgata 1", "city": "Oslo", "country": "NO"}


@pytest.fixture
def stocked(warehouse, sku):
    return factories.stock(sku, warehouse, 50)


def place(channel, email="kari@example.com", **kwargs):
    return services.place_order(
        channel=channel,
        lines=[{"sku": "TSHIRT-BLK-M", "quantity": 1, **kwargs.pop("line", {})}],
        shipping_address=kwargs.pop("address", ADDRESS),
        customer={"email": email, "name": kwargs.pop("name", "Kari Nordmann")},
        actor=SYSTEM,
        **kwargs,
    )


def test_orders_with_the_same_email_share_a_customer(channel, stocked):
    first, second = place(channel), place(channel, email="KARI@example.com")
    assert first.customer_id == second.customer_id
    assert first.customer.channel == channel


def test_an_order_finds_the_customer_a_merge_kept(channel, stocked):
    pos = factories.ChannelFactory(code="pos", name="Shop floor", kind="pos")
    keep = Customer.objects.create(email="kari@example.com", channel=channel, name="Kari")
    other = Customer.objects.create(email="kari@example.com", channel=pos)
    customer_services.merge_customers(keep=keep, merge=other, actor=SYSTEM)
    order = place(pos)
    assert order.customer_id == keep.pk


def test_merging_moves_orders_and_notes(channel, stocked):
    pos = factories.ChannelFactory(code="pos", name="Shop floor", kind="pos")
    keep = place(channel).customer
    other = Customer.objects.create(
        email="kari@example.com", channel=pos, phone="+47 22 00 00 00", notes="Prefers pickup"
    )
    moved = place(channel)
    Order.objects.filter(pk=moved.pk).update(customer=other)
    kept = customer_services.merge_customers(keep=keep, merge=other, actor=SYSTEM)
    other.refresh_from_db()
    assert other.merged_into_id == kept.pk
    assert Order.objects.filter(customer=kept).count() == 2
    assert kept.phone == "+47 22 00 00 00" and "Prefers pickup" in kept.notes
    assert moved.events.filter(kind="note", message__contains="Customer merged").exists()


def test_merging_needs_the_same_email(channel, db):
    one = Customer.objects.create(email="a@example.com")
    two = Customer.objects.create(email="b@example.com", channel=channel)
    with pytest.raises(ValidationFailed):
        customer_services.merge_customers(keep=one, merge=two, actor=SYSTEM)
    with pytest.raises(ValidationFailed):
        customer_services.merge_customers(keep=one, merge=one, actor=SYSTEM)


def test_a_blocked_customers_new_orders_are_held(channel, stocked):
    HoldRule.objects.create(kind=HoldRule.Kind.BLOCKED_CUSTOMER, enabled=True)
    customer = place(channel).customer
    customer_services.block_customer(customer, actor=SYSTEM, reason="chargebacks")
    assert place(channel).status == OrderStatus.ON_HOLD
    customer = customer_services.unblock_customer(customer, actor=SYSTEM)
    assert "chargebacks" in customer.notes
    assert place(channel).status == OrderStatus.ALLOCATED
    with pytest.raises(ValidationFailed):
        customer_services.unblock_customer(customer, actor=SYSTEM)


def test_customer_page_shows_orders_value_addresses_and_notes(client_for, channel, stocked):
    ExchangeRate.objects.create(currency="NOK", rate=Decimal("0.1"), valid_on=timezone.localdate())
    order = place(channel)
    place(channel, currency="NOK", line={"unit_price": "200.00"})
    cancelled = place(channel)
    services.cancel_order(cancelled, actor=SYSTEM)
    response = client_for("support").get(reverse("customers:detail", args=[order.customer_id]))
    assert response.status_code == 200
    html = response.content.decode()
    assert order.number in html and "Storgata 1" in html
    value = response.context["value"]
    assert value["total"] == Decimal("19.900") + Decimal("20.000")
    assert response.context["stats"]["count"] == 3
    assert response.context["stats"]["cancelled"] == 1


def test_order_page_links_to_the_customer(client_for, channel, stocked):
    order = place(channel)
    html = client_for("manager").get(reverse("orders:detail", args=[order.number])).content
    assert reverse("customers:detail", args=[order.customer_id]).encode() in html


def test_customer_list_searches_by_name_email_and_phone(client_for, channel, stocked):
    place(channel)
    place(channel, email="ola@example.com", name="Ola Hansen")
    client = client_for("support")
    for text, expected in [("Ola", "ola@example.com"), ("kari@", "kari@example.com")]:
        response = client.get(reverse("customers:list"), {"q": text})
        assert [c.email for c in response.context["customers"]] == [expected]


def test_notes_block_and_merge_through_the_page(client_for, channel, stocked):
    customer = place(channel).customer
    pos = factories.ChannelFactory(code="pos", name="Shop floor", kind="pos")
    other = Customer.objects.create(email="kari@example.com", channel=pos)
    client = client_for("manager")
    client.post(reverse("customers:notes", args=[customer.pk]), {"notes": "VIP"})
    client.post(reverse("customers:block", args=[customer.pk]), {"reason": "fraud check"})
    customer.refresh_from_db()
    assert customer.blocked and customer.notes.startswith("VIP")
    page = client.get(reverse("customers:detail", args=[customer.pk]))
    assert page.context["merge_form"] is not None
    client.post(reverse("customers:merge", args=[customer.pk]), {"merge": other.pk})
    other.refresh_from_db()
    assert other.merged_into_id == customer.pk


@pytest.mark.parametrize(
    ("role", "view", "manage", "merge"),
    [
        ("owner", 200, True, True),
        ("manager", 200, True, True),
        ("support", 200, True, False),
        ("warehouse", 403, False, False),
        ("readonly", 200, False, False),
    ],
)
def test_who_may_do_what_with_customers(client_for, channel, stocked, role, view, manage, merge):
    customer = place(channel).customer
    other = Customer.objects.create(email="kari@example.com", channel=None, name="dup")
    client = client_for(role)
    assert client.get(reverse("customers:list")).status_code == view
    assert client.get(reverse("customers:detail", args=[customer.pk])).status_code == view
    response = client.post(reverse("customers:block", args=[customer.pk]))
    assert (response.status_code == 302) is manage
    customer.refresh_from_db()
    assert customer.blocked is manage
    response = client.post(reverse("customers:merge", args=[customer.pk]), {"merge": other.pk})
    other.refresh_from_db()
    assert (other.merged_into_id == customer.pk) is merge


def test_unknown_customer_is_404(client_for, db):
    assert client_for("manager").get(reverse("customers:detail", args=[999])).status_code == 404
