"""The server processes' garbage-collector tuning (oms_site/gc_tuning.py)."""

import gc

import pytest

from oms_site.gc_tuning import collector_paused, tune_gc


@pytest.fixture
def restored_gc():
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_start_up_objects_are_frozen_and_the_threshold_raised(settings, restored_gc):
    settings.OMS_GC_THRESHOLD = 25_000
    _first, second, third = gc.get_threshold()
    assert tune_gc() is True
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (25_000, second, third)
    # Cycles made afterwards are still collected.
    cycle = []
    cycle.append(cycle)
    del cycle
    assert gc.collect() >= 1


def test_zero_keeps_pythons_defaults(settings, restored_gc):
    settings.OMS_GC_THRESHOLD = 0
    before = gc.get_threshold()
    assert tune_gc() is False
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_the_collector_is_paused_in_the_block_and_back_after_it_even_on_an_error():
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        assert not gc.isenabled()
        with collector_paused():  # nested: the outer block turns it back on
            assert not gc.isenabled()
        assert not gc.isenabled()
        raise RuntimeError("the page failed")
    assert gc.isenabled()


def test_a_block_entered_with_the_collector_off_leaves_it_off():
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
