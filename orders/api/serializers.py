"""Order API shapes. Serializers check types and shape; the services own the rules."""

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from oms_site.api_fields import (
    MoneyField,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    StrictSerializer,
)
from oms_site.serializer_reuse import represent

from .. import access
from .. import actions as order_actions
from ..models import Order, OrderEvent, OrderLine, PaymentMethod, SalesChannel
from ..services import pricing


class AddressSerializer(StrictSerializer):
    name = StrictCharField(max_length=200)
    company = StrictCharField(max_length=200, required=False, allow_blank=True)
    line1 = StrictCharField(max_length=200)
    line2 = StrictCharField(max_length=200, required=False, allow_blank=True)
    city = StrictCharField(max_length=100)
    region = StrictCharField(max_length=100, required=False, allow_blank=True)
    postal_code = StrictCharField(max_length=20, required=False, allow_blank=True)
    country = StrictCharField(min_length=2, max_length=2, help_text="ISO 3166-1 alpha-2")
    phone = StrictCharField(max_length=40, required=False, allow_blank=True)


class CustomerInputSerializer(StrictSerializer):
    email = serializers.EmailField(max_length=254)
    name = StrictCharField(max_length=200, required=False, allow_blank=True)
    phone = StrictCharField(max_length=40, required=False, allow_blank=True)


class LineInputSerializer(StrictSerializer):
    sku = StrictCharField(max_length=64)
    quantity = StrictIntegerField(min_value=1, max_value=100_000)
    unit_price = MoneyField(
        required=False,
        allow_null=True,
        help_text="Defaults to the catalogue price in its currency.",
    )
    discount = MoneyField(
        required=False,
        default="0",
        help_text="Discount on the line, net or gross as the channel enters prices.",
    )
    tax = MoneyField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Tax charged by the channel (a marketplace that computes its own). Omit it "
        "and the OMS computes the tax from its rules (country x product tax class).",
    )


class PaymentInputSerializer(StrictSerializer):
    gateway = serializers.ChoiceField(
        choices=["manual", "vipps", "marketplace"],
        help_text="manual: offline methods; vipps: Vipps MobilePay (give the reference).",
    )
    method = serializers.ChoiceField(choices=PaymentMethod.choices)
    reference = StrictCharField(
        max_length=50,
        required=False,
        allow_blank=True,
        default="",
        help_text="The payment's reference at the provider (Vipps MobilePay: the ePayment "
        "reference the shop created at checkout).",
    )
    amount = MoneyField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Defaults to what is left to pay on the order.",
    )


class OrderCreateSerializer(StrictSerializer):
    channel = serializers.SlugField(max_length=40, help_text="Sales channel code.")
    external_id = StrictCharField(
        max_length=100,
        required=False,
        allow_null=True,
        help_text="The order's id in its channel; unique per channel.",
    )
    currency = StrictCharField(
        min_length=3,
        max_length=3,
        required=False,
        help_text="ISO 4217; defaults to the channel's currency.",
    )
    customer = CustomerInputSerializer(required=False)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    shipping_address = AddressSerializer()
    billing_address = AddressSerializer(required=False)
    shipping_method = StrictCharField(max_length=100, required=False, allow_blank=True)
    shipping_total = MoneyField(
        required=False, default="0", help_text="Net or gross as the channel enters prices."
    )
    shipping_tax = MoneyField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Tax on shipping charged by the channel; omit it to use the OMS's rules.",
    )
    discount = MoneyField(
        required=False,
        default="0",
        help_text="Order discount: spread over the lines in proportion to their amounts.",
    )
    grand_total = MoneyField(
        required=False, help_text="Optional check: refused if it differs from ours."
    )
    lines = LineInputSerializer(
        many=True, allow_empty=False, max_length=settings.OMS_MAX_ORDER_LINES
    )
    tags = serializers.ListField(
        child=StrictCharField(max_length=50), max_length=20, required=False
    )
    notes = StrictCharField(max_length=2000, required=False, allow_blank=True)
    reservation_token = StrictCharField(
        max_length=64, required=False, help_text="A checkout hold to turn into allocation."
    )
    warehouse = serializers.SlugField(
        max_length=20, required=False, help_text="Ship from this warehouse (manual routing)."
    )
    draft = StrictBooleanField(required=False, default=False)
    payment = PaymentInputSerializer(
        required=False,
        help_text="How the customer pays. Orders of channels whose marketplace collects the "
        "money are recorded as paid by it.",
    )


class AllocationSerializer(serializers.Serializer):
    warehouse = serializers.CharField(
        source="warehouse.code", default=None, allow_null=True, help_text="Null if drop-shipped."
    )
    supplier = serializers.CharField(
        source="supplier.code",
        default=None,
        allow_null=True,
        help_text="The drop-shipping supplier; null if a warehouse ships.",
    )
    quantity = serializers.IntegerField()


class TaxLineSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The tax's name, e.g. MVA or VAT.")
    rate = serializers.DecimalField(max_digits=6, decimal_places=3, help_text="Percent.")
    net_amount = serializers.DecimalField(max_digits=14, decimal_places=3)
    tax_amount = serializers.DecimalField(max_digits=14, decimal_places=3)


class OrderLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="sku_code")
    discount = serializers.DecimalField(source="discount_amount", max_digits=14, decimal_places=3)
    tax = serializers.DecimalField(source="tax_amount", max_digits=14, decimal_places=3)
    allocations = AllocationSerializer(many=True)

    class Meta:
        model = OrderLine
        fields = [
            "id",
            "sku",
            "name",
            "quantity",
            "unit_price",
            "discount",
            "tax",
            "tax_rate",
            "tax_name",
            "line_total",
            "quantity_allocated",
            "quantity_shipped",
            "quantity_returned",
            "quantity_cancelled",
            "allocations",
        ]


class OrderCustomerSerializer(serializers.Serializer):
    email = serializers.EmailField(help_text="The customer record's e-mail.")
    name = serializers.CharField(help_text="The name this order was placed with.")
    phone = serializers.CharField(help_text="The phone this order was placed with.")


class OrderSerializer(serializers.ModelSerializer):
    channel = serializers.CharField(source="channel.code")
    customer = serializers.SerializerMethodField()
    lines = OrderLineSerializer(many=True)
    shipping_tax = serializers.DecimalField(
        source="shipping_tax_amount", max_digits=14, decimal_places=3
    )
    tax_lines = serializers.SerializerMethodField()
    base_grand_total = serializers.DecimalField(
        max_digits=16,
        decimal_places=3,
        allow_null=True,
        help_text="The total in the shop's base currency at base_exchange_rate of "
        "base_rate_date; null when no rate was known.",
    )
    base_exchange_rate = serializers.DecimalField(max_digits=18, decimal_places=8, allow_null=True)
    routing = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField(
        help_text="Actions the caller may take on the order now: submit, hold, release, "
        "cancel, reroute, edit, ship, deliver, note."
    )

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "channel",
            "external_id",
            "status",
            "payment_status",
            "currency",
            "subtotal",
            "discount_total",
            "tax_total",
            "shipping_total",
            "shipping_tax",
            "grand_total",
            "prices_include_tax",
            "tax_lines",
            "base_currency",
            "base_grand_total",
            "base_exchange_rate",
            "base_rate_date",
            "customer",
            "email",
            "shipping_address",
            "billing_address",
            "shipping_method",
            "tags",
            "hold_reason",
            "notes",
            "lines",
            "routing",
            "allowed_actions",
            "picking_started_at",
            "placed_at",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(OrderCustomerSerializer(allow_null=True))
    def get_customer(self, order) -> dict | None:
        """The customer as this order was given it (its own snapshot)."""
        if order.customer is None:
            return None
        return {
            "email": order.customer.email,
            "name": order.customer_name,
            "phone": order.customer_phone,
        }

    @extend_schema_field(TaxLineSerializer(many=True))
    def get_tax_lines(self, order):
        # One serializer per thread (a new list serializer per order rebuilt its fields).
        return [
            represent(TaxLineSerializer, line)
            for line in pricing.tax_lines(order, order.lines.all())
        ]

    def get_routing(self, order) -> dict | None:
        decision = order.routing_decision or {}
        if not decision:
            return None
        return {
            "decided_by": decision.get("decided_by"),
            "explanation": decision.get("explanation"),
            "candidates": decision.get("candidates", []),
            "manual_warehouse": decision.get("manual_warehouse"),
        }

    def get_allowed_actions(self, order) -> list[str]:
        """The actions the caller may take on the order now (its state, the caller's role or
        key scope, and a warehouse user's warehouses): the same answer as the order page."""
        actor = self.context.get("actor")
        if actor is None:
            return []
        return order_actions.allowed_actions(
            order, actor=actor, warehouse_ids=self._warehouse_ids(actor).get(order.pk)
        )

    def _warehouse_ids(self, actor) -> dict:
        """The warehouses of every order being serialized, read once (warehouse users only)."""
        if actor.user is None or not access.is_warehouse_limited(actor.user):
            return {}
        if "order_warehouse_ids" not in self.context:
            orders = self.root.instance
            orders = orders if isinstance(orders, list | tuple) else [orders]
            self.context["order_warehouse_ids"] = access.order_warehouse_ids(orders)
        return self.context["order_warehouse_ids"]


class OrderEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_label")

    class Meta:
        model = OrderEvent
        fields = [
            "id",
            "kind",
            "from_status",
            "to_status",
            "message",
            "details",
            "actor",
            "actor_kind",
            "created_at",
        ]


class ReasonSerializer(StrictSerializer):
    reason = StrictCharField(max_length=300)


class OptionalReasonSerializer(StrictSerializer):
    reason = StrictCharField(max_length=300, required=False, allow_blank=True, default="")


class ReleaseSerializer(StrictSerializer):
    note = StrictCharField(max_length=300, required=False, allow_blank=True, default="")


class RerouteSerializer(StrictSerializer):
    warehouse = serializers.SlugField(
        max_length=20, required=False, help_text="Choose the warehouse by hand; omit for rules."
    )


class ShipSerializer(StrictSerializer):
    carrier = StrictCharField(max_length=60, required=False, allow_blank=True, default="")
    tracking_number = StrictCharField(max_length=100, required=False, allow_blank=True, default="")


class EditLineSerializer(StrictSerializer):
    line = StrictIntegerField(
        min_value=1,
        max_value=2**63 - 1,
        required=False,
        help_text="The id of a line of the order, to change its quantity (0 removes it). "
        "Give either line or sku.",
    )
    sku = StrictCharField(
        max_length=64, required=False, help_text="A SKU code, to add a line. Give line or sku."
    )
    quantity = StrictIntegerField(
        min_value=0, max_value=100_000, help_text="The line's new quantity; 0 removes it."
    )
    unit_price = MoneyField(
        required=False,
        allow_null=True,
        default=None,
        help_text="A new unit price (net or gross as the channel enters prices); omit to "
        "keep the line's, or for a new line to take the catalogue price.",
    )


class OrderEditSerializer(StrictSerializer):
    lines = EditLineSerializer(
        many=True,
        required=False,
        default=list,
        max_length=settings.OMS_MAX_ORDER_LINES,
        help_text="Line changes and new lines; lines not named stay as they are.",
    )
    shipping_address = AddressSerializer(
        required=False, help_text="The new shipping address (replaces the whole address)."
    )
    reason = StrictCharField(
        max_length=300,
        required=False,
        allow_blank=True,
        default="",
        help_text="Why, for the order's timeline.",
    )


class NoteSerializer(StrictSerializer):
    text = StrictCharField(max_length=300)


class SalesChannelSerializer(serializers.ModelSerializer):
    class Meta:
        model = SalesChannel
        fields = ["code", "name", "kind", "currency", "active"]
