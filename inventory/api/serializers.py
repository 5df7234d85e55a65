"""Stock API shapes."""

from rest_framework import serializers

from oms_site.api_fields import StrictCharField, StrictIntegerField

from ..models import SKU, StockLevel, StockMovement


class SKUSerializer(serializers.ModelSerializer):
    product = serializers.CharField(source="product.name")
    supplier = serializers.CharField(source="supplier.code", default=None)

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


class ReceiveSerializer(serializers.Serializer):
    sku = StrictCharField(max_length=64)
    warehouse = StrictCharField(max_length=20)
    quantity = StrictIntegerField(min_value=1, max_value=10_000_000)
    reference = StrictCharField(max_length=100, required=False, allow_blank=True, default="")
    note = StrictCharField(max_length=300, required=False, allow_blank=True, default="")


class AdjustSerializer(serializers.Serializer):
    sku = StrictCharField(max_length=64)
    warehouse = StrictCharField(max_length=20)
    change = StrictIntegerField(
        min_value=-10_000_000,
        max_value=10_000_000,
        help_text="Units to add (positive) or remove (negative).",
    )
    note = StrictCharField(max_length=300, help_text="Why: damaged, found, ...")
    reference = StrictCharField(max_length=100, required=False, allow_blank=True, default="")


class TransferSerializer(serializers.Serializer):
    sku = StrictCharField(max_length=64)
    source = StrictCharField(max_length=20)
    destination = StrictCharField(max_length=20)
    quantity = StrictIntegerField(min_value=1, max_value=10_000_000)
    note = StrictCharField(max_length=300, required=False, allow_blank=True, default="")


class CountSerializer(serializers.Serializer):
    sku = StrictCharField(max_length=64)
    warehouse = StrictCharField(max_length=20)
    counted = StrictIntegerField(min_value=0, max_value=10_000_000)
    note = StrictCharField(max_length=300, required=False, allow_blank=True, default="")


class ReservationItemSerializer(serializers.Serializer):
    sku = StrictCharField(max_length=64)
    quantity = StrictIntegerField(min_value=1, max_value=10_000)


class ReservationCreateSerializer(serializers.Serializer):
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


class ReservationSerializer(serializers.Serializer):
    token = serializers.CharField()
    expires_at = serializers.DateTimeField()
    items = serializers.ListField(child=serializers.DictField())
