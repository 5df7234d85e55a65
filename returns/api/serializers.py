"""Return API shapes. Serializers check the shape; the services own the rules."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from oms_site.api_fields import (
    MoneyField,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    StrictSerializer,
)

from ..models import (
    InspectionOutcome,
    ReturnEvent,
    ReturnLine,
    ReturnReason,
    ReturnRequest,
    ReturnStatus,
)

AMOUNT = {"max_digits": 14, "decimal_places": 3}


class ReturnLineSerializer(serializers.ModelSerializer):
    order_line = serializers.IntegerField(source="order_line_id")
    sku = serializers.CharField(source="order_line.sku_code")
    name = serializers.CharField(source="order_line.name")
    outcome = serializers.ChoiceField(
        choices=InspectionOutcome.choices, allow_null=True, source="outcome_or_none"
    )
    restocked = serializers.BooleanField(source="is_restocked")

    class Meta:
        model = ReturnLine
        fields = [
            "id",
            "order_line",
            "sku",
            "name",
            "quantity",
            "reason",
            "comment",
            "quantity_received",
            "outcome",
            "inspection_note",
            "restocked",
        ]


class ReturnEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_label")

    class Meta:
        model = ReturnEvent
        fields = ["from_status", "to_status", "message", "actor", "created_at"]


class ReturnRefundSummarySerializer(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.CharField()
    amount = serializers.DecimalField(**AMOUNT)
    currency = serializers.CharField()
    credit_note = serializers.CharField(allow_null=True)


class ReturnSerializer(serializers.ModelSerializer):
    number = serializers.CharField()
    order = serializers.CharField(source="order.number")
    warehouse = serializers.CharField(source="warehouse.code")
    carrier = serializers.CharField(source="carrier.code", allow_null=True, default=None)
    has_label = serializers.SerializerMethodField()
    exchange_order = serializers.CharField(
        source="exchange_order.number", allow_null=True, default=None
    )
    currency = serializers.CharField(source="order.currency")
    lines = ReturnLineSerializer(many=True)
    refunds = serializers.SerializerMethodField()
    events = ReturnEventSerializer(many=True)

    class Meta:
        model = ReturnRequest
        fields = [
            "number",
            "order",
            "status",
            "source",
            "warehouse",
            "note",
            "rejection_reason",
            "carrier",
            "tracking_number",
            "tracking_url",
            "has_label",
            "exchange_order",
            "exchange_credit",
            "exchange_difference",
            "currency",
            "lines",
            "refunds",
            "events",
            "created_at",
            "approved_at",
            "received_at",
            "inspected_at",
            "closed_at",
        ]

    def get_has_label(self, obj) -> bool:
        return obj.label_booked_at is not None

    @extend_schema_field(ReturnRefundSummarySerializer(many=True))
    def get_refunds(self, obj):
        from ..services.closing import refunds_of

        return ReturnRefundSummarySerializer(
            [
                {
                    "number": refund.number,
                    "status": refund.status,
                    "amount": refund.amount,
                    "currency": refund.currency,
                    "credit_note": getattr(getattr(refund, "credit_note", None), "number", None),
                }
                for refund in refunds_of(obj).select_related("credit_note").order_by("pk")
            ],
            many=True,
        ).data


class ReturnCreateLineSerializer(StrictSerializer):
    line = StrictIntegerField(min_value=1, help_text="The order line's id.")
    quantity = StrictIntegerField(min_value=1, max_value=100_000)
    reason = serializers.ChoiceField(choices=ReturnReason.choices)
    comment = StrictCharField(
        max_length=500, required=False, allow_blank=True, default="", help_text="Free text."
    )


class ReturnCreateSerializer(StrictSerializer):
    order = StrictCharField(max_length=20, help_text="Order number, e.g. SO-0000042.")
    lines = ReturnCreateLineSerializer(many=True, min_length=1, max_length=500)
    warehouse = serializers.SlugField(
        max_length=20,
        required=False,
        help_text="Return warehouse (must accept returns). Default: where it shipped from.",
    )
    note = StrictCharField(max_length=500, required=False, allow_blank=True, default="")


class ReturnApproveSerializer(StrictSerializer):
    carrier = serializers.SlugField(
        max_length=40,
        required=False,
        help_text="Book a return label with this carrier account now (its code).",
    )
    service = StrictCharField(
        max_length=40, required=False, help_text="The carrier's service code for the label."
    )


class ReturnRejectSerializer(StrictSerializer):
    reason = StrictCharField(min_length=1, max_length=300)


class ReturnReceiveLineSerializer(StrictSerializer):
    line = StrictIntegerField(min_value=1, help_text="The return line's id.")
    quantity = StrictIntegerField(min_value=0, max_value=100_000)


class ReturnReceiveSerializer(StrictSerializer):
    lines = ReturnReceiveLineSerializer(
        many=True,
        required=False,
        max_length=500,
        help_text="Units received per return line. Omit: what was scanned, else everything.",
    )


class ReturnInspectLineSerializer(StrictSerializer):
    line = StrictIntegerField(min_value=1, help_text="The return line's id.")
    outcome = serializers.ChoiceField(choices=InspectionOutcome.choices)
    note = StrictCharField(max_length=300, required=False, allow_blank=True, default="")


class ReturnInspectSerializer(StrictSerializer):
    lines = ReturnInspectLineSerializer(many=True, min_length=1, max_length=500)


class ReturnCloseLineSerializer(StrictSerializer):
    line = StrictIntegerField(min_value=1, help_text="The return line's id.")
    quantity = StrictIntegerField(min_value=1, max_value=100_000)


class ReturnCloseSerializer(StrictSerializer):
    refund = StrictBooleanField(
        required=False, default=True, help_text="Refund to the original payment (default)."
    )
    lines = ReturnCloseLineSerializer(
        many=True,
        required=False,
        max_length=500,
        help_text="Units to refund per return line. Omit: every received unit.",
    )
    shipping_amount = MoneyField(required=False, default="0")
    restocking_fee = MoneyField(required=False, default="0")
    manual = StrictBooleanField(
        required=False, default=False, help_text="Paid back by hand, not through the gateway."
    )


class ReturnExchangeLineSerializer(StrictSerializer):
    sku = StrictCharField(min_length=1, max_length=64)
    quantity = StrictIntegerField(min_value=1, max_value=100_000)


class ReturnExchangeSerializer(StrictSerializer):
    lines = ReturnExchangeLineSerializer(many=True, min_length=1, max_length=100)


class ReturnListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ReturnStatus.choices, required=False)
    order = serializers.CharField(required=False, allow_blank=True, max_length=20)
    warehouse = serializers.SlugField(required=False, max_length=20)
