"""Orders that arrive at the same moment are placed together (group commit).

A placement's cost is mostly per transaction, not per order: the statements it sends
(read the SKUs, find the buyer, lock the stock, write orders, lines, allocations, the
ledger, events and outbox) cost the same for one order as for eight. When several
requests of one process want to place an order at once, one of them (the leader) places
all that are waiting in one transaction through the bulk placement
(``bulk_placement.place_orders``: the same checks, routing under the same stock locks,
the same events and webhooks), and each request answers with its own order or error.

- A lone request is a batch of one and waits for nobody. Under load, requests queue
  while the leader works and the next leader takes them all; and a leader waits, at most
  ``OMS_PLACEMENT_GROUP_WAIT_MS`` (20 ms), until as many requests are queued as its
  process has lately served at once (``serving``). Without that wait, concurrent clients
  settle into two cohorts that take turns (one places while the other is answered and
  sends its next order), and batches stay at half the clients: measured with 8 clients
  on two gunicorn processes, 2 orders a batch; with the wait 3-4, and about a third less
  CPU per order (``bench/README.md`` has the runs).
- Leadership passes to the oldest waiting request when a batch is done, so no request
  keeps placing other requests' orders.
- A batch holds orders of one actor only (the audit trail names who placed each), and
  never the same channel and external id twice (the second waits for the next batch).
- An order refused by its checks fails alone. If the batch's transaction fails as a
  whole (an external id imported before, which only the unique constraint sees; a
  deadlock; a lost connection), nothing of it was written and every request of the
  batch places its order alone, in its own thread and transaction: the duplicate is then
  refused with 409 naming the order, as ``place_order`` refuses it.
- A leader whose connection is already inside a transaction (a test's, an outer
  ``atomic``) places only its own order: others must not commit or roll back with it.

Only plain orders are grouped: ``eligible`` says which. Drafts, stock holds, a chosen
warehouse and a payment go through ``place_order``. A request with an ``Idempotency-Key``
is grouped too: its record is claimed first in the batch's transaction and keeps the
answer (``idempotency.KeyedCreate``); two requests with one key never share a batch.
"""

import logging
import threading
import time
from contextlib import contextmanager

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from oms_site.actors import Actor
from oms_site.errors import DomainError

from .bulk_placement import place_orders
from .placement import place_order

logger = logging.getLogger(__name__)
MAX_BATCH = 16
# How long "lately" is for the most requests served at once (see PlacementGroup.serving).
PEAK_SECONDS = 1.0
_GROUPED_OPTIONS = ("reservation_token", "warehouse", "draft", "payment")


def eligible(spec: dict) -> bool:
    """Whether ``place_order(**spec)`` may be placed in a group instead."""
    channel = spec.get("channel")
    return (
        channel is not None
        and not channel.collected_by_marketplace
        and not any(spec.get(option) for option in _GROUPED_OPTIONS)
    )


class _Request:
    __slots__ = (
        "spec",
        "actor",
        "hooks",
        "claims",
        "done",
        "lead",
        "order",
        "answer",
        "error",
    )

    def __init__(self, spec, actor, hooks=None):
        self.spec = spec
        self.actor = actor
        self.hooks = hooks
        self.done = threading.Event()
        self.lead = False  # woken to lead the next batch
        self.order = None
        self.answer = None  # what the hooks made of the order
        self.error = None
        # What no other request of its batch may claim too: its external id, and its
        # hooks' key (an Idempotency-Key).
        self.claims = set()
        if hooks is not None:
            self.claims.add(("hooks", hooks.sort_key))
        external_id = spec.get("external_id")
        if external_id is not None and str(external_id).strip():
            self.claims.add(("external_id", spec["channel"].pk, str(external_id).strip()))

    @property
    def bulk_spec(self) -> dict:
        """The spec as ``place_orders`` takes it: without the options it has no use for
        (``eligible`` made sure they are unset)."""
        return {k: v for k, v in self.spec.items() if k not in _GROUPED_OPTIONS}


class PlacementGroup:
    """One per process (``place_grouped`` uses it); thread-safe."""

    def __init__(self, max_batch: int = MAX_BATCH, wait_ms: int | None = None):
        """``wait_ms``: the leader's longest wait for company (default: the setting)."""
        self.max_batch = max_batch
        self.wait_ms = wait_ms
        self._lock = threading.Lock()
        self._joined = threading.Condition(self._lock)  # a request was queued
        self._queue: list[_Request] = []
        self._leading = False
        self._serving = 0  # requests inside ``serving`` now
        self._peak = 0  # the most at once, last reached at _peak_at
        self._peak_at = 0.0
        self.batches = 0  # how many batches and orders were placed (read by tests)
        self.grouped_orders = 0
        self.waits = 0  # how often a leader waited for company

    @contextmanager
    def serving(self):
        """Around a request's placement and its answer (the view's part of it): the
        most requests inside at once lately is how many a leader waits for. A request
        being answered counts too, as its client is about to send the next order."""
        with self._lock:
            self._serving += 1
            now = time.monotonic()
            if self._serving >= self._peak or now - self._peak_at > PEAK_SECONDS:
                self._peak, self._peak_at = self._serving, now
        try:
            yield
        finally:
            with self._lock:
                self._serving -= 1

    def _expected(self) -> int:
        """Under the lock: the most requests served at once in the last PEAK_SECONDS."""
        if time.monotonic() - self._peak_at > PEAK_SECONDS:
            return self._serving
        return self._peak

    def _await_company(self) -> None:
        """Under the lock (released while waiting): wait, at most ``wait_ms``, until as
        many requests are queued as this process has lately served at once. A lone
        request returns at once; so does a leader inside a transaction (it places only
        its own order)."""
        wait_ms = settings.OMS_PLACEMENT_GROUP_WAIT_MS if self.wait_ms is None else self.wait_ms
        if wait_ms <= 0 or connection.in_atomic_block:
            return
        expected = min(self._expected(), self.max_batch)
        if len(self._queue) >= expected:
            return
        self.waits += 1
        deadline = time.monotonic() + wait_ms / 1000
        while len(self._queue) < expected:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._joined.wait(remaining)

    def place(self, spec: dict, actor: Actor, *, hooks=None, alone=None):
        """Place one order (``place_order``'s keyword arguments, ``eligible``); returns
        the order or raises the ``DomainError`` that refused it.

        ``hooks``: the caller's own writes in the batch's transaction (an
        ``idempotency.KeyedCreate``): ``claim()`` before any order of the batch is
        placed (in ``sort_key`` order), then ``answered(order)``, whose value ``place``
        returns, or ``refused()``. Two requests with one ``sort_key`` never share a batch.
        If the batch fails as a whole, nothing of it was written and ``alone()`` is
        returned instead (default: ``place_order`` on its own)."""
        request = _Request(spec, actor, hooks)
        with self._lock:
            self._queue.append(request)
            self._joined.notify_all()
            lead = not self._leading
            self._leading = True
        if not lead:
            request.done.wait()
            lead = request.lead
        if lead:
            self._lead(request)
        if request.error is not None:
            raise request.error
        if request.order is None:  # its batch failed as a whole: nothing was written
            return alone() if alone is not None else place_order(**spec, actor=actor)
        return request.answer if hooks is not None else request.order

    def _take_batch(self, leader: _Request) -> list[_Request]:
        """Under the lock: the leader's request and those queued behind it that may
        share its transaction."""
        batch, claimed = [leader], set(leader.claims)
        if not connection.in_atomic_block:
            for request in self._queue:
                if len(batch) >= self.max_batch:
                    break
                if request is leader or request.actor != leader.actor:
                    continue
                if claimed & request.claims:
                    continue
                claimed |= request.claims
                batch.append(request)
        for request in batch:
            self._queue.remove(request)
        return batch

    def _lead(self, leader: _Request) -> None:
        with self._lock:
            self._await_company()
            batch = _Batch(self, leader, self._take_batch(leader))
        placed = False
        try:
            with transaction.atomic():
                # The first hook after the commit: the batch's requests answer, and the
                # next leader starts, while this thread runs the other hooks (enqueueing
                # webhook deliveries). A later hook that fails can't make the batch look
                # unwritten (and be placed twice): it is finished by then.
                transaction.on_commit(batch.finish)
                # The callers' claims first (their keys before any stock lock, as every
                # other path takes them), in one order across batches.
                hooked = [r for r in batch.requests if r.hooks is not None]
                for request in sorted(hooked, key=lambda r: r.hooks.sort_key):
                    request.hooks.claim()
                # A duplicate external id (rare here) fails the batch: each request
                # then places its order alone, and the duplicate is refused with 409.
                results = place_orders(
                    [r.bulk_spec for r in batch.requests],
                    actor=leader.actor,
                    read_known_first=False,
                    one_by_one_on_conflict=False,
                )
                for request, result in zip(batch.requests, results, strict=True):
                    if request.hooks is None:
                        continue
                    if isinstance(result, DomainError):
                        request.hooks.refused()
                    else:
                        request.answer = request.hooks.answered(result)
                batch.results = results
            placed = True  # committed, or joined the caller's transaction
        except IntegrityError:
            # An order imported before (the unique external id): nothing of the batch was
            # written; each request places its order alone, and that one is refused.
            logger.info(
                "A batch of %d orders met a duplicate; each is placed alone", len(batch.requests)
            )
        except Exception:
            logger.exception(
                "A batch of %d orders failed%s",
                len(batch.requests),
                " after its commit" if batch.finished else "; each is placed alone",
            )
        finally:
            if not batch.finished:
                if not placed:
                    batch.results = None  # nothing of it was written
                batch.finish()

    def _hand_over(self) -> None:
        """Leadership to the oldest waiting request, if any."""
        with self._lock:
            successor = self._queue[0] if self._queue else None
            if successor is None:
                self._leading = False
            else:
                successor.lead = True
        if successor is not None:
            successor.done.set()


class _Batch:
    """The requests one leader places in one transaction, and what became of them."""

    def __init__(self, group: PlacementGroup, leader: _Request, requests: list[_Request]):
        self.group = group
        self.leader = leader
        self.requests = requests
        self.results = None  # place_orders' answer, once it has given one
        self.finished = False

    def finish(self) -> None:
        """Once: give each request its order or error (none if the batch was not
        written: it then places its order alone), wake them, hand leadership over."""
        if self.finished:
            return
        self.finished = True
        if self.results is not None:
            for request, result in zip(self.requests, self.results, strict=True):
                if isinstance(result, DomainError):
                    request.error = result
                else:
                    request.order = result
            self.group.batches += 1
            self.group.grouped_orders += len(self.requests)
        for request in self.requests:
            if request is not self.leader:
                request.done.set()
        self.group._hand_over()


_group = PlacementGroup()


def serving():
    """``PlacementGroup.serving`` of this process's group: around a grouped request's
    placement and answer."""
    return _group.serving()


def place_grouped(*, actor: Actor, hooks=None, alone=None, **spec):
    """``place_order`` for a plain order (``eligible(spec)``), placed together with the
    other requests of this process that place one at the same moment (see
    ``PlacementGroup.place`` for ``hooks`` and ``alone``)."""
    return _group.place(spec, actor, hooks=hooks, alone=alone)
