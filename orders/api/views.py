"""The order API: create (idempotent), list, detail, events and transitions."""

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from inventory.models import Warehouse
from oms_site import serializer_reuse
from oms_site.actors import Actor
from oms_site.api_auth import RequiresCapability, request_api_key
from oms_site.errors import PermissionDenied, ValidationFailed
from oms_site.idempotency import (
    KeyedCreate,
    idempotency_key,
    idempotent_create,
    known_response,
)
from oms_site.roles import Capability as C

from .. import cached, services
from ..models import Allocation, Order, OrderLine, SalesChannel
from ..services import grouped_placement, in_hand
from . import serializers as s
from .filters import OrderFilter

READ = (C.ORDER_VIEW, "orders:read")
WRITE_MANAGE = (C.ORDER_MANAGE, "orders:write")

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="Retries with the same key and body return the first result.",
)


def _warehouse(code):
    if not code:
        return None
    warehouse = Warehouse.objects.filter(code=code).first()
    if warehouse is None:
        raise ValidationFailed(f"Unknown warehouse '{code}'.", fields={"warehouse": ["Unknown."]})
    return warehouse


class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Orders from every channel. API keys see only the channels they are scoped to."""

    permission_classes = [RequiresCapability]
    required = {
        "list": READ,
        "retrieve": READ,
        "events": READ,
        "create": (C.ORDER_CREATE, "orders:write"),
        "hold": WRITE_MANAGE,
        "release": WRITE_MANAGE,
        "cancel": WRITE_MANAGE,
        "submit": WRITE_MANAGE,
        "notes": WRITE_MANAGE,
        "reroute": (C.ORDER_ROUTE, "orders:write"),
        "edit": (C.ORDER_EDIT, "orders:write"),
        "ship": (C.ORDER_SHIP, "orders:write"),
        "deliver": (C.ORDER_SHIP, "orders:write"),
    }
    serializer_class = s.OrderSerializer
    filterset_class = OrderFilter
    lookup_field = "number"
    lookup_value_regex = "[A-Za-z0-9-]+"

    def get_queryset(self):
        queryset = Order.objects.select_related("channel", "customer").prefetch_related(
            Prefetch(
                "lines",
                queryset=OrderLine.objects.order_by("pk").prefetch_related(
                    Prefetch(
                        "allocations",
                        queryset=Allocation.objects.select_related(
                            "warehouse", "supplier"
                        ).order_by("pk"),
                    )
                ),
            )
        )
        api_key = request_api_key(self.request)
        if api_key is not None and api_key.channel_codes:
            queryset = queryset.filter(channel__code__in=api_key.channel_codes)
        return queryset

    def get_serializer_context(self):
        return super().get_serializer_context() | {"actor": Actor.from_request(self.request)}

    def _order(self):
        return get_object_or_404(self.get_queryset(), number=self.kwargs["number"])

    def _respond(self, order, status_code=status.HTTP_200_OK):
        if not in_hand.has(order, "lines"):
            order = self.get_queryset().get(pk=order.pk)
        return Response(
            serializer_reuse.represent(
                s.OrderSerializer, order, context=self.get_serializer_context()
            ),
            status=status_code,
        )

    @extend_schema(
        request=s.OrderCreateSerializer,
        responses={201: s.OrderSerializer},
        parameters=[IDEMPOTENCY_HEADER],
        description=(
            "Create an order and route it. The same channel + external_id twice is refused "
            "with 409 duplicate_external_id, naming the existing order."
        ),
    )
    def create(self, request):
        data = serializer_reuse.validated_data(s.OrderCreateSerializer, request.data)
        channel = cached.channel(data["channel"])
        if channel is None:
            raise ValidationFailed(
                f"Unknown channel '{data['channel']}'.", fields={"channel": ["Unknown."]}
            )
        api_key = request_api_key(request)
        if api_key is not None and not api_key.allows_channel(channel.code):
            raise PermissionDenied(
                f"This API key may not create orders in channel '{channel.code}'.",
                fields={"channel": ["Not allowed for this key."]},
            )
        warehouse = _warehouse(data.get("warehouse"))

        spec = dict(
            channel=channel,
            external_id=data.get("external_id"),
            currency=data.get("currency"),
            customer=data.get("customer"),
            email=data.get("email", ""),
            shipping_address=data["shipping_address"],
            billing_address=data.get("billing_address"),
            shipping_method=data.get("shipping_method", ""),
            shipping_total=data.get("shipping_total") or 0,
            shipping_tax=data.get("shipping_tax"),
            discount=data.get("discount") or 0,
            expected_grand_total=data.get("grand_total"),
            lines=[dict(line) for line in data["lines"]],
            tags=data.get("tags", []),
            notes=data.get("notes", ""),
            reservation_token=data.get("reservation_token"),
            warehouse=warehouse,
            draft=data.get("draft", False),
            payment=dict(data["payment"]) if data.get("payment") else None,
        )
        actor = Actor.from_request(request)

        def created(order):
            return self._respond(order, status.HTTP_201_CREATED)

        def create_alone():
            # Placement is one transaction; the response is built from the objects in hand.
            return idempotent_create(
                request,
                lambda: created(services.place_order(**spec, actor=actor)),
                create_is_atomic=True,
            )

        if not grouped_placement.eligible(spec):
            return create_alone()
        # A plain order is placed together with this process's concurrent ones.
        if idempotency_key(request) is None:
            with grouped_placement.serving():
                return created(grouped_placement.place_grouped(**spec, actor=actor))
        known = known_response(request)
        if known is not None:
            return known
        with grouped_placement.serving():
            return grouped_placement.place_grouped(
                **spec,
                actor=actor,
                # The key's record, with the answer, is written in the batch's transaction.
                hooks=KeyedCreate(request, created),
                alone=create_alone,
            )

    @extend_schema(
        responses=s.OrderEventSerializer(many=True),
        description="The order's audit trail, oldest first (every event, not paginated).",
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def events(self, request, number=None):
        order = self._order()
        return Response(s.OrderEventSerializer(order.events.all(), many=True).data)

    def _transition(self, request, serializer_class, run):
        order = self._order()
        payload = serializer_class(data=request.data)
        payload.is_valid(raise_exception=True)
        order = run(order, payload.validated_data, Actor.from_request(request))
        return self._respond(order)

    @extend_schema(request=s.ReasonSerializer, responses=s.OrderSerializer)
    @action(detail=True, methods=["post"])
    def hold(self, request, number=None):
        return self._transition(
            request,
            s.ReasonSerializer,
            lambda o, d, a: services.hold_order(o, reason=d["reason"], actor=a),
        )

    @extend_schema(request=s.ReleaseSerializer, responses=s.OrderSerializer)
    @action(detail=True, methods=["post"])
    def release(self, request, number=None):
        return self._transition(
            request,
            s.ReleaseSerializer,
            lambda o, d, a: services.release_order(o, note=d["note"], actor=a),
        )

    @extend_schema(request=s.OptionalReasonSerializer, responses=s.OrderSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, number=None):
        return self._transition(
            request,
            s.OptionalReasonSerializer,
            lambda o, d, a: services.cancel_order(o, reason=d["reason"], actor=a),
        )

    @extend_schema(request=None, responses=s.OrderSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, number=None):
        return self._transition(
            request,
            s.OptionalReasonSerializer,
            lambda o, d, a: services.submit_draft(o, actor=a),
        )

    @extend_schema(request=s.RerouteSerializer, responses=s.OrderSerializer)
    @action(detail=True, methods=["post"])
    def reroute(self, request, number=None):
        return self._transition(
            request,
            s.RerouteSerializer,
            lambda o, d, a: services.reroute_order(
                o, warehouse=_warehouse(d.get("warehouse")), actor=a
            ),
        )

    @extend_schema(
        request=s.OrderEditSerializer,
        responses={200: s.OrderSerializer},
        parameters=[IDEMPOTENCY_HEADER],
        description=(
            "Edit an order before picking starts: set line quantities (0 removes a line), "
            "add lines, replace the shipping address. The order is priced and routed "
            "again; money captured beyond the new total is refunded, a larger total is "
            "captured from the authorization where the channel captures on placement. "
            "Refused with 422 order_not_editable (fields.status says why) once picking "
            "started, or when the order shipped, was cancelled or belongs to a "
            "marketplace; 422 invalid names a bad change (lines.0.sku, lines.1.line). "
            "An edit that changes nothing changes nothing. A retry with the same "
            "Idempotency-Key and body returns the first answer."
        ),
    )
    @action(detail=True, methods=["post"])
    def edit(self, request, number=None):
        order = self._order()
        payload = s.OrderEditSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data

        def edit():
            edited = services.edit_order(
                order,
                lines=[
                    {key: value for key, value in dict(line).items() if value is not None}
                    for line in data["lines"]
                ],
                shipping_address=data.get("shipping_address"),
                reason=data["reason"],
                actor=Actor.from_request(request),
            )
            return self._respond(self.get_queryset().get(pk=edited.pk))

        return idempotent_create(request, edit, create_is_atomic=True)

    @extend_schema(request=s.ShipSerializer, responses=s.OrderSerializer)
    @action(detail=True, methods=["post"])
    def ship(self, request, number=None):
        return self._transition(
            request,
            s.ShipSerializer,
            lambda o, d, a: services.ship_order(
                o, carrier=d["carrier"], tracking_number=d["tracking_number"], actor=a
            ),
        )

    @extend_schema(request=None, responses=s.OrderSerializer)
    @action(detail=True, methods=["post"])
    def deliver(self, request, number=None):
        return self._transition(
            request,
            s.OptionalReasonSerializer,
            lambda o, d, a: services.deliver_order(o, actor=a),
        )

    @extend_schema(request=s.NoteSerializer, responses={201: s.OrderEventSerializer})
    @action(detail=True, methods=["post"])
    def notes(self, request, number=None):
        order = self._order()
        payload = s.NoteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        event = services.add_note(
            order, text=payload.validated_data["text"], actor=Actor.from_request(request)
        )
        return Response(s.OrderEventSerializer(event).data, status=status.HTTP_201_CREATED)


class SalesChannelViewSet(viewsets.ReadOnlyModelViewSet):
    """The merchant's sales channels (read-only here; managed on the dashboard)."""

    permission_classes = [RequiresCapability]
    required = {"list": READ, "retrieve": READ}
    serializer_class = s.SalesChannelSerializer
    queryset = SalesChannel.objects.all()
    lookup_field = "code"
    lookup_value_regex = "[-a-zA-Z0-9_]+"
    pagination_class = None
    filter_backends = []
