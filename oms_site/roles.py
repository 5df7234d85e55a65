"""Roles and what each may do.

A user's role lives on ``StaffProfile``; superusers are owners. Every page, action and API
endpoint names the capability it needs, and this table is the single answer to "who may
do that?". Warehouse staff are further limited to the warehouses they are assigned
(``inventory.WarehouseAccess``), which the inventory and fulfillment services check.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Owner / admin")
    MANAGER = "manager", _("Manager")
    SUPPORT = "support", _("Support")
    WAREHOUSE = "warehouse", _("Warehouse")
    READONLY = "readonly", _("Read-only")


class Capability(models.TextChoices):
    ORDER_VIEW = "order.view", _("See orders")
    ORDER_CREATE = "order.create", _("Create orders")
    ORDER_MANAGE = "order.manage", _("Hold, release and cancel orders")
    ORDER_ROUTE = "order.route", _("Route orders by hand, re-route")
    ORDER_SHIP = "order.ship", _("Mark orders shipped and delivered")
    ORDER_EXPORT = "order.export", _("Export orders (CSV, XLSX)")
    CUSTOMER_VIEW = "customer.view", _("See customers")
    CUSTOMER_MANAGE = "customer.manage", _("Customer notes, block and unblock")
    CUSTOMER_MERGE = "customer.merge", _("Merge customers")
    FULFILLMENT_VIEW = "fulfillment.view", _("See pick lists and shipments")
    FULFILLMENT_WORK = "fulfillment.work", _("Create pick lists; pick, pack and ship")
    STOCK_VIEW = "stock.view", _("See stock and the ledger")
    STOCK_CHANGE = "stock.change", _("Receive, adjust, transfer and count stock")
    CATALOG_MANAGE = "catalog.manage", _("Import catalogue and stock, routing settings")
    INTEGRATIONS_MANAGE = "integrations.manage", _("Channels, webhooks, hold rules")
    API_KEYS_MANAGE = "apikeys.manage", _("Create and revoke API keys")
    FORECAST_VIEW = "forecast.view", _("See forecasts, stock at risk and purchase suggestions")
    FORECAST_RUN = "forecast.run", _("Run forecasts, recompute a SKU, forecast settings")
    PURCHASE_VIEW = "purchase.view", _("See purchase orders")
    PURCHASE_MANAGE = "purchase.manage", _("Create, place and cancel purchase orders")
    MARKETPLACE_VIEW = "marketplace.view", _("See marketplace sync health and logs")
    MARKETPLACE_SYNC = "marketplace.sync", _("Sync now, replay failed records, retry pushes")
    MARKETPLACE_CREDENTIALS = "marketplace.credentials", _("Rotate marketplace credentials")
    ORDER_EDIT = "order.edit", _("Edit orders before picking: lines, quantities, address")
    PAYMENT_MANAGE = "payment.manage", _("Capture, void and record payments")
    REFUND_CREATE = "refund.create", _("Refund orders")
    INVOICE_MANAGE = "invoice.manage", _("Issue invoices and credit notes by hand")
    RETURN_MANAGE = "return.manage", _("Create, approve and reject returns")
    RETURN_RECEIVE = "return.receive", _("Receive and inspect returned parcels")


_ALL = frozenset(Capability)
ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    Role.OWNER: _ALL,
    # Marketplace credentials are secrets like API keys: the owner's alone.
    Role.MANAGER: _ALL - {Capability.API_KEYS_MANAGE, Capability.MARKETPLACE_CREDENTIALS},
    Role.SUPPORT: frozenset(
        {
            Capability.ORDER_VIEW,
            Capability.ORDER_CREATE,
            Capability.ORDER_MANAGE,
            Capability.ORDER_EXPORT,
            Capability.CUSTOMER_VIEW,
            Capability.CUSTOMER_MANAGE,
            Capability.FULFILLMENT_VIEW,
            Capability.ORDER_EDIT,
            Capability.REFUND_CREATE,
            Capability.RETURN_MANAGE,
            Capability.STOCK_VIEW,
            Capability.FORECAST_VIEW,
            Capability.PURCHASE_VIEW,
            Capability.MARKETPLACE_VIEW,
        }
    ),
    Role.WAREHOUSE: frozenset(
        {
            Capability.ORDER_VIEW,
            Capability.ORDER_SHIP,
            Capability.FULFILLMENT_VIEW,
            Capability.FULFILLMENT_WORK,
            Capability.RETURN_RECEIVE,
            Capability.STOCK_VIEW,
            Capability.STOCK_CHANGE,
            # Their own warehouses only; they receive purchase orders there.
            Capability.FORECAST_VIEW,
            Capability.PURCHASE_VIEW,
        }
    ),
    # Read-only is also the bookkeeper's role: they export what they read.
    Role.READONLY: frozenset(
        {
            Capability.ORDER_VIEW,
            Capability.ORDER_EXPORT,
            Capability.CUSTOMER_VIEW,
            Capability.FULFILLMENT_VIEW,
            Capability.STOCK_VIEW,
            Capability.FORECAST_VIEW,
            Capability.PURCHASE_VIEW,
            Capability.MARKETPLACE_VIEW,
        }
    ),
}


def role_of(user) -> str | None:
    """The user's role, or None for anonymous users and users without a profile."""
    if user is None or not user.is_authenticated:
        return None
    if user.is_superuser:
        return Role.OWNER
    profile = getattr(user, "staff_profile", None)
    return profile.role if profile is not None else None


def user_can(user, capability: str) -> bool:
    role = role_of(user)
    return role is not None and capability in ROLE_CAPABILITIES[role]


def role_context(request):
    """Template context: ``can.order_manage`` etc. for showing only allowed buttons."""
    user = getattr(request, "user", None)
    role = role_of(user)
    allowed = ROLE_CAPABILITIES.get(role, frozenset()) if role else frozenset()
    return {
        "user_role": role,
        "user_role_label": Role(role).label if role else "",
        "can": {c.value.replace(".", "_"): (c in allowed) for c in Capability},
    }
