"""API: a brand's webhook endpoints (register, change, rotate the secret) and their delivery
log (read, redeliver)."""

import django_filters
from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api_idempotency import idempotent
from brands.scoping import brand_ids_for_request, scope_queryset
from campaigns.apis import brand_for_write
from core.api import OrderingCursorPagination
from webhooks.event_types import EVENT_TYPES
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import (
    webhook_delivery_replay,
    webhook_endpoint_create,
    webhook_endpoint_secret_rotate,
    webhook_endpoint_update,
)


class EndpointOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    brand = serializers.CharField(source="brand.slug")
    event_types = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "brand",
            "url",
            "description",
            "event_types",
            "is_active",
            "failing_since",
            "disabled_at",
            "disabled_reason",
            "previous_secret_expires_at",
            "created_at",
        ]


class EndpointWithSecretSerializer(EndpointOutputSerializer):
    secret = serializers.CharField(help_text="The signing secret; shown only in this response.")

    class Meta(EndpointOutputSerializer.Meta):
        fields = [*EndpointOutputSerializer.Meta.fields, "secret"]


class EndpointInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    brand = serializers.SlugField(required=False, help_text="Brand slug; an API key's own brand when omitted.")
    url = serializers.URLField(max_length=1000)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    event_types = serializers.ListField(child=serializers.ChoiceField(choices=list(EVENT_TYPES)), allow_empty=False)


class EndpointUpdateSerializer(serializers.Serializer):  # type: ignore[type-arg]
    url = serializers.URLField(max_length=1000, required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=list(EVENT_TYPES)), allow_empty=False, required=False
    )
    is_active = serializers.BooleanField(required=False)


def _endpoints(request: Request) -> QuerySet[WebhookEndpoint]:
    return scope_queryset(
        WebhookEndpoint.objects.select_related("brand"),
        brand_ids_for_request(request),
        brand_field=WebhookEndpoint.BRAND_FIELD,
    )


class EndpointListCreateApi(ListAPIView):  # type: ignore[type-arg]
    scope_resource = "webhooks"
    throttle_scope = "api"
    serializer_class = EndpointOutputSerializer
    pagination_class = OrderingCursorPagination
    ordering_fields = ["id", "created_at"]
    ordering = ["-id"]

    def get_queryset(self) -> QuerySet[WebhookEndpoint]:
        return _endpoints(self.request)

    @extend_schema(
        operation_id="webhook_endpoint_create",
        summary="Register an endpoint (public HTTPS) for some event types; the answer holds its signing secret",
        request=EndpointInputSerializer,
        responses={201: EndpointWithSecretSerializer},
        examples=[
            OpenApiExample(
                "ERP",
                value={
                    "url": "https://erp.example.com/mgm",
                    "event_types": ["commission.confirmed", "withdrawal.paid"],
                },
                request_only=True,
            )
        ],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = EndpointInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        endpoint, secret = webhook_endpoint_create(
            brand=brand_for_write(request, data.get("brand")),
            url=data["url"],
            event_types=data["event_types"],
            description=data["description"],
            actor=request.user,
        )
        body = EndpointOutputSerializer(endpoint).data | {"secret": secret}
        return Response(body, status=status.HTTP_201_CREATED)


class _EndpointApi(APIView):
    scope_resource = "webhooks"
    throttle_scope = "api"

    def _get(self, request: Request, pk: int) -> WebhookEndpoint:
        endpoint = _endpoints(request).filter(pk=pk).first()
        if endpoint is None:
            raise Http404
        return endpoint


class EndpointDetailApi(_EndpointApi):
    @extend_schema(operation_id="webhook_endpoint_get", responses=EndpointOutputSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(EndpointOutputSerializer(self._get(request, pk)).data)

    @extend_schema(
        operation_id="webhook_endpoint_update",
        summary="Change the URL, event types or description; turn it off or back on",
        request=EndpointUpdateSerializer,
        responses=EndpointOutputSerializer,
    )
    def patch(self, request: Request, pk: int) -> Response:
        endpoint = self._get(request, pk)
        serializer = EndpointUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        updated = webhook_endpoint_update(endpoint=endpoint, actor=request.user, **serializer.validated_data)
        return Response(EndpointOutputSerializer(updated).data)


class EndpointRotateSecretApi(_EndpointApi):
    @extend_schema(
        operation_id="webhook_endpoint_rotate_secret",
        summary="New signing secret; messages carry both signatures during the overlap",
        request=None,
        responses=EndpointWithSecretSerializer,
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        endpoint = self._get(request, pk)
        secret = webhook_endpoint_secret_rotate(endpoint=endpoint, actor=request.user)
        body = EndpointOutputSerializer(self._get(request, pk)).data | {"secret": secret}
        return Response(body)


class DeliveryOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    event_type = serializers.CharField(source="message.event_type")
    message_id = serializers.CharField()
    endpoint_id = serializers.IntegerField()

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "message_id",
            "event_type",
            "endpoint_id",
            "status",
            "attempts",
            "last_attempt_at",
            "last_response_status",
            "last_duration_ms",
            "last_error",
            "next_attempt_at",
            "delivered_at",
            "created_at",
        ]


class DeliveryFilter(django_filters.FilterSet):
    endpoint = django_filters.NumberFilter(field_name="endpoint_id")
    event_type = django_filters.CharFilter(field_name="message__event_type")

    class Meta:
        model = WebhookDelivery
        fields = ["status"]


def _deliveries(request: Request) -> QuerySet[WebhookDelivery]:
    return scope_queryset(
        WebhookDelivery.objects.select_related("message"),
        brand_ids_for_request(request),
        brand_field=WebhookDelivery.BRAND_FIELD,
    )


class DeliveryListApi(ListAPIView):  # type: ignore[type-arg]
    scope_resource = "webhooks"
    throttle_scope = "api"
    serializer_class = DeliveryOutputSerializer
    filterset_class = DeliveryFilter
    pagination_class = OrderingCursorPagination
    ordering_fields = ["id", "created_at"]
    ordering = ["-id"]

    def get_queryset(self) -> QuerySet[WebhookDelivery]:
        return _deliveries(self.request)


class DeliveryReplayApi(APIView):
    scope_resource = "webhooks"
    throttle_scope = "api"

    @extend_schema(
        operation_id="webhook_delivery_replay",
        summary="Send a delivery again now (same webhook-id)",
        request=None,
        responses=DeliveryOutputSerializer,
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        delivery = _deliveries(request).filter(pk=pk).first()
        if delivery is None:
            raise Http404
        webhook_delivery_replay(delivery=delivery, actor=request.user)
        return Response(DeliveryOutputSerializer(_deliveries(request).get(pk=pk)).data)
