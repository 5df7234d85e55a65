"""``/api/v1/returns/``: create (idempotent), list, detail, and the return's actions —
approve (optionally booking the label), reject, receive, inspect, close (the refund),
exchange.

Reading needs ``orders:read``; every write ``returns:write``. Staff need ``order.view``
to read, ``return.manage`` to create, decide, close and exchange, ``return.receive`` to
receive and inspect — warehouse staff only at their warehouses (others' returns are 404).
API keys limited to channels see only those channels' orders' returns.
"""

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from fulfillment.access import scope_by_warehouse
from fulfillment.models import CarrierAccount
from inventory.models import Warehouse
from oms_site.actors import Actor
from oms_site.api_auth import RequiresCapability, request_api_key
from oms_site.errors import ValidationFailed
from oms_site.idempotency import idempotent_create
from oms_site.roles import Capability as C
from orders.models import Order

from .. import services
from ..models import ReturnEvent, ReturnLine, ReturnRequest, ReturnSource
from . import serializers as s

READ = (C.ORDER_VIEW, "orders:read")
MANAGE = (C.RETURN_MANAGE, "returns:write")
RECEIVE = (C.RETURN_RECEIVE, "returns:write")
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="Retries with the same key and body return the first result.",
)
TEXT = "^[^\\u0000]*$"
LIST_FILTERS = [
    OpenApiParameter("status", str, enum=[v for v, _l in s.ReturnStatus.choices]),
    OpenApiParameter(
        "order",
        {"type": "string", "maxLength": 20, "pattern": TEXT},
        description="Order number, e.g. SO-0000042.",
    ),
    OpenApiParameter(
        "warehouse",
        {"type": "string", "maxLength": 20, "pattern": "^[-a-zA-Z0-9_]+$"},
        description="Return warehouse code.",
    ),
]


def _unknown(field, what, value):
    return ValidationFailed(f"Unknown {what} '{value}'.", fields={field: ["Unknown."]})


class ReturnViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [RequiresCapability]
    required = {
        "list": READ,
        "retrieve": READ,
        "create": MANAGE,
        "approve": MANAGE,
        "reject": MANAGE,
        "receive": RECEIVE,
        "inspect": RECEIVE,
        "close": MANAGE,
        "exchange": MANAGE,
    }
    serializer_class = s.ReturnSerializer
    lookup_field = "number"
    lookup_value_regex = "[Rr][Mm][Aa]-[0-9]{1,12}"
    filter_backends = []

    def get_queryset(self):
        queryset = ReturnRequest.objects.select_related(
            "order", "warehouse", "carrier", "exchange_order"
        ).prefetch_related(
            Prefetch("lines", queryset=ReturnLine.objects.select_related("order_line")),
            Prefetch("events", queryset=ReturnEvent.objects.order_by("pk")),
        )
        api_key = request_api_key(self.request)
        if api_key is not None and api_key.channel_codes:
            queryset = queryset.filter(order__channel__code__in=api_key.channel_codes)
        return scope_by_warehouse(queryset, self.request.user)

    def get_object(self):
        pk = ReturnRequest.pk_from_number(self.kwargs["number"])
        return get_object_or_404(self.get_queryset(), pk=pk or 0)

    def _respond(self, request_obj, code=status.HTTP_200_OK):
        fresh = self.get_queryset().get(pk=request_obj.pk)
        return Response(s.ReturnSerializer(fresh).data, status=code)

    def _payload(self, serializer_class):
        payload = serializer_class(data=self.request.data)
        payload.is_valid(raise_exception=True)
        return payload.validated_data

    def _actor(self):
        return Actor.from_request(self.request)

    @extend_schema(parameters=LIST_FILTERS, responses=s.ReturnSerializer(many=True))
    def list(self, request):
        query = s.ReturnListQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        queryset = self.get_queryset()
        if "status" in filters:
            queryset = queryset.filter(status=filters["status"])
        if filters.get("order"):
            queryset = queryset.filter(order__number=filters["order"])
        if "warehouse" in filters:
            queryset = queryset.filter(warehouse__code=filters["warehouse"])
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(s.ReturnSerializer(page, many=True).data)

    @extend_schema(responses=s.ReturnSerializer)
    def retrieve(self, request, number=None):
        return Response(s.ReturnSerializer(self.get_object()).data)

    @extend_schema(
        request=s.ReturnCreateSerializer,
        responses={201: s.ReturnSerializer},
        parameters=[IDEMPOTENCY_HEADER],
        description="Ask for a return of shipped units of a delivered order. Refused with "
        "422 naming each line beyond what was shipped and not yet returned or on its way "
        "back; 409 when the order is not delivered.",
    )
    def create(self, request):
        data = self._payload(s.ReturnCreateSerializer)
        orders = Order.objects.all()
        api_key = request_api_key(request)
        if api_key is not None and api_key.channel_codes:
            orders = orders.filter(channel__code__in=api_key.channel_codes)
        order = orders.filter(number=data["order"]).first()
        if order is None:
            raise _unknown("order", "order", data["order"])
        warehouse = None
        if data.get("warehouse"):
            warehouse = Warehouse.objects.filter(code=data["warehouse"]).first()
            if warehouse is None:
                raise _unknown("warehouse", "warehouse", data["warehouse"])

        def create():
            made = services.create_return(
                order=order,
                lines=[dict(line) for line in data["lines"]],
                warehouse=warehouse,
                note=data["note"],
                source=ReturnSource.API if api_key is not None else ReturnSource.STAFF,
                actor=self._actor(),
            )
            return self._respond(made, status.HTTP_201_CREATED)

        return idempotent_create(request, create)

    @extend_schema(
        request=s.ReturnApproveSerializer,
        responses=s.ReturnSerializer,
        description="Approve; with `carrier`, a return label is booked through the "
        "carrier's adapter and the return moves on to label_sent.",
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, number=None):
        data = self._payload(s.ReturnApproveSerializer)
        rr = self.get_object()
        carrier = service = None
        if data.get("carrier"):
            carrier = CarrierAccount.objects.filter(code=data["carrier"]).first()
            if carrier is None:
                raise _unknown("carrier", "carrier", data["carrier"])
            if data.get("service"):
                service = carrier.services.filter(code=data["service"]).first()
                if service is None:
                    raise _unknown("service", "service", data["service"])
        rr = services.approve_return(rr, actor=self._actor())
        if carrier is not None:
            rr = services.send_return_label(
                rr, carrier=carrier, service=service, actor=self._actor()
            )
        return self._respond(rr)

    @extend_schema(request=s.ReturnRejectSerializer, responses=s.ReturnSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, number=None):
        data = self._payload(s.ReturnRejectSerializer)
        rr = services.reject_return(self.get_object(), actor=self._actor(), reason=data["reason"])
        return self._respond(rr)

    @extend_schema(
        request=s.ReturnReceiveSerializer,
        responses=s.ReturnSerializer,
        description="The parcel arrived at the return warehouse (only its staff receive). "
        "The order moves to partially_returned or returned.",
    )
    @action(detail=True, methods=["post"])
    def receive(self, request, number=None):
        data = self._payload(s.ReturnReceiveSerializer)
        lines = None
        if data.get("lines") is not None:
            lines = {item["line"]: item["quantity"] for item in data["lines"]}
        rr = services.receive_return(self.get_object(), actor=self._actor(), lines=lines)
        return self._respond(rr)

    @extend_schema(
        request=s.ReturnInspectSerializer,
        responses=s.ReturnSerializer,
        description="An outcome per received line: restock (a return_restock ledger "
        "movement), damaged or dispose (no stock change).",
    )
    @action(detail=True, methods=["post"])
    def inspect(self, request, number=None):
        data = self._payload(s.ReturnInspectSerializer)
        lines = {item["line"]: (item["outcome"], item["note"]) for item in data["lines"]}
        rr = services.inspect_return(self.get_object(), actor=self._actor(), lines=lines)
        return self._respond(rr)

    @extend_schema(
        request=s.ReturnCloseSerializer,
        responses=s.ReturnSerializer,
        description="Refund (received units, shipping, less a restocking fee) to the "
        "original payment and close. The refund's credit note references the invoice.",
    )
    @action(detail=True, methods=["post"])
    def close(self, request, number=None):
        data = self._payload(s.ReturnCloseSerializer)
        lines = None
        if data.get("lines") is not None:
            lines = {item["line"]: item["quantity"] for item in data["lines"]}
        rr = services.close_return(
            self.get_object(),
            actor=self._actor(),
            refund=data["refund"],
            lines=lines,
            shipping_amount=data["shipping_amount"],
            restocking_fee=data["restocking_fee"],
            manual=data["manual"],
        )
        return self._respond(rr)

    @extend_schema(
        request=s.ReturnExchangeSerializer,
        responses=s.ReturnSerializer,
        description="Place the replacement order (routed and allocated like any order), "
        "linked to the return; the returned units' value pays for it, a higher price is "
        "left to charge on it, a lower one is refunded on the original order.",
    )
    @action(detail=True, methods=["post"])
    def exchange(self, request, number=None):
        data = self._payload(s.ReturnExchangeSerializer)
        rr = services.create_exchange(
            self.get_object(), actor=self._actor(), lines=[dict(x) for x in data["lines"]]
        )
        return self._respond(rr)
