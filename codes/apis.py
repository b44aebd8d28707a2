"""API: discount codes of the client's brands; issue one (the admin's service: chosen or
generated text, VTEX coupon synced after commit) and archive one."""

import django_filters
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api_idempotency import idempotent
from affiliates.models import Influencer
from brands.scoping import brand_ids_for_request, scope_queryset
from campaigns.models import Campaign
from codes.models import Code
from codes.services.archiving import code_archive
from codes.services.issuing import code_create
from core.api import OrderingCursorPagination


class CodeOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    brand = serializers.CharField(source="brand.slug")
    campaign = serializers.CharField(source="campaign.slug")
    campaign_id = serializers.IntegerField()
    influencer_id = serializers.IntegerField()

    class Meta:
        model = Code
        fields = [
            "id",
            "brand",
            "campaign",
            "campaign_id",
            "influencer_id",
            "text",
            "origin",
            "status",
            "status_reason",
            "discount_percent",
            "max_usage",
            "sync_status",
            "last_synced_at",
            "usage_count",
            "created_at",
        ]


_CODE_EXAMPLE = {
    "id": 91,
    "brand": "acme",
    "campaign": "summer-2026",
    "campaign_id": 7,
    "influencer_id": 17,
    "text": "MARIA10",
    "origin": "chosen",
    "status": "active",
    "status_reason": "",
    "discount_percent": "10.00",
    "max_usage": None,
    "sync_status": "pending",
    "last_synced_at": None,
    "usage_count": 0,
    "created_at": "2026-12-05T10:00:00Z",
}


def _codes(request: Request) -> QuerySet[Code]:
    return scope_queryset(
        Code.objects.select_related("brand", "campaign"), brand_ids_for_request(request), brand_field=Code.BRAND_FIELD
    )


class CodeFilter(django_filters.FilterSet):
    brand = django_filters.CharFilter(field_name="brand__slug")
    campaign = django_filters.NumberFilter(field_name="campaign_id")
    influencer = django_filters.NumberFilter(field_name="influencer_id")
    text = django_filters.CharFilter(field_name="text", lookup_expr="iexact")

    class Meta:
        model = Code
        fields = ["status", "sync_status"]


class CodeIssueInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    campaign = serializers.IntegerField(help_text="Campaign id.")
    influencer = serializers.IntegerField(help_text="Influencer id (a member of the campaign's brand).")
    text = serializers.CharField(
        max_length=30, required=False, allow_blank=True, help_text="The code shoppers type; generated when omitted."
    )


class CodeListIssueApi(ListAPIView):  # type: ignore[type-arg]
    scope_resource = "codes"
    throttle_scope = "api"
    serializer_class = CodeOutputSerializer
    filterset_class = CodeFilter
    pagination_class = OrderingCursorPagination
    ordering_fields = ["id", "created_at", "usage_count"]
    ordering = ["-id"]

    def get_queryset(self) -> QuerySet[Code]:
        return _codes(self.request)

    @extend_schema(
        operation_id="code_issue",
        summary="Issue a discount code to an influencer in a campaign (synced to a VTEX coupon)",
        request=CodeIssueInputSerializer,
        responses={201: CodeOutputSerializer},
        examples=[
            OpenApiExample(
                "Chosen text", value={"campaign": 7, "influencer": 17, "text": "MARIA10"}, request_only=True
            ),
            OpenApiExample("Issued", value=_CODE_EXAMPLE, response_only=True),
        ],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = CodeIssueInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        campaign = (
            scope_queryset(
                Campaign.objects.select_related("brand").filter(is_template=False),
                brand_ids_for_request(request),
                brand_field=Campaign.BRAND_FIELD,
            )
            .filter(pk=data["campaign"])
            .first()
        )
        if campaign is None:
            raise serializers.ValidationError({"campaign": [_("No campaign with this id in your brands.")]})
        influencer = Influencer.objects.filter(pk=data["influencer"], memberships__brand_id=campaign.brand_id).first()
        if influencer is None:
            raise serializers.ValidationError(
                {"influencer": [_("No influencer with this id in the campaign's brand.")]}
            )
        code = code_create(campaign=campaign, influencer=influencer, text=data.get("text") or None, actor=request.user)
        return Response(CodeOutputSerializer(_codes(request).get(pk=code.pk)).data, status=status.HTTP_201_CREATED)


class CodeArchiveApi(APIView):
    scope_resource = "codes"
    throttle_scope = "api"

    @extend_schema(
        operation_id="code_archive",
        summary="Archive a code (its VTEX coupon is deactivated); it stays archived until a manager brings it back",
        request=None,
        responses={200: CodeOutputSerializer},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        code = _codes(request).filter(pk=pk).first()
        if code is None:
            raise Http404
        code_archive(code=code, actor=request.user)
        return Response(CodeOutputSerializer(_codes(request).get(pk=pk)).data)
