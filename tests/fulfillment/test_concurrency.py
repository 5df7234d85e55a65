"""Two people making waves at the same moment on PostgreSQL: every order lands on exactly
one pick list, nobody waits on the other, and nothing fails."""

import threading

import pytest
from django.db import connection

from fulfillment import services
from fulfillment.models import PickListOrder, Shipment
from fulfillment.services import WaveRules

from .conftest import SYSTEM


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_waves_never_share_an_order(skus, berlin, place):
    orders = [place(("MUG-WHT", 1)) for _ in range(20)]  # every mug Berlin has
    barrier = threading.Barrier(4)
    made, errors = [], []

    def wave():
        try:
            barrier.wait()
            lists = services.create_pick_lists(
                warehouse=berlin, actor=SYSTEM, rules=WaveRules(max_orders=3, max_lists=0)
            )
            made.extend(lists)
        except Exception as exc:  # the test reports it
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=wave) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    entries = list(PickListOrder.objects.values_list("order_id", flat=True))
    assert sorted(entries) == sorted(o.pk for o in orders)  # each exactly once
    assert Shipment.objects.count() == 20


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_wave_that_read_its_orders_before_another_wave_committed_skips_them(skus, berlin, place):
    """The candidates are read before their rows are locked: orders another wave took in
    between are left out, not put on a second pick list (nor failed on the constraint)."""
    from django.db import transaction

    from fulfillment.services import picking

    orders = [place(("MUG-WHT", 1)) for _ in range(4)]
    rules = WaveRules(max_orders=2, max_lists=0)
    read_first = picking._candidates(berlin, rules)
    assert {c.order_id for c in read_first} == {o.pk for o in orders}

    def other_wave():
        try:
            services.create_pick_lists(warehouse=berlin, actor=SYSTEM, rules=rules)
        finally:
            connection.close()

    thread = threading.Thread(target=other_wave)
    thread.start()
    thread.join()
    with transaction.atomic():
        assert picking._lock_free_orders(read_first, berlin) == []
    assert Shipment.objects.count() == 4
