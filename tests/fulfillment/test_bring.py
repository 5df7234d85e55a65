"""Bring through its documented formats, against the local sandbox: booking with label,
rates, tracking by polling and by the signed webhook, and the faults (429, 5xx, refusal)
handled with nothing lost and nothing doubled."""

import json
import time

import pytest
from django.test import override_settings
from django.urls import reverse
from pypdf import PdfReader

from fulfillment import services, tasks
from fulfillment.carriers import CarrierRefused, CarrierUnavailable, adapter_for
from fulfillment.carriers.bring_sandbox import BringSandbox
from fulfillment.models import CarrierAccount, CarrierService, Shipment, ShipmentStatus
from oms_site.webhooks import sign
from orders.models import OrderStatus

from .conftest import SYSTEM
from .test_shipping import pack_everything, pick_everything

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox():
    with BringSandbox(transit_after=3600, deliver_after=7200) as server:
        yield server


@pytest.fixture
def bring(sandbox):
    carrier = CarrierAccount.objects.create(
        code="bring",
        name="Bring",
        kind=CarrierAccount.Kind.BRING,
        api_base_url=sandbox.url,
        credentials={"api_uid": "shop@example.com", "api_key": "k-123", "customer_number": "5"},
        webhook_secret="hook-secret",
        test_mode=True,
    )
    CarrierService.objects.create(carrier=carrier, code="5800", name="Pakke til hentested")
    return carrier


@pytest.fixture
def packed(skus, berlin, place, box):
    order = place(("MUG-WHT", 2))
    [pick_list] = services.create_pick_lists(warehouse=berlin, actor=SYSTEM)
    pick_everything(pick_list)
    return pack_everything(Shipment.objects.get(order=order))


def test_booking_speaks_bring_and_stores_the_label(sandbox, bring, packed):
    service = bring.services.get()
    shipment = services.book_shipment(packed, carrier=bring, service=service, actor=SYSTEM)
    request = next(r for r in sandbox.requests if r["path"] == "/booking/api/create")
    body = json.loads(request["body"])
    assert body["schemaVersion"] == 1
    consignment = body["consignments"][0]
    assert consignment["product"] == {"id": "5800", "customerNumber": "5"}
    assert consignment["correlationId"] == shipment.number
    assert consignment["parties"]["recipient"]["postalCode"] == "51147"
    assert consignment["parties"]["sender"]["city"] == "Berlin"
    assert consignment["packages"][0]["weightInKg"] == pytest.approx(0.85)
    assert request["headers"]["X-Mybring-API-Uid"] == "shop@example.com"
    assert request["headers"]["X-Bring-Test-Indicator"] == "true"
    assert shipment.tracking_number.startswith("70438101")
    assert shipment.packages.get().tracking_number.startswith("370438101")
    label = "\n".join(p.extract_text() for p in PdfReader(_bytes(shipment.label_pdf)).pages)
    assert shipment.tracking_number in label and "Erika Mustermann" in label
    # Booking again (a double click) does not book twice.
    services.book_shipment(packed, carrier=bring, service=service, actor=SYSTEM)
    assert sum(r["path"] == "/booking/api/create" for r in sandbox.requests) == 1
    shipment = services.ship_shipment(shipment, actor=SYSTEM)
    assert shipment.status == ShipmentStatus.SHIPPED


def _bytes(value):
    import io

    return io.BytesIO(bytes(value))


def test_a_429_is_retried_after_the_pause_bring_asks_for(sandbox, bring, packed):
    sandbox.fail_next("/booking", 429, retry_after=0)
    shipment = services.book_shipment(
        packed, carrier=bring, service=bring.services.get(), actor=SYSTEM
    )
    assert shipment.booked_at is not None
    assert sum(r["path"] == "/booking/api/create" for r in sandbox.requests) == 2


def test_a_server_error_books_nothing_and_a_retry_works(sandbox, bring, packed):
    sandbox.fail_next("/booking", 503)
    with pytest.raises(CarrierUnavailable):
        services.book_shipment(packed, carrier=bring, service=bring.services.get(), actor=SYSTEM)
    packed.refresh_from_db()
    assert packed.status == ShipmentStatus.PACKED and packed.booked_at is None
    assert packed.tracking_number == ""
    # Not retried automatically: a 5xx booking may have been made on Bring's side.
    assert sum(r["path"] == "/booking/api/create" for r in sandbox.requests) == 1
    shipment = services.book_shipment(
        packed, carrier=bring, service=bring.services.get(), actor=SYSTEM
    )
    assert shipment.booked_at is not None


def test_a_refused_booking_names_bring_s_reason(sandbox, bring, packed):
    order = packed.order
    order.shipping_address = order.shipping_address | {"postal_code": ""}
    order.save(update_fields=["shipping_address"])
    with pytest.raises(CarrierRefused) as refused:
        services.book_shipment(packed, carrier=bring, service=bring.services.get(), actor=SYSTEM)
    assert "postal code" in refused.value.message
    packed.refresh_from_db()
    assert packed.booked_at is None


def test_rates_from_the_shipping_guide(sandbox, bring, packed):
    from fulfillment.services.booking import booking_request

    rates = adapter_for(bring).rates(booking_request(packed, service_code="5800"))
    assert rates[0].service_code == "5800" and rates[0].currency == "NOK"
    assert rates[0].amount > 79 and rates[0].days == 2


def test_polling_moves_the_shipment_and_the_order(sandbox, bring, packed):
    shipment = services.book_shipment(
        packed, carrier=bring, service=bring.services.get(), actor=SYSTEM
    )
    shipment = services.ship_shipment(shipment, actor=SYSTEM)
    number = shipment.tracking_number
    sandbox.add_event(number, "IN_TRANSIT", "Underway to the terminal")
    sandbox.fail_next("/tracking", 502)  # retried: reads are safe to repeat
    assert tasks.poll_tracking(shipment.pk) == 2  # PRE_NOTIFIED and IN_TRANSIT
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.IN_TRANSIT
    assert tasks.poll_tracking(shipment.pk) == 0  # nothing new, nothing doubled
    time.sleep(1.1)  # Bring stamps events to the second
    sandbox.add_event(number, "DELIVERED", "Delivered to the recipient", city="Köln")
    assert tasks.poll_tracking(shipment.pk) == 1
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.DELIVERED
    assert shipment.order.status == OrderStatus.DELIVERED
    assert tasks.poll_tracking(shipment.pk) == 0  # delivered: no longer polled


def test_polling_through_a_storm_of_429s_gives_up_cleanly(sandbox, bring, packed):
    shipment = services.book_shipment(
        packed, carrier=bring, service=bring.services.get(), actor=SYSTEM
    )
    services.ship_shipment(shipment, actor=SYSTEM)
    sandbox.fail_next("/tracking", 429, 429, 429, retry_after=0)
    with pytest.raises(CarrierUnavailable):
        services.poll_shipment(shipment.pk)
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.SHIPPED


def test_due_shipments_are_polled_by_beat(sandbox, bring, packed):
    shipment = services.book_shipment(
        packed, carrier=bring, service=bring.services.get(), actor=SYSTEM
    )
    services.ship_shipment(shipment, actor=SYSTEM)
    with override_settings(OMS_TRACKING_POLL_MINUTES=0):
        assert tasks.poll_due_tracking() == 1
    shipment.refresh_from_db()
    assert shipment.tracking_checked_at is not None
    assert shipment.events.filter(carrier_status="PRE_NOTIFIED").exists()


def _signed_post(client, carrier, payload, secret=None):
    body = json.dumps(payload).encode()
    stamp = int(time.time())
    return client.post(
        reverse("hooks:carrier_tracking", args=[carrier.code]),
        data=body,
        content_type="application/json",
        HTTP_X_OMS_CARRIER_SIGNATURE=sign(secret or carrier.webhook_secret, stamp, body),
    )


def test_the_signed_webhook_records_updates_once(client, sandbox, bring, packed):
    shipment = services.book_shipment(
        packed, carrier=bring, service=bring.services.get(), actor=SYSTEM
    )
    services.ship_shipment(shipment, actor=SYSTEM)
    sandbox.add_event(shipment.tracking_number, "ATTEMPTED_DELIVERY")
    document = sandbox.tracking_document(shipment.tracking_number)
    response = _signed_post(client, bring, document)
    assert response.status_code == 200 and response.json()["new_events"] == 2
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.EXCEPTION
    assert _signed_post(client, bring, document).json()["new_events"] == 0

    forged = _signed_post(client, bring, document, secret="guess")
    assert forged.status_code == 401
    unsigned = client.post(
        reverse("hooks:carrier_tracking", args=["bring"]),
        data=b"{}",
        content_type="application/json",
    )
    assert unsigned.status_code == 401
    assert client.post(reverse("hooks:carrier_tracking", args=["nobody"])).status_code == 404
    assert shipment.events.filter(kind="tracking").count() == 2


def test_the_ship_screen_shows_each_services_price_and_days(
    sandbox, bring, packed, own_courier, picker
):
    page = picker.get(reverse("fulfillment:ship", args=[packed.number])).content.decode()
    assert 'id="rates"' in page
    assert "Pakke til hentested" in page and "NOK" in page
    assert "Own courier" in page  # the manual carrier quotes its flat rate


def test_the_ship_screen_says_when_a_carrier_gives_no_price(sandbox, bring, packed, picker):
    sandbox.fail_next("/shippingguide", *[503] * 6)  # every retry fails too
    page = picker.get(reverse("fulfillment:ship", args=[packed.number])).content.decode()
    assert "No price now" in page
    assert 'id="book-and-ship"' in page  # booking is still offered


@pytest.fixture
def picker(client_for, warehouse_user):
    return client_for("warehouse")
