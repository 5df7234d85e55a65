"""Shipments (list, detail, create for outside fulfilment, deliver) and pick lists (read).

Warehouse staff see only their warehouses' shipments and lists; API keys are limited by
their scopes (``fulfillment:read``, ``fulfillment:write``)."""

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from inventory.models import Warehouse
from oms_site.actors import Actor
from oms_site.api_auth import RequiresCapability
from oms_site.errors import NotFound, ValidationFailed
from oms_site.idempotency import idempotent_create
from oms_site.roles import Capability as C
from orders.models import Order

from .. import services
from ..access import check_access, scope_by_warehouse
from ..models import Package, PickList, PickListLine, Shipment, ShipmentEvent, ShipmentLine
from . import serializers as s

READ = (C.FULFILLMENT_VIEW, "fulfillment:read")
WRITE = (C.FULFILLMENT_WORK, "fulfillment:write")


IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="Retries with the same key and body return the first result.",
)
TEXT = "^[^\\u0000]*$"
SLUG = "^[-a-zA-Z0-9_]+$"


def _text(name, max_length, description, pattern=TEXT):
    return OpenApiParameter(
        name,
        {"type": "string", "maxLength": max_length, "pattern": pattern},
        description=description,
    )


WAREHOUSE_FILTER = _text("warehouse", 20, "Warehouse code.", pattern=SLUG)
LIST_FILTERS = [
    _text("order", 20, "Order number, e.g. SO-0000042."),
    OpenApiParameter("status", str, enum=[v for v, _l in s.ShipmentStatus.choices]),
    WAREHOUSE_FILTER,
    _text("tracking_number", 100, "The carrier's tracking number."),
]


class ShipmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [RequiresCapability]
    required = {"list": READ, "retrieve": READ, "create": WRITE, "deliver": WRITE}
    serializer_class = s.ShipmentSerializer
    lookup_field = "number"
    lookup_value_regex = "[A-Za-z0-9-]+"
    filter_backends = []

    def get_queryset(self):
        queryset = Shipment.objects.select_related(
            "order", "warehouse", "supplier", "carrier"
        ).prefetch_related(
            Prefetch("lines", queryset=ShipmentLine.objects.select_related("order_line")),
            Prefetch(
                "packages",
                queryset=Package.objects.select_related("package_type").prefetch_related(
                    "lines__shipment_line__order_line"
                ),
            ),
            Prefetch("events", queryset=ShipmentEvent.objects.order_by("occurred_at", "id")),
        )
        return scope_by_warehouse(queryset, self.request.user)

    def get_object(self):
        pk = Shipment.pk_from_number(self.kwargs["number"])
        return get_object_or_404(self.get_queryset(), pk=pk or 0)

    @extend_schema(
        parameters=LIST_FILTERS,
        responses=s.ShipmentSerializer(many=True),
    )
    def list(self, request):
        query = s.ShipmentListQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        queryset = self.get_queryset()
        if filters.get("order"):
            queryset = queryset.filter(order__number=filters["order"])
        if "status" in filters:
            queryset = queryset.filter(status=filters["status"])
        if "warehouse" in filters:
            queryset = queryset.filter(warehouse__code=filters["warehouse"])
        if filters.get("tracking_number"):
            queryset = queryset.filter(tracking_number=filters["tracking_number"])
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(s.ShipmentSerializer(page, many=True).data)

    @extend_schema(responses=s.ShipmentSerializer)
    def retrieve(self, request, number=None):
        return Response(s.ShipmentSerializer(self.get_object()).data)

    @extend_schema(
        request=s.ShipmentCreateSerializer,
        responses={201: s.ShipmentSerializer},
        parameters=[IDEMPOTENCY_HEADER],
        description=(
            "Record a shipment fulfilled outside the warehouse flow (marketplace, drop-ship, "
            "a parcel handed in by hand): its units ship (stock leaves, the order moves to "
            "partially shipped or shipped) and a shipment.shipped webhook goes out."
        ),
    )
    def create(self, request):
        payload = s.ShipmentCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        order = Order.objects.filter(number=data["order"]).first()
        if order is None:
            raise ValidationFailed(
                f"Unknown order '{data['order']}'.", fields={"order": ["Unknown."]}
            )
        warehouse = None
        if data.get("warehouse"):
            warehouse = Warehouse.objects.filter(code=data["warehouse"]).first()
            if warehouse is None:
                raise ValidationFailed(
                    f"Unknown warehouse '{data['warehouse']}'.",
                    fields={"warehouse": ["Unknown."]},
                )
            check_access(request.user, warehouse)
        lines = None
        if data.get("lines"):
            lines = [(self._line_id(order, item), item["quantity"]) for item in data["lines"]]

        def create():
            shipment = services.create_external_shipment(
                order=order,
                actor=Actor.from_request(request),
                carrier_name=data["carrier"],
                tracking_number=data["tracking_number"],
                tracking_url=data["tracking_url"],
                warehouse=warehouse,
                lines=lines,
            )
            fresh = self.get_queryset().get(pk=shipment.pk)
            return Response(s.ShipmentSerializer(fresh).data, status=status.HTTP_201_CREATED)

        return idempotent_create(request, create)

    @staticmethod
    def _line_id(order, item) -> int:
        if ("line" in item) == ("sku" in item):
            raise ValidationFailed(
                "Name each line by its id or by its SKU (one of them).",
                fields={"lines": ["Give either line or sku."]},
            )
        if "line" in item:
            if not order.lines.filter(pk=item["line"]).exists():
                raise ValidationFailed(
                    f"Line {item['line']} is not on order {order.number}.",
                    fields={"lines": [f"Unknown line {item['line']}."]},
                )
            return item["line"]
        matches = list(order.lines.filter(sku_code=item["sku"]).values_list("pk", flat=True))
        if len(matches) != 1:
            problem = "not on the order" if not matches else "on several lines: give the line id"
            raise ValidationFailed(
                f"SKU {item['sku']} is {problem}.", fields={"lines": [f"{item['sku']}: {problem}."]}
            )
        return matches[0]

    @extend_schema(
        request=None,
        responses=s.ShipmentSerializer,
        description="Mark a shipment underway as delivered (own courier, proof of delivery).",
    )
    @action(detail=True, methods=["post"])
    def deliver(self, request, number=None):
        shipment = self.get_object()
        check_access(request.user, shipment.warehouse)
        services.mark_shipment_delivered(
            shipment, actor=Actor.from_request(request), message="Delivered (API)"
        )
        return Response(s.ShipmentSerializer(self.get_queryset().get(pk=shipment.pk)).data)


class PickListViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [RequiresCapability]
    required = {"list": READ, "retrieve": READ}
    serializer_class = s.PickListSerializer
    lookup_field = "number"
    lookup_value_regex = "[A-Za-z0-9-]+"
    filter_backends = []

    def get_queryset(self):
        queryset = PickList.objects.select_related("warehouse", "assigned_to").prefetch_related(
            "orders__order",
            "orders__shipment",
            Prefetch(
                "lines",
                queryset=PickListLine.objects.select_related("sku", "pick_order__order"),
            ),
        )
        return scope_by_warehouse(queryset, self.request.user)

    def get_object(self):
        pk = PickList.pk_from_number(self.kwargs["number"])
        obj = self.get_queryset().filter(pk=pk or 0).first()
        if obj is None:
            raise NotFound(f"No pick list {self.kwargs['number']}.")
        return obj

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=["open", "picking", "done", "cancelled"]),
            WAREHOUSE_FILTER,
        ],
        responses=s.PickListSerializer(many=True),
    )
    def list(self, request):
        query = s.PickListListQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        queryset = self.get_queryset()
        if "status" in filters:
            queryset = queryset.filter(status=filters["status"])
        if "warehouse" in filters:
            queryset = queryset.filter(warehouse__code=filters["warehouse"])
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(s.PickListSerializer(page, many=True).data)

    @extend_schema(responses=s.PickListSerializer)
    def retrieve(self, request, number=None):
        return Response(s.PickListSerializer(self.get_object()).data)
