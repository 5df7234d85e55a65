"""The return machine through its services: quantities, the order's own transitions,
restock in the ledger, the refund and its credit note, exchanges, warehouse scope."""

from decimal import Decimal

import pytest

from inventory.models import MovementReason, StockLevel, StockMovement, WarehouseAccess
from oms_site.actors import Actor
from oms_site.errors import Conflict, PermissionDenied, TransitionNotAllowed, ValidationFailed
from orders.invoicing.models import DocumentKind
from orders.models import OrderStatus, PaymentStatus
from returns import services
from returns.models import ReturnStatus

from .conftest import SYSTEM, lines_of

pytestmark = pytest.mark.django_db


def on_hand(sku, warehouse):
    return StockLevel.objects.get(sku=sku, warehouse=warehouse).on_hand


def through_receipt(order, **quantities):
    rr = services.create_return(order=order, lines=lines_of(order, **quantities), actor=SYSTEM)
    rr = services.approve_return(rr, actor=SYSTEM)
    return services.receive_return(rr, actor=SYSTEM)


def test_the_machine_from_request_to_closed(delivered, skus, berlin):
    order = delivered()
    rr = services.create_return(order=order, lines=lines_of(order, MUG_WHT=1), actor=SYSTEM)
    assert rr.number.startswith("RMA-") and rr.status == ReturnStatus.REQUESTED
    assert rr.warehouse == berlin
    with pytest.raises(TransitionNotAllowed):
        services.receive_return(rr, actor=SYSTEM)
    rr = services.approve_return(rr, actor=SYSTEM)
    assert services.approve_return(rr, actor=SYSTEM).status == ReturnStatus.APPROVED
    rr = services.receive_return(rr, actor=SYSTEM)
    assert rr.status == ReturnStatus.RECEIVED
    line = rr.lines.get()
    rr = services.inspect_return(rr, actor=SYSTEM, lines={line.pk: ("restock", "")})
    assert rr.status == ReturnStatus.INSPECTED
    rr = services.close_return(rr, actor=SYSTEM)
    assert rr.status == ReturnStatus.CLOSED
    with pytest.raises(TransitionNotAllowed):
        services.close_return(rr, actor=SYSTEM)
    kinds = list(rr.events.exclude(to_status="").values_list("to_status", flat=True))
    assert kinds == ["approved", "received", "inspected", "closed"]


def test_rejected_units_may_be_asked_for_again(delivered):
    order = delivered()
    rr = services.create_return(order=order, lines=lines_of(order, CAP_RED=1), actor=SYSTEM)
    with pytest.raises(ValidationFailed):
        services.create_return(order=order, lines=lines_of(order, CAP_RED=1), actor=SYSTEM)
    services.reject_return(rr, actor=SYSTEM, reason="Worn")
    again = services.create_return(order=order, lines=lines_of(order, CAP_RED=1), actor=SYSTEM)
    assert again.status == ReturnStatus.REQUESTED


def test_cannot_return_more_than_shipped_minus_returned(delivered):
    order = delivered()
    with pytest.raises(ValidationFailed) as refused:
        services.create_return(order=order, lines=lines_of(order, MUG_WHT=3), actor=SYSTEM)
    assert "lines.0.quantity" in refused.value.fields
    through_receipt(order, MUG_WHT=1)
    services.create_return(order=order, lines=lines_of(order, MUG_WHT=1), actor=SYSTEM)
    with pytest.raises(ValidationFailed):
        services.create_return(order=order, lines=lines_of(order, MUG_WHT=1), actor=SYSTEM)


def test_undelivered_orders_are_refused(place, skus):
    order = place(("MUG-WHT", 1))
    with pytest.raises(Conflict):
        services.create_return(order=order, lines=lines_of(order, MUG_WHT=1), actor=SYSTEM)


def test_the_order_moves_through_its_own_transitions(delivered):
    order = delivered()
    through_receipt(order, MUG_WHT=1)
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_RETURNED
    assert order.lines.get(sku_code="MUG-WHT").quantity_returned == 1
    through_receipt(order, MUG_WHT=1, CAP_RED=1)
    order.refresh_from_db()
    assert order.status == OrderStatus.RETURNED
    assert order.events.filter(to_status=OrderStatus.RETURNED).exists()


def test_restock_writes_a_ledger_movement_and_damaged_does_not(delivered, skus, berlin):
    order = delivered()
    before = on_hand(skus["mug"], berlin), on_hand(skus["cap"], berlin)
    rr = through_receipt(order, MUG_WHT=2, CAP_RED=1)
    mug, cap = (rr.lines.get(order_line__sku_code=c) for c in ("MUG-WHT", "CAP-RED"))
    services.inspect_return(
        rr, actor=SYSTEM, lines={mug.pk: ("restock", ""), cap.pk: ("damaged", "Crushed")}
    )
    assert on_hand(skus["mug"], berlin) == before[0] + 2
    assert on_hand(skus["cap"], berlin) == before[1]
    movement = StockMovement.objects.get(reason=MovementReason.RETURN_RESTOCK)
    assert movement.on_hand_change == 2 and movement.reference == f"order:{order.number}"
    mug.refresh_from_db()
    cap.refresh_from_db()
    assert mug.restock_movement == movement
    assert cap.outcome == "damaged" and cap.inspection_note == "Crushed"


def test_an_inspected_line_keeps_its_outcome(delivered):
    order = delivered()
    rr = through_receipt(order, MUG_WHT=1, CAP_RED=1)
    mug = rr.lines.get(order_line__sku_code="MUG-WHT")
    services.inspect_return(rr, actor=SYSTEM, lines={mug.pk: ("dispose", "")})
    with pytest.raises(Conflict):
        services.inspect_return(rr, actor=SYSTEM, lines={mug.pk: ("restock", "")})
    assert StockMovement.objects.filter(reason=MovementReason.RETURN_RESTOCK).count() == 0


def test_close_refunds_to_the_payment_with_a_credit_note(delivered):
    order = delivered()
    rr = through_receipt(order, MUG_WHT=1)
    line = rr.lines.get()
    services.inspect_return(rr, actor=SYSTEM, lines={line.pk: ("restock", "")})
    rr = services.close_return(rr, actor=SYSTEM, restocking_fee=Decimal("1.00"))
    refund = order.refunds.get()
    mug = order.lines.get(sku_code="MUG-WHT")
    assert refund.source == f"return:{rr.number}"
    assert refund.amount == mug.line_total / 2 - Decimal("1.00")
    assert refund.status == "succeeded"
    note = order.invoices.get(kind=DocumentKind.CREDIT_NOTE)
    assert note.refund == refund
    assert note.credited_invoice == order.invoices.get(kind=DocumentKind.INVOICE)
    assert note.total == refund.amount
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PARTIALLY_REFUNDED


def test_partial_refund_with_shipping(delivered):
    order = delivered()
    rr = through_receipt(order, MUG_WHT=2)
    line = rr.lines.get()
    services.inspect_return(rr, actor=SYSTEM, lines={line.pk: ("restock", "")})
    services.close_return(rr, actor=SYSTEM, lines={line.pk: 1})
    refund = order.refunds.get()
    assert [(x.quantity) for x in refund.lines.all()] == [1]


def test_exchange_places_a_linked_order_and_settles_the_difference(delivered, skus, berlin):
    order = delivered()
    rr = services.create_return(order=order, lines=lines_of(order, MUG_WHT=1), actor=SYSTEM)
    services.approve_return(rr, actor=SYSTEM)
    rr = services.create_exchange(rr, actor=SYSTEM, lines=[{"sku": "CAP-RED", "quantity": 1}])
    replacement = rr.exchange_order
    assert replacement is not None and replacement.exchange_for == rr
    assert replacement.status == OrderStatus.ALLOCATED
    mug = order.lines.get(sku_code="MUG-WHT")
    credit = mug.line_total / 2
    assert rr.exchange_credit == credit
    assert rr.exchange_difference == replacement.grand_total - credit
    paid = replacement.payments.get()
    assert paid.captured_amount == min(credit, replacement.grand_total)
    if rr.exchange_difference < 0:
        assert order.refunds.get().amount == -rr.exchange_difference
    with pytest.raises(Conflict):
        services.create_exchange(rr, actor=SYSTEM, lines=[{"sku": "CAP-RED", "quantity": 1}])


def test_a_warehouse_user_of_another_warehouse_cannot_receive(delivered, users, leeds):
    order = delivered()
    rr = services.create_return(order=order, lines=lines_of(order, MUG_WHT=1), actor=SYSTEM)
    services.approve_return(rr, actor=SYSTEM)
    WarehouseAccess.objects.create(user=users["warehouse"], warehouse=leeds)
    actor = Actor.for_user(users["warehouse"])
    with pytest.raises(PermissionDenied):
        services.receive_return(rr, actor=actor)
    with pytest.raises(PermissionDenied):
        services.scan_return_unit(rr, code="MUG-WHT", actor=actor)
    rr.refresh_from_db()
    assert rr.status == ReturnStatus.APPROVED


def test_a_warehouse_that_takes_no_returns_cannot_be_chosen(delivered, leeds):
    leeds.accepts_returns = False
    leeds.save()
    order = delivered()
    with pytest.raises(ValidationFailed):
        services.create_return(
            order=order, lines=lines_of(order, MUG_WHT=1), warehouse=leeds, actor=SYSTEM
        )


def test_scanning_counts_units_and_refuses_strangers(delivered, skus, warehouse_user):
    order = delivered()
    rr = services.create_return(order=order, lines=lines_of(order, MUG_WHT=1), actor=SYSTEM)
    services.approve_return(rr, actor=SYSTEM)
    actor = Actor.for_user(warehouse_user)
    assert not services.scan_return_unit(rr, code=skus["cap"].barcode, actor=actor).ok
    assert services.scan_return_unit(rr, code=skus["mug"].barcode, actor=actor).ok
    assert not services.scan_return_unit(rr, code=skus["mug"].barcode, actor=actor).ok
    rr = services.receive_return(rr, actor=actor)
    assert rr.lines.get().quantity_received == 1


def test_label_through_the_carrier_adapter(delivered, own_courier):
    order = delivered()
    rr = services.create_return(order=order, lines=lines_of(order, MUG_WHT=1), actor=SYSTEM)
    rr = services.approve_return(rr, actor=SYSTEM)
    rr = services.send_return_label(rr, carrier=own_courier, actor=SYSTEM)
    assert rr.status == ReturnStatus.LABEL_SENT
    assert rr.tracking_number and bytes(rr.label_pdf).startswith(b"%PDF")
    again = services.send_return_label(rr, carrier=own_courier, actor=SYSTEM)
    assert again.tracking_number == rr.tracking_number
