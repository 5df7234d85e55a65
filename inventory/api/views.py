"""Stock API: availability for shops and marketplaces, receipts and adjustments for
integrations, checkout holds for the web shop and POS."""

import django_filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from oms_site.actors import Actor
from oms_site.api_auth import RequiresCapability, request_api_key
from oms_site.api_filters import ChoiceFilter, FilterSet
from oms_site.errors import BadRequest, NotFound, ValidationFailed
from oms_site.idempotency import idempotent_create
from oms_site.roles import Capability as C

from .. import catalogue, selectors, services, stock
from ..access import check_warehouse_access
from ..models import SKU, MovementReason, Product, Reservation, StockLevel, StockMovement, Warehouse
from . import serializers as s

MAX_AVAILABILITY = 500
READ = (C.STOCK_VIEW, "stock:read")
CATALOG_WRITE = (C.CATALOG_MANAGE, "catalog:write")
WRITE = (C.STOCK_CHANGE, "stock:write")


def _sku(code, field="sku") -> SKU:
    sku = SKU.objects.filter(code=code).first()
    if sku is None:
        raise ValidationFailed(f"Unknown SKU '{code}'.", fields={field: ["Unknown SKU."]})
    return sku


def _warehouse(request, code, field="warehouse") -> Warehouse:
    warehouse = Warehouse.objects.filter(code=code).first()
    if warehouse is None:
        raise ValidationFailed(
            f"Unknown warehouse '{code}'.", fields={field: ["Unknown warehouse."]}
        )
    if request_api_key(request) is None:
        check_warehouse_access(request.user, warehouse)
    return warehouse


class SKUViewSet(viewsets.ReadOnlyModelViewSet):
    """The catalogue's SKUs. Creating and changing them needs the ``catalog:write`` scope;
    they obey the CSV import's rules."""

    permission_classes = [RequiresCapability]
    required = {
        "list": READ,
        "retrieve": READ,
        "create": CATALOG_WRITE,
        "partial_update": CATALOG_WRITE,
        "deactivate": CATALOG_WRITE,
    }
    serializer_class = s.SKUSerializer
    queryset = SKU.objects.select_related("product", "supplier")
    lookup_field = "code"
    lookup_value_regex = "[^/\\x00]+"
    filterset_fields = {"active": ["exact"], "code": ["exact", "startswith"]}

    def _respond(self, sku, status_code=status.HTTP_200_OK):
        fresh = self.get_queryset().get(pk=sku.pk)
        return Response(s.SKUSerializer(fresh).data, status=status_code)

    @extend_schema(request=s.SKUWriteSerializer, responses={201: s.SKUSerializer})
    def create(self, request):
        payload = s.SKUWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return idempotent_create(
            request,
            lambda: self._respond(
                catalogue.create_sku(values=payload.validated_data), status.HTTP_201_CREATED
            ),
        )

    @extend_schema(request=s.SKUUpdateSerializer, responses=s.SKUSerializer)
    def partial_update(self, request, code=None):
        sku = self.get_object()
        payload = s.SKUUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._respond(catalogue.update_sku(sku, changes=payload.validated_data))

    @extend_schema(request=None, responses=s.SKUSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request, code=None):
        return self._respond(catalogue.deactivate_sku(self.get_object()))


class ProductViewSet(viewsets.ReadOnlyModelViewSet):
    """Products (the SKUs' parents)."""

    permission_classes = [RequiresCapability]
    required = {
        "list": READ,
        "retrieve": READ,
        "create": CATALOG_WRITE,
        "partial_update": CATALOG_WRITE,
        "deactivate": CATALOG_WRITE,
    }
    serializer_class = s.ProductSerializer
    queryset = Product.objects.prefetch_related("skus")
    lookup_value_regex = "[0-9]{1,18}"
    filter_backends = []

    def _respond(self, product, status_code=status.HTTP_200_OK):
        return Response(
            s.ProductSerializer(self.get_queryset().get(pk=product.pk)).data, status=status_code
        )

    @extend_schema(request=s.ProductWriteSerializer, responses={201: s.ProductSerializer})
    def create(self, request):
        payload = s.ProductWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return idempotent_create(
            request,
            lambda: self._respond(
                catalogue.create_product(**payload.validated_data), status.HTTP_201_CREATED
            ),
        )

    @extend_schema(request=s.ProductUpdateSerializer, responses=s.ProductSerializer)
    def partial_update(self, request, pk=None):
        product = self.get_object()
        payload = s.ProductUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._respond(catalogue.update_product(product, changes=payload.validated_data))

    @extend_schema(
        request=None,
        responses=s.DeactivatedSerializer,
        description="Deactivates every SKU of the product.",
    )
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        count = catalogue.deactivate_product(self.get_object())
        return Response({"deactivated_skus": count})


class MovementFilter(FilterSet):
    sku = django_filters.CharFilter(field_name="sku__code")
    warehouse = django_filters.CharFilter(field_name="warehouse__code")
    reason = ChoiceFilter(choices=MovementReason.choices)
    reference = django_filters.CharFilter()

    class Meta:
        model = StockMovement
        fields = []


class StockViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Stock levels per SKU and warehouse, and the changes integrations may make."""

    permission_classes = [RequiresCapability]
    required = {
        "list": READ,
        "availability": READ,
        "movements": READ,
        "receive": WRITE,
        "adjust": WRITE,
        "transfer": WRITE,
        "count": WRITE,
    }
    serializer_class = s.StockLevelSerializer
    filterset_class = None
    filterset_fields = {"sku__code": ["exact"], "warehouse__code": ["exact"]}

    def get_queryset(self):
        # The stock page's rule: warehouse staff see only their warehouses.
        if self.action == "movements":
            return selectors.ledger(user=self.request.user).order_by("-id")
        return selectors.stock_levels(user=self.request.user)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "sku",
                {
                    "type": "array",
                    "items": {"type": "string", "maxLength": 64},
                    "maxItems": MAX_AVAILABILITY,
                },
                required=True,
                explode=True,
                description="SKU codes: repeat the parameter or separate codes with commas "
                f"(at most {MAX_AVAILABILITY} codes in all).",
            ),
        ],
        responses=s.AvailabilitySerializer,
        description="Sellable units per SKU (on hand - allocated - safety stock), total and "
        "per warehouse: what a shop or marketplace may offer. Unknown codes are answered "
        "with known=false and 0 units.",
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def availability(self, request):
        values = request.query_params.getlist("sku")
        if not values:
            raise BadRequest("Name at least one SKU.", fields={"sku": ["Required."]})
        if any(len(value) > 64 for value in values):
            raise BadRequest("A value is too long.", fields={"sku": ["At most 64 characters."]})
        codes = list(dict.fromkeys(c for v in values for c in v.split(",") if c))
        if max(len(values), len(codes)) > MAX_AVAILABILITY:
            raise BadRequest(
                f"At most {MAX_AVAILABILITY} SKUs.",
                fields={"sku": [f"At most {MAX_AVAILABILITY}."]},
            )
        # PostgreSQL text can't hold NUL: such a code names no SKU.
        storable = [code for code in codes if "\x00" not in code]
        levels = StockLevel.objects.filter(sku__code__in=storable, warehouse__active=True)
        result = {code: {"sku": code, "sellable": 0, "warehouses": {}} for code in codes}
        known = set(SKU.objects.filter(code__in=storable).values_list("code", flat=True))
        for level in levels.select_related("sku", "warehouse"):
            entry = result[level.sku.code]
            entry["warehouses"][level.warehouse.code] = level.available_after_safety
            entry["sellable"] += level.available_after_safety
        for code in codes:
            result[code]["known"] = code in known
        return Response({"results": list(result.values())})

    @extend_schema(responses=s.StockMovementSerializer(many=True))
    @action(detail=False, methods=["get"], filterset_class=MovementFilter, filterset_fields=None)
    def movements(self, request):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(s.StockMovementSerializer(page, many=True).data)

    def _level_response(self, sku, warehouse, status_code=status.HTTP_200_OK):
        level = StockLevel.objects.select_related("sku", "warehouse").get(
            sku=sku, warehouse=warehouse
        )
        return Response(s.StockLevelSerializer(level).data, status=status_code)

    @extend_schema(request=s.ReceiveSerializer, responses={201: s.StockLevelSerializer})
    @action(detail=False, methods=["post"])
    def receive(self, request):
        data = self._valid(s.ReceiveSerializer, request)
        sku, warehouse = _sku(data["sku"]), _warehouse(request, data["warehouse"])

        def create():
            stock.receive(
                sku=sku,
                warehouse=warehouse,
                quantity=data["quantity"],
                reference=data["reference"],
                note=data["note"],
                actor=Actor.from_request(request),
            )
            return self._level_response(sku, warehouse, status.HTTP_201_CREATED)

        return idempotent_create(request, create)

    @extend_schema(request=s.AdjustSerializer, responses={201: s.StockLevelSerializer})
    @action(detail=False, methods=["post"])
    def adjust(self, request):
        data = self._valid(s.AdjustSerializer, request)
        sku, warehouse = _sku(data["sku"]), _warehouse(request, data["warehouse"])

        def create():
            stock.adjust(
                sku=sku,
                warehouse=warehouse,
                change=data["change"],
                note=data["note"],
                reference=data["reference"],
                actor=Actor.from_request(request),
            )
            return self._level_response(sku, warehouse, status.HTTP_201_CREATED)

        return idempotent_create(request, create)

    @extend_schema(request=s.TransferSerializer, responses={201: s.StockLevelSerializer(many=True)})
    @action(detail=False, methods=["post"])
    def transfer(self, request):
        data = self._valid(s.TransferSerializer, request)
        sku = _sku(data["sku"])
        source = _warehouse(request, data["source"], "source")
        destination = _warehouse(request, data["destination"], "destination")

        def create():
            stock.transfer(
                sku=sku,
                source=source,
                destination=destination,
                quantity=data["quantity"],
                note=data["note"],
                actor=Actor.from_request(request),
            )
            levels = StockLevel.objects.select_related("sku", "warehouse").filter(
                sku=sku, warehouse__in=[source, destination]
            )
            return Response(
                s.StockLevelSerializer(levels, many=True).data, status=status.HTTP_201_CREATED
            )

        return idempotent_create(request, create)

    @extend_schema(request=s.CountSerializer, responses={201: s.StockLevelSerializer})
    @action(detail=False, methods=["post"])
    def count(self, request):
        data = self._valid(s.CountSerializer, request)
        sku, warehouse = _sku(data["sku"]), _warehouse(request, data["warehouse"])

        def create():
            stock.count(
                sku=sku,
                warehouse=warehouse,
                counted=data["counted"],
                note=data["note"],
                actor=Actor.from_request(request),
            )
            return self._level_response(sku, warehouse, status.HTTP_201_CREATED)

        return idempotent_create(request, create)

    @staticmethod
    def _valid(serializer_class, request):
        payload = serializer_class(data=request.data)
        payload.is_valid(raise_exception=True)
        return payload.validated_data


class ReservationView(APIView):
    """Hold stock for a cart for N minutes; placing the order with the token turns the
    hold into the order's allocation. Expired holds are released by Celery beat."""

    permission_classes = [RequiresCapability]
    required = {"post": (C.ORDER_CREATE, "reservations:write")}

    @extend_schema(request=s.ReservationCreateSerializer, responses={201: s.ReservationSerializer})
    def post(self, request):
        payload = s.ReservationCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        codes = [item["sku"] for item in data["items"]]
        skus = {sku.code: sku for sku in SKU.objects.filter(code__in=codes, active=True)}
        unknown = {
            f"items.{i}.sku": ["Unknown or inactive SKU."]
            for i, code in enumerate(codes)
            if code not in skus
        }
        if unknown:
            raise ValidationFailed("Unknown SKUs.", fields=unknown)

        def create():
            token, rows = services.reserve(
                items=[(skus[item["sku"]], item["quantity"]) for item in data["items"]],
                minutes=data.get("minutes"),
                country=data["country"].upper(),
                reference=data["reference"],
                actor=Actor.from_request(request),
            )
            return Response(_reservation_body(token, rows), status=status.HTTP_201_CREATED)

        return idempotent_create(request, create)


class ReservationDetailView(APIView):
    permission_classes = [RequiresCapability]
    required = {
        "get": (C.ORDER_CREATE, "reservations:write"),
        "delete": (C.ORDER_CREATE, "reservations:write"),
    }

    @extend_schema(
        responses=s.ReservationSerializer,
        description="An active, expired or converted hold. A released (deleted) hold is gone: 404.",
    )
    def get(self, request, token):
        rows = list(
            Reservation.objects.filter(token=token)
            .exclude(status=Reservation.Status.RELEASED)
            .select_related("sku", "warehouse")
        )
        if not rows:
            raise NotFound("No hold with this token.")
        return Response(_reservation_body(token, rows))

    @extend_schema(responses={204: None})
    def delete(self, request, token):
        services.release_reservation(token=token, actor=Actor.from_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


def _reservation_body(token, rows):
    return {
        "token": token,
        "expires_at": rows[0].expires_at,
        "status": rows[0].status,
        "items": [
            {"sku": r.sku.code, "warehouse": r.warehouse.code, "quantity": r.quantity} for r in rows
        ],
        "total_units": sum(r.quantity for r in rows),
    }
