"""Python's cyclic garbage collector, tuned for the long-lived server processes (gunicorn
workers, Celery workers).

A marketplace page or an API order allocates tens of thousands of objects (model
instances, JSON, SQL). With CPython's default first-generation threshold (700 net
allocations) the collector runs hundreds of times per page, and its older-generation
passes walk every object that Django and the apps created at start-up, none of which is
ever garbage. Measured on marketplace ingest: about a sixth of a worker's CPU per order.

So, once a process has started:

- ``gc.freeze()`` moves everything alive at that moment (modules, settings, URL patterns,
  caches) to a permanent generation the collector no longer walks;
- the first-generation threshold is raised to ``OMS_GC_THRESHOLD`` (0 leaves CPython's
  defaults), so young objects are collected in fewer, larger passes. Cycles are still
  collected, a little later: memory is bounded by the threshold, not left to grow.

And a bounded unit of work that builds many objects and drops them all at its end (a
marketplace page: its records, a hundred orders with their lines, rows and events) runs
with the collector paused (``collector_paused``). Its objects are then freed by their
reference counts when it ends, never walked while alive: with the collector running, a
page cost 4.8-5.6 ms of collection (27 first-generation passes over 59 pages, each walking
the page's live records and instances), 5 % of its CPU. What is left in cycles is
collected after the page, once allocations pass the threshold again.
"""

import gc
from contextlib import contextmanager

from django.conf import settings


def tune_gc() -> bool:
    """Freeze what the process has built so far and raise the threshold; False when
    ``OMS_GC_THRESHOLD`` is 0 (nothing changed)."""
    threshold = getattr(settings, "OMS_GC_THRESHOLD", 0)
    if threshold <= 0:
        return False
    gc.collect()  # garbage of the start-up itself is not kept forever
    gc.freeze()
    _first, second, third = gc.get_threshold()
    gc.set_threshold(threshold, second, third)
    return True


@contextmanager
def collector_paused():
    """Run the block with the cyclic collector off (see above); only for work whose
    size is bounded. Nested or concurrent blocks are safe: whoever turned the collector
    off turns it back on, so it is never left off."""
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()
