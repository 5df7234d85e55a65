"""Orders that arrive at the same moment are placed together (group commit).

A placement's cost is mostly per transaction, not per order: the statements it sends
(read the SKUs, find the buyer, lock the stock, write orders, lines, allocations, the
ledger, events and outbox) cost the same for one order as for eight. When several
requests of one process want to place an order at once, one of them (the leader) places
all that are waiting in one transaction through the bulk placement
(``bulk_placement.place_orders``: the same checks, routing under the same stock locks,
the same events and webhooks), and each request answers with its own order or error.

- Nobody waits for a batch to fill: the leader takes what is queued when it starts. A
  lone request is a batch of one; under load, requests queue while the leader works and
  the next leader takes them all.
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

from django.db import IntegrityError, connection, transaction

from oms_site.actors import Actor
from oms_site.errors import DomainError

from .bulk_placement import place_orders
from .placement import place_order

logger = logging.getLogger(__name__)
MAX_BATCH = 16
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

    def __init__(self, max_batch: int = MAX_BATCH):
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: list[_Request] = []
        self._leading = False
        self.batches = 0  # how many batches and orders were placed (read by tests)
        self.grouped_orders = 0

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


def place_grouped(*, actor: Actor, hooks=None, alone=None, **spec):
    """``place_order`` for a plain order (``eligible(spec)``), placed together with the
    other requests of this process that place one at the same moment (see
    ``PlacementGroup.place`` for ``hooks`` and ``alone``)."""
    return _group.place(spec, actor, hooks=hooks, alone=alone)
