"""Customer e-mails for returns — approved (what to do next, the label when there is one),
rejected (why), label sent, closed (the refund or the exchange), and "payment due" when an
exchange costs more than the returned goods (with the link to pay the rest) — through
Django's e-mail backend, in the order's language where known. Sent by a Celery task after the change
committed; each e-mail is recorded as a return event, so a retried task sends it once."""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Sum
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from fulfillment.notifications import order_language, tracking_page_url
from oms_site.actors import Actor
from oms_site.money import format_money
from orders.payments import customer_payments

from .models import ReturnEvent, ReturnRequest, ReturnStatus
from .services.events import record

# Which changes of a return the customer hears about.
EMAILS = (
    ReturnStatus.APPROVED,
    ReturnStatus.REJECTED,
    ReturnStatus.LABEL_SENT,
    ReturnStatus.CLOSED,
)
# Not a state: the replacement of an exchange costs more than the credit.
PAYMENT_DUE = "payment_due"


def _pay_url(order) -> str:
    return settings.OMS_PUBLIC_URL.rstrip("/") + reverse(
        "customer_returns:pay", args=[order.tracking_token]
    )


def queue_return_email(request: ReturnRequest) -> None:
    """Called inside the transaction that moved the return: the e-mail goes after commit."""
    if request.status not in EMAILS:
        return
    from .tasks import send_return_email

    request_id, what = request.pk, str(request.status)
    transaction.on_commit(lambda: send_return_email.delay(request_id, what))


def queue_payment_due_email(request: ReturnRequest) -> None:
    """Called inside the exchange's transaction: the e-mail goes after commit."""
    from .tasks import send_return_email

    request_id = request.pk
    transaction.on_commit(lambda: send_return_email.delay(request_id, PAYMENT_DUE))


def send_return_email(request_id: int, what: str) -> bool:
    if what not in EMAILS and what != PAYMENT_DUE:
        raise ValueError(f"unknown return e-mail {what!r}")
    with transaction.atomic():
        request = (
            ReturnRequest.objects.select_for_update(of=("self",))
            .select_related("order__customer", "warehouse", "exchange_order")
            .filter(pk=request_id)
            .first()
        )
        if request is None:
            return False
        order = request.order
        recipient = order.email or (order.customer.email if order.customer_id else "")
        sent = ReturnEvent.objects.filter(request=request, details__email=what)
        if not recipient or sent.exists():
            return False
        language = order_language(order)
        due = (
            customer_payments.amount_due(request.exchange_order)
            if what == PAYMENT_DUE and request.exchange_order_id
            else None
        )
        if what == PAYMENT_DUE and not due:
            return False  # paid (or cancelled) before the e-mail went
        refunded = (
            order.refunds.filter(source=request.refund_source, status="succeeded").aggregate(
                total=Sum("amount")
            )["total"]
            if what == ReturnStatus.CLOSED
            else None
        )
        with translation.override(language):
            context = {
                "request": request,
                "order": order,
                "name": (order.shipping_address or {}).get("name", ""),
                "tracking_page": tracking_page_url(order),
                "lines": request.lines.select_related("order_line"),
                "refunded": format_money(refunded, order.currency) if refunded else "",
                "due": format_money(due, order.currency) if due else "",
                "pay_url": _pay_url(request.exchange_order) if due else "",
            }
            subject = render_to_string(f"returns/email/{what}_subject.txt", context)
            body = render_to_string(f"returns/email/{what}.txt", context)
        send_mail(
            " ".join(subject.split()),
            body,
            settings.DEFAULT_FROM_EMAIL,
            [recipient],
            fail_silently=False,
        )
        record(
            request,
            actor=Actor.system("mailer"),
            message=f"E-mail '{what}' sent to the customer ({language})",
            details={"email": what, "language": language},
            on_order=False,
        )
    return True
