"""The merchant's order settings: sales channels, hold rules and the tax rules."""

from django.db import transaction

from inventory.models import TaxClass

from ..models import HoldRule, InvoiceSettings, SalesChannel, TaxRate

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


@transaction.atomic
def save_tax_class(*, tax_class: TaxClass) -> TaxClass:
    """Create or update a tax class; making it the default takes that role from the
    class that had it (there is one default: products without a class and shipping)."""
    if tax_class.is_default:
        TaxClass.objects.select_for_update().filter(is_default=True).exclude(
            pk=tax_class.pk
        ).update(is_default=False)
    tax_class.save()
    return tax_class


@transaction.atomic
def save_tax_rate(*, rate: TaxRate) -> TaxRate:
    """Add a rate, or change the one of the same country, class and start date. Orders
    keep the rate they were placed with (it is copied onto their lines)."""
    existing = TaxRate.objects.filter(
        country=rate.country, tax_class=rate.tax_class, valid_from=rate.valid_from
    ).first()
    if existing is not None:
        existing.rate, existing.name = rate.rate, rate.name
        existing.save(update_fields=["rate", "name"])
        return existing
    rate.save()
    return rate


@transaction.atomic
def delete_tax_rate(*, rate: TaxRate) -> None:
    rate.delete()


@transaction.atomic
def save_invoice_settings(*, settings_row: InvoiceSettings) -> InvoiceSettings:
    """The seller's details for documents issued from now on (issued ones keep theirs)."""
    settings_row.save()
    return settings_row
