"""The merchant's order settings: sales channels and the hold rules."""

from django.db import transaction

from ..models import HoldRule, SalesChannel

# Rules that compare the order's value with a threshold (the others are yes/no checks).
VALUE_RULES = {HoldRule.Kind.HIGH_VALUE, HoldRule.Kind.FIRST_ORDER_HIGH_VALUE}


@transaction.atomic
def save_sales_channel(*, channel: SalesChannel) -> SalesChannel:
    """Create or update a channel whose fields a form has checked. A channel's code never
    changes once created: API keys and integrations refer to it."""
    if channel.pk is not None:
        stored_code = SalesChannel.objects.filter(pk=channel.pk).values_list("code", flat=True)
        channel.code = stored_code.get()
    channel.save()
    return channel


@transaction.atomic
def save_hold_rules(*, rules: dict) -> list[HoldRule]:
    """Set every rule kind (``kind -> {"enabled", "threshold"}``), creating missing ones.
    Only value rules keep a threshold."""
    saved = []
    for kind, values in rules.items():
        defaults = {"enabled": bool(values.get("enabled"))}
        if kind in VALUE_RULES:
            defaults["threshold"] = values.get("threshold")
        rule, _created = HoldRule.objects.update_or_create(kind=kind, defaults=defaults)
        saved.append(rule)
    return saved
