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
"""

import gc

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
