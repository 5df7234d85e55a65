"""Webhook subscriptions over the API: create, list, change, rotate the secret, delete,
see deliveries and redeliver. Behind the ``webhooks:manage`` key scope (staff: the
integrations capability).

The secret is returned only by create and rotate-secret: store it then; it is never shown
again by the API.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from . import webhooks
from .api_auth import RequiresCapability
from .api_fields import StrictBooleanField, StrictCharField, StrictIntegerField, StrictSerializer
from .models import WebhookDelivery, WebhookSubscription
from .roles import Capability as C

MANAGE = (C.INTEGRATIONS_MANAGE, "webhooks:manage")


class SubscriptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookSubscription
        fields = ["id", "name", "url", "event_types", "active", "created_at"]


class SubscriptionWithSecretSerializer(serializers.ModelSerializer):
    secret = serializers.CharField(help_text="The HMAC key: shown here only, store it now.")

    class Meta:
        model = WebhookSubscription
        fields = [*SubscriptionSerializer.Meta.fields, "secret"]


@extend_schema_field({"type": "string", "format": "uri", "maxLength": 500})
class URLTextField(StrictCharField):
    """A URL as text: its form is checked by the service (422), since the schema's
    ``format: uri`` admits URLs the server won't call (a host name over 253 characters)."""

    def __init__(self, **kwargs):
        super().__init__(max_length=500, **kwargs)


class EventTypesField(serializers.ListField):
    def __init__(self, **kwargs):
        super().__init__(
            child=serializers.ChoiceField(choices=webhooks.EVENT_TYPES),
            max_length=len(webhooks.EVENT_TYPES),
            help_text="Event types to send; empty means all.",
            **kwargs,
        )


class SubscriptionCreateSerializer(StrictSerializer):
    name = StrictCharField(max_length=100)
    url = URLTextField(help_text="http or https; public addresses.")
    event_types = EventTypesField(required=False, default=list)
    active = StrictBooleanField(required=False, default=True)


class SubscriptionUpdateSerializer(StrictSerializer):
    name = StrictCharField(max_length=100, required=False)
    url = URLTextField(required=False)
    event_types = EventTypesField(required=False)
    active = StrictBooleanField(required=False)


class DeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.IntegerField(source="event.pk")
    event_type = serializers.CharField(source="event.event_type")
    subject = serializers.CharField(source="event.subject")
    sequence = serializers.IntegerField(source="event.sequence")

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_id",
            "event_type",
            "subject",
            "sequence",
            "status",
            "attempt_count",
            "next_attempt_at",
            "last_status_code",
            "created_at",
            "updated_at",
        ]


class RedeliverSerializer(StrictSerializer):
    delivery_ids = serializers.ListField(
        child=StrictIntegerField(min_value=1, max_value=2**63 - 1),
        allow_empty=False,
        max_length=100,
        help_text="Deliveries of this subscription to send again now, whatever their state.",
    )


class WebhookSubscriptionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The merchant's webhook subscriptions."""

    permission_classes = [RequiresCapability]
    required = {
        action: MANAGE
        for action in (
            "list",
            "retrieve",
            "create",
            "partial_update",
            "destroy",
            "rotate_secret",
            "deliveries",
            "redeliver",
        )
    }
    serializer_class = SubscriptionSerializer
    queryset = WebhookSubscription.objects.all()
    lookup_value_regex = "[0-9]{1,18}"
    filter_backends = []

    @extend_schema(
        request=SubscriptionCreateSerializer,
        responses={201: SubscriptionWithSecretSerializer},
        description="Subscribe a URL to events. The answer carries the signing secret once.",
    )
    def create(self, request):
        payload = SubscriptionCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        subscription = webhooks.create_subscription(**payload.validated_data)
        return Response(
            SubscriptionWithSecretSerializer(subscription).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=SubscriptionUpdateSerializer, responses=SubscriptionSerializer)
    def partial_update(self, request, pk=None):
        payload = SubscriptionUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        subscription = webhooks.update_subscription(self.get_object(), **payload.validated_data)
        return Response(SubscriptionSerializer(subscription).data)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        webhooks.delete_subscription(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=None,
        responses=SubscriptionWithSecretSerializer,
        description="A new signing secret, effective at once for every delivery from now on.",
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        subscription = webhooks.rotate_secret(self.get_object())
        return Response(SubscriptionWithSecretSerializer(subscription).data)

    @extend_schema(responses=DeliverySerializer(many=True))
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        subscription = self.get_object()
        queryset = subscription.deliveries.select_related("event").order_by("-id")
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    @extend_schema(
        request=RedeliverSerializer,
        responses=DeliverySerializer(many=True),
        description="Send deliveries again now (after fixing the receiver, say).",
    )
    @action(detail=True, methods=["post"], pagination_class=None)
    def redeliver(self, request, pk=None):
        subscription = self.get_object()
        payload = RedeliverSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        ids = list(dict.fromkeys(payload.validated_data["delivery_ids"]))
        found = {d.pk: d for d in subscription.deliveries.filter(pk__in=ids)}
        missing = [i for i in ids if i not in found]
        if missing:
            from .errors import ValidationFailed

            raise ValidationFailed(
                "Some deliveries are not this subscription's.",
                fields={"delivery_ids": [f"Unknown: {', '.join(map(str, missing))}."]},
            )
        sent = [webhooks.redeliver(found[i]) for i in ids]
        fresh = WebhookDelivery.objects.select_related("event").filter(pk__in=[d.pk for d in sent])
        return Response(DeliverySerializer(fresh.order_by("-id"), many=True).data)

    def get_object(self):
        return get_object_or_404(WebhookSubscription, pk=self.kwargs["pk"])
