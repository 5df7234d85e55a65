"""The customer's return e-mails: approved (where to send it), rejected (why), closed (the
refund), once each, in the order's language."""

import pytest
from django.core import mail

from returns import services
from returns.tasks import send_return_email

from .conftest import SYSTEM, lines_of

pytestmark = pytest.mark.django_db


def test_approved_then_closed_with_the_refund(delivered, django_capture_on_commit_callbacks):
    order = delivered()
    rr = services.create_return(order=order, lines=lines_of(order, MUG_WHT=1), actor=SYSTEM)
    assert not mail.outbox  # asking is not news to the customer
    with django_capture_on_commit_callbacks(execute=True):
        rr = services.approve_return(rr, actor=SYSTEM)
    assert len(mail.outbox) == 1
    approved = mail.outbox[0]
    assert approved.to == ["erika@example.com"] and rr.number in approved.subject
    assert "Schnellerstraße 21" in approved.body  # where to send it
    assert f"/track/{order.tracking_token}/" in approved.body
    assert send_return_email(rr.pk, "approved") is False  # a retry sends nothing twice

    rr = services.receive_return(rr, actor=SYSTEM)
    rr = services.inspect_return(rr, actor=SYSTEM, lines={rr.lines.get().pk: ("restock", "")})
    with django_capture_on_commit_callbacks(execute=True):
        services.close_return(rr, actor=SYSTEM)
    closed = mail.outbox[-1]
    assert len(mail.outbox) == 2 and "complete" in closed.subject
    assert "refunded" in closed.body


def test_rejected_says_why(delivered, django_capture_on_commit_callbacks):
    order = delivered()
    rr = services.create_return(order=order, lines=lines_of(order, CAP_RED=1), actor=SYSTEM)
    with django_capture_on_commit_callbacks(execute=True):
        services.reject_return(rr, actor=SYSTEM, reason="Worn and washed")
    assert "Worn and washed" in mail.outbox[0].body


def test_a_norwegian_order_hears_in_norwegian(delivered, django_capture_on_commit_callbacks):
    order = delivered()
    order.shipping_address = {**order.shipping_address, "country": "NO", "city": "Oslo"}
    order.save(update_fields=["shipping_address"])
    rr = services.create_return(order=order, lines=lines_of(order, MUG_WHT=1), actor=SYSTEM)
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_return(rr, actor=SYSTEM)
    assert "godkjent" in mail.outbox[0].subject
