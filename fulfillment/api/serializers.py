"""Shipment and pick-list API shapes. Serializers check shape; the services own the rules."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from oms_site.api_fields import StrictCharField, StrictIntegerField, StrictSerializer

from ..models import (
    Package,
    PickList,
    PickListLine,
    PickListOrder,
    PickListStatus,
    Shipment,
    ShipmentEvent,
    ShipmentLine,
    ShipmentStatus,
)


class ShipmentLineSerializer(serializers.ModelSerializer):
    line = serializers.IntegerField(source="order_line_id")
    sku = serializers.CharField(source="order_line.sku_code")
    name = serializers.CharField(source="order_line.name")

    class Meta:
        model = ShipmentLine
        fields = ["line", "sku", "name", "quantity", "quantity_packed"]


class PackageLineSerializer(serializers.Serializer):
    sku = serializers.CharField(source="shipment_line.order_line.sku_code")
    quantity = serializers.IntegerField()


class PackageSerializer(serializers.ModelSerializer):
    package_type = serializers.CharField(source="package_type.code", allow_null=True, default=None)
    lines = PackageLineSerializer(many=True)

    class Meta:
        model = Package
        fields = [
            "sequence",
            "package_type",
            "weight_grams",
            "length_mm",
            "width_mm",
            "height_mm",
            "tracking_number",
            "lines",
        ]


class ShipmentEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_label")

    class Meta:
        model = ShipmentEvent
        fields = [
            "kind",
            "from_status",
            "to_status",
            "message",
            "carrier_status",
            "location",
            "occurred_at",
            "actor",
        ]


class ShipmentSerializer(serializers.ModelSerializer):
    number = serializers.CharField()
    order = serializers.CharField(source="order.number")
    warehouse = serializers.CharField(source="warehouse.code", allow_null=True, default=None)
    supplier = serializers.CharField(source="supplier.code", allow_null=True, default=None)
    carrier = serializers.CharField(source="carrier_name")
    carrier_code = serializers.CharField(source="carrier.code", allow_null=True, default=None)
    service = serializers.CharField(source="service_name")
    has_label = serializers.SerializerMethodField()
    lines = ShipmentLineSerializer(many=True)
    packages = PackageSerializer(many=True)
    events = serializers.SerializerMethodField()

    class Meta:
        model = Shipment
        fields = [
            "number",
            "order",
            "status",
            "external",
            "warehouse",
            "supplier",
            "carrier",
            "carrier_code",
            "service",
            "tracking_number",
            "tracking_url",
            "carrier_status",
            "has_label",
            "lines",
            "packages",
            "events",
            "shipped_at",
            "delivered_at",
            "created_at",
            "updated_at",
        ]

    def get_has_label(self, shipment) -> bool:
        return bool(shipment.booked_at)

    @extend_schema_field(ShipmentEventSerializer(many=True))
    def get_events(self, shipment):
        return ShipmentEventSerializer(shipment.events.all(), many=True).data


class ShipmentCreateLineSerializer(StrictSerializer):
    line = StrictIntegerField(
        required=False, min_value=1, help_text="Order line id (or give the SKU)."
    )
    sku = StrictCharField(required=False, max_length=64, help_text="SKU code of the line.")
    quantity = StrictIntegerField(min_value=1, max_value=100_000)


class ShipmentCreateSerializer(StrictSerializer):
    order = StrictCharField(max_length=20, help_text="Order number, e.g. SO-000123.")
    warehouse = serializers.SlugField(
        max_length=20,
        required=False,
        help_text="Where the units left from; required when the order is allocated at several.",
    )
    carrier = StrictCharField(max_length=60, required=False, allow_blank=True, default="")
    tracking_number = StrictCharField(max_length=100, required=False, allow_blank=True, default="")
    # A plain pattern, not URLField: Django's URL validator refuses hosts the schema's
    # "uri" format allows (labels over 63 characters), so the schema would promise more.
    # Explicit code points rather than \s, which Python and the schema's ECMAScript
    # regexes read differently (\x1f is whitespace to Python only).
    tracking_url = serializers.RegexField(
        r"^https?://[^\u0000-\u0020\u007f]+$",
        max_length=500,
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        help_text="The carrier's public tracking link (http or https).",
    )
    lines = ShipmentCreateLineSerializer(
        many=True, required=False, max_length=500, help_text="Omit to ship everything allocated."
    )


class ShipmentListQuerySerializer(serializers.Serializer):
    """Query parameters (unknown ones, like the pagination's, are left alone). Given a
    plain dict, not the QueryDict, so that ``?warehouse=`` is refused as the schema says
    instead of read as "not given"."""

    order = serializers.CharField(required=False, allow_blank=True, max_length=20)
    status = serializers.ChoiceField(choices=ShipmentStatus.choices, required=False)
    warehouse = serializers.SlugField(required=False, max_length=20)
    tracking_number = serializers.CharField(required=False, allow_blank=True, max_length=100)


class PickListListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=PickListStatus.choices, required=False)
    warehouse = serializers.SlugField(required=False, max_length=20)


class PickListLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="sku.code")
    gtin = serializers.CharField(source="sku.barcode")
    order = serializers.CharField(source="pick_order.order.number")
    tote_slot = serializers.IntegerField(source="pick_order.tote_slot")

    class Meta:
        model = PickListLine
        fields = [
            "bin_code",
            "pick_sequence",
            "sku",
            "gtin",
            "order",
            "tote_slot",
            "quantity",
            "quantity_picked",
            "quantity_short",
        ]


class PickListOrderSerializer(serializers.ModelSerializer):
    order = serializers.CharField(source="order.number")
    shipment = serializers.CharField(source="shipment.number")

    class Meta:
        model = PickListOrder
        fields = ["tote_slot", "order", "shipment"]


class PickListSerializer(serializers.ModelSerializer):
    number = serializers.CharField()
    warehouse = serializers.CharField(source="warehouse.code")
    assigned_to = serializers.CharField(
        source="assigned_to.username", allow_null=True, default=None
    )
    orders = PickListOrderSerializer(many=True)
    lines = PickListLineSerializer(many=True)

    class Meta:
        model = PickList
        fields = [
            "number",
            "warehouse",
            "status",
            "assigned_to",
            "rules",
            "orders",
            "lines",
            "created_by",
            "created_at",
            "started_at",
            "completed_at",
        ]
