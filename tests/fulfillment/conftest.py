"""The fulfillment world: Berlin and Leeds with bins, SKUs with GTINs in bins, carriers,
package types, and helpers to place allocated orders."""

import pytest

from fulfillment.models import CarrierAccount, CarrierService, PackageType
from inventory import stock as stock_service
from inventory.models import Bin, WarehouseAccess
from oms_site.actors import Actor
from orders import services as order_services
from tests import factories

SYSTEM = Actor.system("test")
ADDRESS = {
    "name": "Erika Mustermann",
    "line1": "Heidestrasse 17",
    "city": "Köln",
    "postal_code": "51147",
    "country": "DE",
    "phone": "+49 221 1234567",
}


@pytest.fixture
def berlin(warehouse):
    warehouse.address_line1 = "Schnellerstraße 21"
    warehouse.postal_code = "12439"
    warehouse.save()
    for seq, code in enumerate(["A-01", "A-02", "B-01", "C-05"], start=1):
        Bin.objects.create(warehouse=warehouse, code=code, pick_sequence=seq * 10)
    return warehouse


@pytest.fixture
def leeds(db):
    leeds = factories.WarehouseFactory(
        code="lds", city="Leeds", country="GB", latitude=53.75, longitude=-1.59, rank=30
    )
    Bin.objects.create(warehouse=leeds, code="L-01", pick_sequence=1)
    return leeds


def shelve(sku, warehouse, quantity, bin_code):
    factories.stock(sku, warehouse, quantity)
    stock_service.assign_bin(
        sku=sku, warehouse=warehouse, bin=Bin.objects.get(warehouse=warehouse, code=bin_code)
    )


@pytest.fixture
def skus(berlin):
    """Three SKUs in Berlin, in bins walked in the order B-01 (shirt), A-01 (mug), C-05."""
    shirt = factories.SKUFactory(code="TSHIRT-BLK-M", barcode="4006381333931", weight_grams=200)
    mug = factories.SKUFactory(code="MUG-WHT", barcode="4012345678901", weight_grams=350)
    cap = factories.SKUFactory(code="CAP-RED", barcode="4000000000006", weight_grams=100)
    shelve(shirt, berlin, 20, "B-01")
    shelve(mug, berlin, 20, "A-01")
    shelve(cap, berlin, 20, "C-05")
    return {"shirt": shirt, "mug": mug, "cap": cap}


@pytest.fixture
def place(channel):
    def make(*lines, **kwargs):
        kwargs.setdefault("shipping_address", ADDRESS)
        kwargs.setdefault("customer", {"email": "erika@example.com", "name": "Erika"})
        return order_services.place_order(
            channel=channel,
            lines=[{"sku": code, "quantity": qty} for code, qty in lines],
            actor=SYSTEM,
            **kwargs,
        )

    return make


@pytest.fixture
def own_courier(db):
    carrier = CarrierAccount.objects.create(
        code="own",
        name="Own courier",
        kind=CarrierAccount.Kind.MANUAL,
        tracking_url_template="https://courier.example.com/t/{tracking_number}",
    )
    CarrierService.objects.create(
        carrier=carrier, code="standard", name="Standard", shipping_methods=["Courier"]
    )
    return carrier


@pytest.fixture
def box(db):
    return PackageType.objects.create(
        code="box-s",
        name="Box S",
        length_mm=300,
        width_mm=200,
        height_mm=100,
        tare_weight_grams=150,
    )


@pytest.fixture
def warehouse_user(users, berlin):
    WarehouseAccess.objects.create(user=users["warehouse"], warehouse=berlin)
    return users["warehouse"]
