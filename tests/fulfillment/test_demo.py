"""The demo's fulfillment: pick lists ready in Berlin, parcels in transit and delivered,
every shipped unit in a shipment, and a tracking link that works."""

from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.db.models import Sum

from fulfillment.models import PickList, Shipment, ShipmentLine, ShipmentStatus
from orders.models import OrderLine


@pytest.mark.django_db
def test_demo_has_work_for_the_warehouse_and_a_tracking_link(settings, tmp_path, client):
    settings.VAR_DIR = tmp_path
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    out = StringIO()
    call_command("load_demo", orders=150, skus=24, customers=40, stdout=out)
    assert "pick lists ready" in out.getvalue()
    assert PickList.objects.filter(warehouse__code="ber", status="open").exists()
    assert Shipment.objects.filter(status=ShipmentStatus.IN_TRANSIT).exists()
    assert Shipment.objects.filter(status=ShipmentStatus.DELIVERED).exists()
    assert Shipment.objects.filter(status=ShipmentStatus.PICKING, warehouse__code="ber").exists()
    shipped = OrderLine.objects.aggregate(n=Sum("quantity_shipped"))["n"]
    in_shipments = ShipmentLine.objects.filter(
        shipment__status__in=[
            ShipmentStatus.SHIPPED,
            ShipmentStatus.IN_TRANSIT,
            ShipmentStatus.DELIVERED,
        ]
    ).aggregate(n=Sum("quantity"))["n"]
    assert in_shipments == shipped
    link = (tmp_path / "demo-tracking-link.txt").read_text().strip()
    assert "/track/" in link
    response = client.get(urlsplit(link).path)
    assert response.status_code == 200
    assert "Bring" in response.content.decode()
    # Loading again adds nothing.
    before = (PickList.objects.count(), Shipment.objects.count())
    call_command("load_demo", orders=150, skus=24, customers=40, stdout=StringIO())
    assert (PickList.objects.count(), Shipment.objects.count()) == before
