"""Stock API shapes."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from oms_site.api_fields import (
    MoneyField,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    StrictSerializer,
)

from ..models import SKU, Product, Reservation, StockLevel, StockMovement


class SKUSerializer(serializers.ModelSerializer):
    product = serializers.CharField(source="product.name")
    supplier = serializers.CharField(source="supplier.code", default=None, allow_null=True)

    class Meta:
        model = SKU
        fields = [
            "code",
            "product",
            "name",
            "barcode",
            "price",
            "currency",
            "weight_grams",
            "length_mm",
            "width_mm",
            "height_mm",
            "active",
            "supplier",
            "lead_time_days",
        ]


class StockLevelSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="sku.code")
    warehouse = serializers.CharField(source="warehouse.code")
    available = serializers.IntegerField(help_text="on_hand - allocated")
    sellable = serializers.IntegerField(
        source="available_after_safety", help_text="available - safety_stock, never below 0"
    )

    class Meta:
        model = StockLevel
        fields = [
            "sku",
            "warehouse",
            "on_hand",
            "allocated",
            "safety_stock",
            "available",
            "sellable",
            "updated_at",
        ]


class StockMovementSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="sku.code")
    warehouse = serializers.CharField(source="warehouse.code")
    actor = serializers.CharField(source="actor_label")

    class Meta:
        model = StockMovement
        fields = [
            "id",
            "sku",
            "warehouse",
            "on_hand_change",
            "allocated_change",
            "reason",
            "reference",
            "note",
            "actor",
            "created_at",
        ]


class ReceiveSerializer(StrictSerializer):
    sku = StrictCharField(max_length=64)
    warehouse = StrictCharField(max_length=20)
    quantity = StrictIntegerField(min_value=1, max_value=10_000_000)
    reference = StrictCharField(max_length=100, required=False, allow_blank=True, default="")
    note = StrictCharField(max_length=300, required=False, allow_blank=True, default="")


@extend_schema_field(
    {
        "type": "integer",
        "minimum": -10_000_000,
        "maximum": 10_000_000,
        "not": {"enum": [0]},
        "description": "Units to add (positive) or remove (negative); never zero.",
    }
)
class NonZeroChangeField(StrictIntegerField):
    default_error_messages = {"zero": "Must not be zero."}

    def __init__(self, **kwargs):
        super().__init__(min_value=-10_000_000, max_value=10_000_000, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value == 0:
            self.fail("zero")
        return value


class AdjustSerializer(StrictSerializer):
    sku = StrictCharField(max_length=64)
    warehouse = StrictCharField(max_length=20)
    change = NonZeroChangeField(help_text="Units to add (positive) or remove (negative).")
    note = StrictCharField(max_length=300, help_text="Why: damaged, found, ...")
    reference = StrictCharField(max_length=100, required=False, allow_blank=True, default="")


class TransferSerializer(StrictSerializer):
    sku = StrictCharField(max_length=64)
    source = StrictCharField(max_length=20)
    destination = StrictCharField(max_length=20)
    quantity = StrictIntegerField(min_value=1, max_value=10_000_000)
    note = StrictCharField(max_length=300, required=False, allow_blank=True, default="")


class CountSerializer(StrictSerializer):
    sku = StrictCharField(max_length=64)
    warehouse = StrictCharField(max_length=20)
    counted = StrictIntegerField(min_value=0, max_value=10_000_000)
    note = StrictCharField(max_length=300, required=False, allow_blank=True, default="")


class ReservationItemSerializer(StrictSerializer):
    sku = StrictCharField(max_length=64)
    quantity = StrictIntegerField(min_value=1, max_value=10_000)


class ReservationCreateSerializer(StrictSerializer):
    items = ReservationItemSerializer(many=True, allow_empty=False, max_length=200)
    minutes = StrictIntegerField(
        min_value=1,
        max_value=1440,
        required=False,
        help_text="How long to hold; default from settings.",
    )
    country = StrictCharField(
        min_length=2,
        max_length=2,
        required=False,
        allow_blank=True,
        default="",
        help_text="Hold only in warehouses that ship here.",
    )
    reference = StrictCharField(
        max_length=100, required=False, allow_blank=True, default="", help_text="Your cart id."
    )


class ReservationItemOutSerializer(serializers.Serializer):
    sku = serializers.CharField()
    warehouse = serializers.CharField()
    quantity = serializers.IntegerField()


class ReservationSerializer(serializers.Serializer):
    token = serializers.CharField()
    expires_at = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=Reservation.Status.choices)
    items = ReservationItemOutSerializer(many=True)
    total_units = serializers.IntegerField()


class AvailabilityEntrySerializer(serializers.Serializer):
    sku = serializers.CharField()
    known = serializers.BooleanField(help_text="False if no SKU has this code.")
    sellable = serializers.IntegerField(help_text="Sum over active warehouses.")
    warehouses = serializers.DictField(
        child=serializers.IntegerField(), help_text="Warehouse code -> sellable units."
    )


class AvailabilitySerializer(serializers.Serializer):
    results = AvailabilityEntrySerializer(many=True)


INT_LIMIT = 2_147_483_647


class SKUWriteSerializer(StrictSerializer):
    """An SKU as the API takes it; checked again by the CSV import's rules."""

    sku = StrictCharField(max_length=64, help_text="The SKU code (unique).")
    product = StrictCharField(
        max_length=200, help_text="Product name; a product of that name is made if needed."
    )
    name = StrictCharField(max_length=200, required=False, allow_blank=True)
    barcode = StrictCharField(
        max_length=14, required=False, allow_blank=True, help_text="GTIN-8/12/13/14."
    )
    price = MoneyField(required=False, help_text="In the SKU's currency; default 0.")
    currency = StrictCharField(
        min_length=3, max_length=3, required=False, help_text="ISO 4217; default EUR."
    )
    weight_grams = StrictIntegerField(min_value=0, max_value=INT_LIMIT, required=False)
    length_mm = StrictIntegerField(min_value=0, max_value=INT_LIMIT, required=False)
    width_mm = StrictIntegerField(min_value=0, max_value=INT_LIMIT, required=False)
    height_mm = StrictIntegerField(min_value=0, max_value=INT_LIMIT, required=False)
    active = StrictBooleanField(required=False)
    supplier = StrictCharField(
        max_length=40, required=False, allow_blank=True, allow_null=True, help_text="Code."
    )
    lead_time_days = StrictIntegerField(
        min_value=0, max_value=INT_LIMIT, required=False, allow_null=True
    )


class SKUUpdateSerializer(SKUWriteSerializer):
    sku = None
    product = StrictCharField(max_length=200, required=False)


class ProductSerializer(serializers.ModelSerializer):
    skus = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = Product
        fields = ["id", "name", "description", "brand", "skus", "created_at"]


class ProductWriteSerializer(StrictSerializer):
    name = StrictCharField(max_length=200)
    description = StrictCharField(max_length=5000, required=False, allow_blank=True)
    brand = StrictCharField(max_length=100, required=False, allow_blank=True)


class ProductUpdateSerializer(ProductWriteSerializer):
    name = StrictCharField(max_length=200, required=False)


class DeactivatedSerializer(serializers.Serializer):
    deactivated_skus = serializers.IntegerField(help_text="SKUs that were active until now.")
