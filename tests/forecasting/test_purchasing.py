"""Purchase orders: draft, place, receive into stock, cancel; what is on order counts in
the forecast; bad input changes nothing."""

from datetime import timedelta

import pytest

from inventory.forecasting.models import PurchaseOrder, SkuForecast
from inventory.forecasting.services import purchasing, runs
from inventory.models import StockLevel, StockMovement, WarehouseAccess
from oms_site.actors import Actor
from oms_site.errors import PermissionDenied, TransitionNotAllowed, ValidationFailed
from tests import factories

from .conftest import daily_sales

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")
P = PurchaseOrder.Status


@pytest.fixture
def goods(db):
    supplier = factories.SupplierFactory(code="acme", lead_time_days=10, min_order_quantity=6)
    ber = factories.WarehouseFactory(code="ber")
    lds = factories.WarehouseFactory(code="lds", city="Leeds", country="GB")
    mug = factories.SKUFactory(code="MUG", supplier=supplier, pack_size=6)
    cup = factories.SKUFactory(code="CUP", supplier=supplier)
    return supplier, ber, lds, mug, cup


def test_draft_place_receive_in_parts(goods):
    supplier, ber, _, mug, cup = goods
    order = purchasing.create_purchase_order(
        supplier=supplier, warehouse=ber, lines=[(mug, 24), (cup, 10)], actor=ACTOR
    )
    assert order.number == f"PO-{order.pk:06d}" and order.status == P.DRAFT
    order = purchasing.place_purchase_order(order=order, actor=ACTOR)
    assert order.status == P.ORDERED and order.expected_date is not None
    lines = {line.sku.code: line for line in order.lines.all()}
    order = purchasing.receive_purchase_order(
        order=order, quantities={lines["MUG"].pk: 10}, actor=ACTOR
    )
    assert order.status == P.PARTIALLY_RECEIVED
    assert StockLevel.objects.get(sku=mug, warehouse=ber).on_hand == 10
    receipt = StockMovement.objects.get(sku=mug, reason="receipt")
    assert receipt.reference == order.number
    order = purchasing.receive_purchase_order(
        order=order, quantities={lines["MUG"].pk: 14, lines["CUP"].pk: 10}, actor=ACTOR
    )
    assert order.status == P.RECEIVED
    assert StockLevel.objects.get(sku=cup, warehouse=ber).on_hand == 10
    kinds = list(order.events.values_list("to_status", flat=True))
    assert kinds == ["draft", "ordered", "partially_received", "received"]


def test_close_short_and_cancel(goods):
    supplier, ber, _, mug, _ = goods
    order = purchasing.create_purchase_order(
        supplier=supplier, warehouse=ber, lines=[(mug, 12)], actor=ACTOR
    )
    purchasing.place_purchase_order(order=order, actor=ACTOR)
    line = order.lines.get()
    order = purchasing.receive_purchase_order(
        order=order, quantities={line.pk: 6}, actor=ACTOR, close=True
    )
    assert order.status == P.RECEIVED
    with pytest.raises(TransitionNotAllowed):
        purchasing.cancel_purchase_order(order=order, actor=ACTOR)
    draft = purchasing.create_purchase_order(
        supplier=supplier, warehouse=ber, lines=[(mug, 6)], actor=ACTOR
    )
    assert purchasing.cancel_purchase_order(order=draft, actor=ACTOR).status == P.CANCELLED


def test_bad_input_changes_nothing(goods):
    supplier, ber, _, mug, cup = goods
    with pytest.raises(ValidationFailed):
        purchasing.create_purchase_order(supplier=supplier, warehouse=ber, lines=[], actor=ACTOR)
    with pytest.raises(ValidationFailed):
        purchasing.create_purchase_order(
            supplier=supplier, warehouse=ber, lines=[(mug, 0)], actor=ACTOR
        )
    with pytest.raises(ValidationFailed):
        purchasing.create_purchase_order(
            supplier=supplier, warehouse=ber, lines=[(mug, 1), (mug, 2)], actor=ACTOR
        )
    assert not PurchaseOrder.objects.exists()
    order = purchasing.create_purchase_order(
        supplier=supplier, warehouse=ber, lines=[(mug, 6), (cup, 3)], actor=ACTOR
    )
    lines = {line.sku.code: line for line in order.lines.all()}
    with pytest.raises(TransitionNotAllowed):  # a draft is not received
        purchasing.receive_purchase_order(order=order, quantities={lines["MUG"].pk: 1}, actor=ACTOR)
    purchasing.place_purchase_order(order=order, actor=ACTOR)
    with pytest.raises(ValidationFailed):  # more than ordered; the first line must not stick
        purchasing.receive_purchase_order(
            order=order, quantities={lines["MUG"].pk: 6, lines["CUP"].pk: 4}, actor=ACTOR
        )
    assert not StockMovement.objects.filter(reason="receipt").exists()
    order.refresh_from_db()
    assert order.status == P.ORDERED


def test_warehouse_staff_act_only_in_their_warehouse(goods):
    supplier, ber, lds, mug, _ = goods
    user = factories.UserFactory(username="wh", role="warehouse")
    WarehouseAccess.objects.create(user=user, warehouse=ber)
    order = purchasing.create_purchase_order(
        supplier=supplier, warehouse=lds, lines=[(mug, 6)], actor=ACTOR
    )
    purchasing.place_purchase_order(order=order, actor=ACTOR)
    with pytest.raises(PermissionDenied):
        purchasing.receive_purchase_order(
            order=order, quantities={order.lines.get().pk: 6}, actor=Actor.for_user(user)
        )


def test_open_quantities_count_as_stock_on_the_way(goods, as_of):
    supplier, ber, _, mug, _ = goods
    daily_sales(mug, ber, days=120, per_day=lambda d: 4, opening=500)  # 20 left
    runs.run_inline(runs.start_run(trigger="manual", actor=ACTOR, enqueue=False))
    before = SkuForecast.objects.get(sku=mug)
    assert before.at_risk and before.suggested_quantity > 0
    assert before.suggested_quantity % 6 == 0  # whole packs
    order = purchasing.draft_from_suggestions(supplier=supplier, warehouse=ber, actor=ACTOR)
    assert order.lines.get().quantity == before.suggested_quantity
    purchasing.place_purchase_order(
        order=order, actor=ACTOR, expected_date=as_of + timedelta(days=3)
    )
    runs.run_inline(
        runs.start_run(
            trigger="manual",
            actor=ACTOR,
            enqueue=False,
            as_of=as_of + timedelta(days=1),
        )
    )
    after = SkuForecast.objects.get(sku=mug)
    assert after.open_purchase == before.suggested_quantity
    assert after.suggested_quantity == 0
    assert max(after.projected) > max(before.projected)
