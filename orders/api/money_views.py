"""The money API: an order's payments (add, capture, void), refunds (create idempotently,
retry) and invoices (list, issue, read, PDF).

API keys see only orders of the channels they are scoped to; writes need the
``payments:write`` scope (refunds too) or ``invoices:write``; staff need the matching
capability.
"""

import django_filters
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from oms_site.actors import Actor
from oms_site.api_auth import RequiresCapability, request_api_key
from oms_site.api_filters import ChoiceFilter, FilterSet
from oms_site.idempotency import idempotent_create
from oms_site.roles import Capability as C

from ..invoicing import services as invoicing
from ..invoicing.models import DocumentKind, Invoice
from ..invoicing.pdf import pdf_of
from ..models import Order
from ..payments import services as payments
from ..payments.models import Payment, Refund, Transaction
from ..payments.refunds import create_refund
from . import money_serializers as s

READ = (C.ORDER_VIEW, "orders:read")
PAY = (C.PAYMENT_MANAGE, "payments:write")
REFUND = (C.REFUND_CREATE, "payments:write")
INVOICE = (C.INVOICE_MANAGE, "invoices:write")
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="Retries with the same key and body return the first result.",
)
NUMBER = OpenApiParameter("number", str, OpenApiParameter.PATH, pattern="^[A-Za-z0-9-]+$")


def visible_orders(request):
    orders = Order.objects.select_related("channel")
    api_key = request_api_key(request)
    if api_key is not None and api_key.channel_codes:
        orders = orders.filter(channel__code__in=api_key.channel_codes)
    return orders


def _payments_of(order):
    return order.payments.order_by("pk").prefetch_related(
        Prefetch("transactions", queryset=Transaction.objects.order_by("pk"))
    )


class OrderPaymentViewSet(viewsets.ViewSet):
    """``/orders/{number}/payments/``: how an order is paid, with each payment's ledger."""

    permission_classes = [RequiresCapability]
    required = {"list": READ, "create": PAY, "capture": PAY, "void": PAY}

    def _order(self, number):
        return get_object_or_404(visible_orders(self.request), number=number)

    def _respond(self, order, code=status.HTTP_200_OK):
        return Response(s.PaymentSerializer(_payments_of(order), many=True).data, status=code)

    @extend_schema(parameters=[NUMBER], responses=s.PaymentSerializer(many=True))
    def list(self, request, number=None):
        return self._respond(self._order(number))

    @extend_schema(
        parameters=[NUMBER],
        request=s.PaymentCreateSerializer,
        responses={201: s.PaymentSerializer},
        description="Record how the customer pays. A Vipps MobilePay payment (gateway vipps, "
        "its reference) is checked with the provider and captured as the channel says; "
        "offline methods are captured when `received` (or later, with capture).",
    )
    def create(self, request, number=None):
        order = self._order(number)
        payload = s.PaymentCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        actor = Actor.from_request(request)
        payment = payments.add_payment(
            order=order,
            gateway=data["gateway"],
            method=data["method"],
            provider_reference=data["reference"],
            amount=data["amount"],
            actor=actor,
        )
        if data["received"] and data["gateway"] == "manual" and payment.captured_amount == 0:
            payments.capture_payment(
                order=order, payment=payment, amount=data["amount"], actor=actor
            )
        payment = _payments_of(order).get(pk=payment.pk)
        return Response(s.PaymentSerializer(payment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[NUMBER],
        request=s.CaptureSerializer,
        responses=s.PaymentSerializer(many=True),
        description="Capture money (default: everything due). On offline payments this "
        "records money that arrived. Provider captures run after the answer is sent: read "
        "the payments again for their outcome.",
    )
    def capture(self, request, number=None):
        order = self._order(number)
        payload = s.CaptureSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        payments.capture_payment(
            order=order, amount=payload.validated_data["amount"], actor=Actor.from_request(request)
        )
        return self._respond(order)

    @extend_schema(
        parameters=[NUMBER],
        request=None,
        responses=s.PaymentSerializer(many=True),
        description="Void what is authorized and not captured.",
    )
    def void(self, request, number=None):
        order = self._order(number)
        payments.void_payment(order=order, actor=Actor.from_request(request))
        return self._respond(order)


class OrderRefundViewSet(viewsets.ViewSet):
    """``/orders/{number}/refunds/``."""

    permission_classes = [RequiresCapability]
    required = {"list": READ, "create": REFUND}

    @extend_schema(parameters=[NUMBER], responses=s.RefundSerializer(many=True))
    def list(self, request, number=None):
        order = get_object_or_404(visible_orders(request), number=number)
        refunds = order.refunds.order_by("pk").prefetch_related("lines__order_line")
        return Response(s.RefundSerializer(refunds, many=True).data)

    @extend_schema(
        parameters=[NUMBER, IDEMPOTENCY_HEADER],
        request=s.RefundCreateSerializer,
        responses={201: s.RefundSerializer},
        description="Refund lines (units), shipping, a goodwill amount, less a restocking "
        "fee — to the payment through its gateway, or recorded as paid back by hand "
        "(`manual`). Refused with 409 refund_exceeds_captured when it would pass what was "
        "captured and not yet refunded. The gateway answers after this response: the refund "
        "is pending until then.",
    )
    def create(self, request, number=None):
        order = get_object_or_404(visible_orders(request), number=number)
        payload = s.RefundCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data

        def create():
            refund = create_refund(
                order=order,
                actor=Actor.from_request(request),
                lines=[(line["line"], line["quantity"]) for line in data["lines"]],
                shipping_amount=data["shipping_amount"],
                restocking_fee=data["restocking_fee"],
                extra_amount=data["extra_amount"],
                payment=data["payment"],
                manual=data["manual"],
                reason=data["reason"],
                source="api",
            )
            return Response(s.RefundSerializer(refund).data, status=status.HTTP_201_CREATED)

        return idempotent_create(request, create)


class RefundViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """``/refunds/{id}/`` and its retry."""

    permission_classes = [RequiresCapability]
    required = {"retrieve": READ, "retry": REFUND}
    serializer_class = s.RefundSerializer
    pagination_class = None

    def get_queryset(self):
        queryset = Refund.objects.select_related("order").prefetch_related("lines__order_line")
        api_key = request_api_key(self.request)
        if api_key is not None and api_key.channel_codes:
            queryset = queryset.filter(order__channel__code__in=api_key.channel_codes)
        return queryset

    @extend_schema(
        request=None,
        responses=s.RefundSerializer,
        description="Try a failed refund again (a new attempt with a new idempotency key).",
    )
    def retry(self, request, pk=None):
        refund = self.get_object()
        payments.retry_refund(refund, actor=Actor.from_request(request))
        return Response(s.RefundSerializer(self.get_queryset().get(pk=refund.pk)).data)


class InvoiceFilter(FilterSet):
    kind = ChoiceFilter(choices=DocumentKind.choices)
    order = django_filters.CharFilter(
        field_name="order__number", help_text="Only this order's documents (its number)."
    )

    class Meta:
        model = Invoice
        fields = []


class InvoiceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """``/invoices/``: invoices and credit notes, newest first; ``?kind=``, ``?order=``."""

    permission_classes = [RequiresCapability]
    required = {"list": READ, "retrieve": READ, "pdf": READ}
    serializer_class = s.InvoiceSerializer
    lookup_field = "number"
    lookup_value_regex = "[A-Za-z0-9-]+"
    filterset_class = InvoiceFilter

    def get_queryset(self):
        queryset = Invoice.objects.select_related(
            "order", "credited_invoice", "refund"
        ).prefetch_related("lines", "tax_lines")
        api_key = request_api_key(self.request)
        if api_key is not None and api_key.channel_codes:
            queryset = queryset.filter(order__channel__code__in=api_key.channel_codes)
        return queryset

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The document as issued."
            )
        },
        description="The document's PDF (rendered once, then always the same bytes).",
    )
    def pdf(self, request, number=None):
        invoice = self.get_object()
        response = HttpResponse(pdf_of(invoice), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{invoice.number}.pdf"'
        return response


class OrderInvoiceViewSet(viewsets.ViewSet):
    """``POST /orders/{number}/invoices/``: issue the order's invoice now."""

    permission_classes = [RequiresCapability]
    required = {"create": INVOICE}

    @extend_schema(
        parameters=[NUMBER],
        request=s.InvoiceIssueSerializer,
        responses={201: s.InvoiceSerializer},
        description="Issue the order's invoice (once per order; 409 already_invoiced).",
    )
    def create(self, request, number=None):
        order = get_object_or_404(visible_orders(request), number=number)
        payload = s.InvoiceIssueSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        invoice = invoicing.issue_invoice(
            order, note=payload.validated_data["note"], actor=Actor.from_request(request)
        )
        return Response(s.InvoiceSerializer(invoice).data, status=status.HTTP_201_CREATED)


__all__ = [
    "InvoiceViewSet",
    "OrderInvoiceViewSet",
    "OrderPaymentViewSet",
    "OrderRefundViewSet",
    "Payment",
    "RefundViewSet",
]
