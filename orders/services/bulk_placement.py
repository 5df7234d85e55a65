"""Placing many orders in one transaction (marketplace pages, imports).

Every order gets exactly what ``place_order`` gives one order — validation, totals,
customer, hold rules, routing and allocation under the stock locks, the event trail and
one ``order.created`` webhook — because each goes through ``place_order`` itself, inside
a savepoint of the caller's transaction: an order that is refused (unknown SKU, bad
address, duplicate external id) is reported and the others still commit, all together.
The caller locks the stock of every SKU in the batch first (pk order), so two batches in
two workers never wait on each other in a cycle.
"""

from django.db import transaction

from oms_site.actors import Actor
from oms_site.errors import DomainError

from .amendments import record_channel_payment
from .placement import place_order


def place_orders(specs: list[dict], *, actor: Actor, paid_by: str = "") -> list:
    """``specs``: keyword arguments of ``place_order`` per order. Returns, in the same
    order, the placed ``Order`` or the ``DomainError`` that refused it. With ``paid_by``,
    each order is recorded as paid, collected by that party (marketplaces)."""
    assert transaction.get_connection().in_atomic_block, "place_orders needs a transaction"
    results = []
    for spec in specs:
        try:
            with transaction.atomic():
                order = place_order(**spec, actor=actor)
                if paid_by:
                    order = record_channel_payment(order, actor=actor, collected_by=paid_by)
        except DomainError as exc:
            results.append(exc)
        else:
            results.append(order)
    return results
