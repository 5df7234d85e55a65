"""Customer e-mails for shipments (shipped, delivered), through Django's e-mail backend
(the console in development), in the order's language where known."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from oms_site.actors import Actor

from .models import Shipment, ShipmentEvent
from .services.events import record_shipment_event

logger = logging.getLogger(__name__)

# Where an order's own language is not recorded, the delivery country's main language is
# the best guess; anything else gets the site's default.
COUNTRY_LANGUAGES = {"NO": "nb", "SJ": "nb"}


def order_language(order) -> str:
    explicit = getattr(order, "language", "") or (order.shipping_address or {}).get("language", "")
    if explicit and translation.check_for_language(explicit):
        return explicit
    country = (order.shipping_address or {}).get("country", "")
    return COUNTRY_LANGUAGES.get(country, settings.LANGUAGE_CODE)


def tracking_page_url(order) -> str:
    return settings.OMS_PUBLIC_URL.rstrip("/") + reverse(
        "tracking:page", args=[order.tracking_token]
    )


def send_shipment_email(shipment_id: int, what: str) -> bool:
    if what not in ("shipped", "delivered"):
        raise ValueError(f"unknown shipment e-mail {what!r}")
    with transaction.atomic():
        shipment = (
            Shipment.objects.select_for_update(of=("self",))
            .select_related("order__customer")
            .filter(pk=shipment_id)
            .first()
        )
        if shipment is None:
            return False
        order = shipment.order
        recipient = order.email or (order.customer.email if order.customer_id else "")
        already = shipment.events.filter(kind=ShipmentEvent.Kind.NOTE, details__email=what)
        if not recipient or already.exists():
            return False
        language = order_language(order)
        context = {
            "order": order,
            "shipment": shipment,
            "name": (order.shipping_address or {}).get("name", ""),
            "tracking_page": tracking_page_url(order),
            "lines": shipment.lines.select_related("order_line"),
        }
        with translation.override(language):
            subject = render_to_string(f"fulfillment/email/{what}_subject.txt", context)
            body = render_to_string(f"fulfillment/email/{what}.txt", context)
        send_mail(
            " ".join(subject.split()),
            body,
            settings.DEFAULT_FROM_EMAIL,
            [recipient],
            fail_silently=False,
        )
        record_shipment_event(
            shipment,
            kind=ShipmentEvent.Kind.NOTE,
            actor=Actor.system("mailer"),
            message=f"E-mail '{what}' sent to the customer ({language})",
            details={"email": what, "language": language},
        )
    return True
