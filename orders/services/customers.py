"""Customers: finding one for a new order, notes, blocking, and merging two into one."""

from collections import defaultdict

from django.db import connection, transaction
from django.utils.translation import gettext as _

from oms_site import raw_reads
from oms_site.actors import Actor
from oms_site.bulk_rows import insert_new_rows, update_rows
from oms_site.errors import ValidationFailed

from ..models import Customer, Order, OrderEvent
from .events import record_event

MAX_NOTES = 5000


def _surviving(customer: Customer) -> Customer:
    """Follow ``merged_into`` to the customer that holds the orders now."""
    seen = set()
    while customer.merged_into_id is not None and customer.pk not in seen:
        seen.add(customer.pk)
        customer = Customer.objects.get(pk=customer.merged_into_id)
    return customer


def customer_for_order(*, email: str, name: str = "", phone: str = "", channel=None):
    """The customer a new order belongs to, by e-mail: the one from the order's channel,
    else the oldest with that e-mail (merged ones lead to where they were merged); a new
    one (from this channel) when none exists. None without an e-mail."""
    email = (email or "").strip().lower()
    if not email:
        return None
    candidates = list(Customer.objects.filter(email=email).order_by("pk")[:20])
    chosen = _choose(candidates, channel)
    if chosen is None:
        chosen, _created = Customer.objects.get_or_create(
            email=email,
            channel=channel,
            defaults={"name": name[:200], "phone": phone[:40]},
        )
    chosen = _surviving(chosen)
    changed = _fill_in(chosen, name, phone)
    if changed:
        chosen.save(update_fields=changed)
    return chosen


def customers_for_orders(buyers: dict) -> dict:
    """``customer_for_order`` for a batch of new orders, in three statements rather than
    several per buyer: ``buyers`` maps ``(e-mail, channel id)`` (the e-mail lower-cased) to
    ``(name, phone, channel)``; returns the customer of each key.

    Missing customers are inserted together, skipping any that another transaction
    inserted meanwhile (the unique e-mail per channel); those are read back (on SQLite,
    all of them)."""
    if not buyers:
        return {}
    emails = {email for email, _ in buyers}
    by_email = _candidates_by_email(emails)
    missing = {key: want for key, want in buyers.items() if not _choose(by_email[key[0]], want[2])}
    if missing and connection.vendor == "postgresql":
        # The new customers come back from the INSERT itself; only one that another
        # transaction inserted meanwhile (skipped here) is read.
        made = insert_new_rows(
            Customer,
            [
                {"email": email, "channel_id": channel_id, "name": name[:200], "phone": phone[:40]}
                for (email, channel_id), (name, phone, _channel) in missing.items()
            ],
        )
        for customer in made:
            by_email[customer.email].append(customer)
        inserted = {(c.email, c.channel_id) for c in made}
        skipped = {email for email, channel_id in missing if (email, channel_id) not in inserted}
        if skipped:
            by_email |= _candidates_by_email(skipped)
    elif missing:
        Customer.objects.bulk_create(
            [
                Customer(email=email, channel=channel, name=name[:200], phone=phone[:40])
                for (email, _), (name, phone, channel) in missing.items()
            ],
            ignore_conflicts=True,
        )
        by_email |= _candidates_by_email({email for email, _ in missing})
    found, changed = {}, {}
    for key, (name, phone, channel) in buyers.items():
        chosen = _surviving(_choose(by_email[key[0]], channel))
        if _fill_in(chosen, name, phone):
            changed[chosen.pk] = chosen
        found[key] = chosen
    if changed:
        update_rows(list(changed.values()), ["name", "phone"])
    return found


def _candidates_by_email(emails) -> dict:
    by_email = defaultdict(list)
    if connection.vendor == "postgresql":
        # The same rows and order, without compiling the query each time.
        found = raw_reads.fetch(Customer, "email", list(emails))
    else:
        found = Customer.objects.filter(email__in=emails).order_by("pk")
    for customer in found:
        by_email[customer.email].append(customer)
    return by_email


def _choose(candidates, channel) -> Customer | None:
    """The channel's own customer, else the oldest one not merged, else the oldest."""
    chosen = next(
        (c for c in candidates if channel is not None and c.channel_id == channel.pk), None
    ) or next((c for c in candidates if c.merged_into_id is None), None)
    if chosen is None and candidates:
        chosen = candidates[0]
    return chosen


def _fill_in(customer, name, phone) -> list[str]:
    """Give the customer the name and phone it lacks; returns the fields changed."""
    changed = []
    if name and not customer.name:
        customer.name = name[:200]
        changed.append("name")
    if phone and not customer.phone:
        customer.phone = phone[:40]
        changed.append("phone")
    return changed


def _lock(customer_id) -> Customer:
    return Customer.objects.select_for_update(of=("self",)).get(pk=customer_id)


@transaction.atomic
def set_customer_notes(customer, *, notes: str, actor: Actor) -> Customer:
    notes = (notes or "").strip()
    if len(notes) > MAX_NOTES:
        raise ValidationFailed(
            _("The notes are too long."),
            fields={"notes": [_("At most %(count)s characters.") % {"count": MAX_NOTES}]},
        )
    customer = _lock(customer.pk)
    customer.notes = notes
    customer.save(update_fields=["notes"])
    return customer


@transaction.atomic
def block_customer(customer, *, actor: Actor, reason: str = "") -> Customer:
    """New orders from a blocked customer are held (when the hold rule is on); a line with
    who and why goes into the customer's notes."""
    customer = _lock(customer.pk)
    if customer.blocked:
        raise ValidationFailed(
            _("%(customer)s is already blocked.") % {"customer": customer},
            fields={"blocked": [_("Already blocked.")]},
        )
    customer.blocked = True
    entry = _("Blocked by %(actor)s") % {"actor": actor.label}
    if reason.strip():
        entry += f": {reason.strip()[:300]}"
    customer.notes = (customer.notes + "\n" if customer.notes else "") + entry
    customer.save(update_fields=["blocked", "notes"])
    return customer


@transaction.atomic
def unblock_customer(customer, *, actor: Actor) -> Customer:
    customer = _lock(customer.pk)
    if not customer.blocked:
        raise ValidationFailed(
            _("%(customer)s is not blocked.") % {"customer": customer},
            fields={"blocked": [_("Not blocked.")]},
        )
    customer.blocked = False
    entry = _("Unblocked by %(actor)s") % {"actor": actor.label}
    customer.notes = (customer.notes + "\n" if customer.notes else "") + entry
    customer.save(update_fields=["blocked", "notes"])
    return customer


def merge_candidates(customer) -> list[Customer]:
    """Other customers with the same e-mail that have not been merged."""
    return list(
        Customer.objects.filter(email__iexact=customer.email, merged_into__isnull=True)
        .exclude(pk=customer.pk)
        .select_related("channel")
        .order_by("pk")
    )


@transaction.atomic
def merge_customers(*, keep, merge, actor: Actor) -> Customer:
    """Move every order of ``merge`` to ``keep`` and mark ``merge`` as merged into it.

    Both must have the same e-mail (the same person through two channels). The kept
    customer keeps its own name and phone unless empty, is blocked if either was, and gets
    the other's notes; each moved order gets a note in its timeline.
    """
    if keep.pk == merge.pk:
        raise ValidationFailed(
            _("Choose another customer to merge."), fields={"merge": [_("The same customer.")]}
        )
    first, second = sorted([keep.pk, merge.pk])
    locked = {first: _lock(first), second: _lock(second)}
    keep, merge = locked[keep.pk], locked[merge.pk]
    if keep.email.lower() != merge.email.lower():
        raise ValidationFailed(
            _("Only customers with the same e-mail are merged."),
            fields={"merge": [_("Another e-mail: %(email)s.") % {"email": merge.email}]},
        )
    if keep.merged_into_id or merge.merged_into_id:
        raise ValidationFailed(
            _("This customer was already merged."), fields={"merge": [_("Already merged.")]}
        )
    moved = list(Order.objects.filter(customer=merge).only("pk", "number").order_by("pk"))
    Order.objects.filter(customer=merge).update(customer=keep)
    message = _("Customer merged: %(old)s (#%(old_id)s) into #%(new_id)s") % {
        "old": merge,
        "old_id": merge.pk,
        "new_id": keep.pk,
    }
    for order in moved:
        record_event(order, kind=OrderEvent.Kind.NOTE, actor=actor, message=message)
    keep.name = keep.name or merge.name
    keep.phone = keep.phone or merge.phone
    keep.blocked = keep.blocked or merge.blocked
    if merge.notes:
        keep.notes = (keep.notes + "\n" if keep.notes else "") + merge.notes
    keep.save(update_fields=["name", "phone", "blocked", "notes"])
    merge.merged_into = keep
    merge.save(update_fields=["merged_into"])
    # Customers merged into the one that goes now follow it.
    Customer.objects.filter(merged_into=merge).update(merged_into=keep)
    return keep
