"""Tags on orders: free labels a merchant filters by (gift, vip, wholesale ...)."""

from django.db import transaction
from django.utils.translation import gettext as _

from oms_site.actors import Actor
from oms_site.errors import ValidationFailed

from ..models import Order, OrderEvent
from .events import lock_order, record_event

MAX_TAG_LENGTH = 40
MAX_TAGS = 20


def clean_tag(tag) -> str:
    tag = " ".join(str(tag or "").split()).lower()
    if not tag:
        raise ValidationFailed(_("Give a tag."), fields={"tag": [_("Required.")]})
    if len(tag) > MAX_TAG_LENGTH or "," in tag:
        raise ValidationFailed(
            _("A tag is at most %(count)s characters, without commas.") % {"count": MAX_TAG_LENGTH},
            fields={"tag": [_("Too long, or has a comma.")]},
        )
    return tag


def clean_tags(text: str) -> list[str]:
    """Comma-separated tags as typed: cleaned, without duplicates, in the order given."""
    tags = []
    for part in (text or "").split(","):
        if part.strip():
            tag = clean_tag(part)
            if tag not in tags:
                tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise ValidationFailed(
            _("At most %(count)s tags.") % {"count": MAX_TAGS},
            fields={"tags": [_("Too many tags.")]},
        )
    return tags


def _save(order, tags, *, actor, message) -> Order:
    order.tags = tags
    Order.objects.filter(pk=order.pk).update(tags=tags)
    record_event(
        order, kind=OrderEvent.Kind.NOTE, actor=actor, message=message, details={"tags": tags}
    )
    return order


@transaction.atomic
def set_tags(order, *, tags: list[str], actor: Actor) -> Order:
    order = lock_order(order)
    tags = clean_tags(",".join(tags))
    if tags == list(order.tags or []):
        return order
    added = [t for t in tags if t not in (order.tags or [])]
    removed = [t for t in (order.tags or []) if t not in tags]
    parts = [f"+{t}" for t in added] + [f"−{t}" for t in removed]
    return _save(
        order, tags, actor=actor, message=_("Tags: %(changes)s") % {"changes": " ".join(parts)}
    )


@transaction.atomic
def add_tag(order, *, tag: str, actor: Actor) -> Order:
    tag = clean_tag(tag)
    order = lock_order(order)
    if tag in (order.tags or []):
        raise ValidationFailed(
            _("Order %(number)s already has the tag %(tag)s.")
            % {"number": order.number, "tag": tag},
            fields={"tag": [_("Already there.")]},
        )
    if len(order.tags or []) >= MAX_TAGS:
        raise ValidationFailed(
            _("At most %(count)s tags.") % {"count": MAX_TAGS},
            fields={"tag": [_("Too many tags.")]},
        )
    return _save(
        order,
        [*(order.tags or []), tag],
        actor=actor,
        message=_("Tag added: %(tag)s") % {"tag": tag},
    )


@transaction.atomic
def remove_tag(order, *, tag: str, actor: Actor) -> Order:
    tag = clean_tag(tag)
    order = lock_order(order)
    if tag not in (order.tags or []):
        raise ValidationFailed(
            _("Order %(number)s has no tag %(tag)s.") % {"number": order.number, "tag": tag},
            fields={"tag": [_("Not there.")]},
        )
    return _save(
        order,
        [t for t in order.tags if t != tag],
        actor=actor,
        message=_("Tag removed: %(tag)s") % {"tag": tag},
    )
