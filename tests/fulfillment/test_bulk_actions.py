"""The order list's fulfillment bulk actions: pick lists for the chosen orders (one wave per
warehouse, each order told which list it is on) and their packing slips as one PDF."""

import io

import pytest
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from fulfillment.models import PickList, Shipment
from orders.dashboard_models import BulkJob, BulkJobItem
from orders.services import bulk_jobs

from .conftest import SYSTEM, shelve

pytestmark = pytest.mark.django_db


def run(user, action, orders):
    with translation.override("en"):
        job = bulk_jobs.start_bulk_job(
            action_key=action, raw_params={}, user=user, order_ids=[o.pk for o in orders]
        )
        bulk_jobs.run_bulk_job(job.pk)
    job.refresh_from_db()
    return job


def outcome(job, order):
    return job.items.get(order=order)


def test_pick_lists_for_chosen_orders_one_wave_per_warehouse(users, skus, leeds, place):
    from tests import factories

    hat = factories.SKUFactory(code="HAT-GRN", barcode="4000000000013")
    shelve(hat, leeds, 5, "L-01")
    berlin_orders = [place(("TSHIRT-BLK-M", 1)), place(("MUG-WHT", 2), ("CAP-RED", 1))]
    leeds_order = place(("HAT-GRN", 1))
    from orders import services as order_services

    cancelled = place(("MUG-WHT", 1))
    order_services.cancel_order(cancelled, actor=SYSTEM)

    job = run(users["manager"], "pick_lists", [*berlin_orders, leeds_order, cancelled])

    assert job.status == BulkJob.Status.DONE
    assert (job.succeeded, job.refused) == (3, 1)
    lists = list(PickList.objects.select_related("warehouse"))
    assert {pl.warehouse.code for pl in lists} == {"ber", "lds"}
    for order in [*berlin_orders, leeds_order]:
        item = outcome(job, order)
        assert item.outcome == BulkJobItem.Outcome.DONE
        assert "PL-" in item.message
        assert Shipment.objects.filter(order=order).count() == 1
    refused = outcome(job, cancelled)
    assert refused.outcome == BulkJobItem.Outcome.REFUSED and "cancelled" in refused.message.lower()
    assert "pick list" in job.error


def test_a_warehouse_user_makes_lists_only_in_their_warehouse(
    users, warehouse_user, skus, leeds, place
):
    from tests import factories

    hat = factories.SKUFactory(code="HAT-GRN", barcode="4000000000013")
    shelve(hat, leeds, 5, "L-01")
    mine, theirs = place(("TSHIRT-BLK-M", 1)), place(("HAT-GRN", 1))

    job = run(warehouse_user, "pick_lists", [mine, theirs])

    assert outcome(job, mine).outcome == BulkJobItem.Outcome.DONE
    assert outcome(job, theirs).outcome == BulkJobItem.Outcome.REFUSED
    assert not Shipment.objects.filter(order=theirs).exists()
    assert set(PickList.objects.values_list("warehouse__code", flat=True)) == {"ber"}


def test_an_order_already_on_a_list_is_refused_not_listed_twice(users, skus, place):
    order = place(("TSHIRT-BLK-M", 1))
    run(users["manager"], "pick_lists", [order])
    again = run(users["manager"], "pick_lists", [order])
    assert outcome(again, order).outcome == BulkJobItem.Outcome.REFUSED
    assert PickList.objects.count() == 1


def test_packing_slips_of_many_orders_in_one_pdf(users, client_for, skus, place):
    picked = [place(("TSHIRT-BLK-M", 1)), place(("MUG-WHT", 1))]
    not_picked = place(("CAP-RED", 1))
    run(users["manager"], "pick_lists", picked)

    job = run(users["manager"], "packing_slips", [*picked, not_picked])

    assert (job.succeeded, job.refused) == (2, 1)
    assert "pick list" in outcome(job, not_picked).message
    page = client_for("manager").get(reverse("orders:bulk_job", args=[job.pk]))
    assert job.result_file in page.content.decode()
    response = client_for("manager").get(job.result_file)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) == 2
    for order in picked:
        assert order.number in text
    assert not_picked.number not in text


def test_the_pick_list_action_needs_the_fulfillment_role(client_for, skus, place):
    order = place(("TSHIRT-BLK-M", 1))
    client_for("support").post(
        reverse("orders:bulk_start"),
        {"scope": "selected", "ids": [order.pk], "action": "pick_lists"},
    )
    assert not BulkJob.objects.exists()


def test_the_order_page_lists_the_orders_shipments(users, client_for, warehouse_user, skus, place):
    order = place(("TSHIRT-BLK-M", 1))
    run(users["manager"], "pick_lists", [order])
    shipment = Shipment.objects.get(order=order)
    page = client_for("manager").get(reverse("orders:detail", args=[order.number])).content
    html = page.decode()
    assert 'id="order-shipments"' in html
    assert reverse("fulfillment:shipment", args=[shipment.number]) in html
    support = client_for("support").get(reverse("orders:detail", args=[order.number]))
    assert shipment.number in support.content.decode()
    other = place(("MUG-WHT", 1))
    assert (
        'id="order-shipments"'
        not in client_for("manager")
        .get(reverse("orders:detail", args=[other.number]))
        .content.decode()
    )
