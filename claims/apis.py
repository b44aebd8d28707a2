"""API (`/api/v1/claims/`, resource `claims`): the brand's system lists its missing-order claims
with what the platform found, and submits one for an influencer (the same service as the portal:
the same refusals, as 400 with a code)."""

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api_idempotency import idempotent
from affiliates.models import Influencer
from brands.scoping import brand_ids_for_request, scope_queryset
from campaigns.models import Campaign
from claims.models import Claim
from claims.selectors import claim_list
from claims.services import claim_submit
from core.api import OrderingCursorPagination


class ClaimOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    brand = serializers.CharField(source="brand.slug")
    campaign_id = serializers.IntegerField()
    influencer_id = serializers.IntegerField()
    vtex_order_id = serializers.CharField()
    status = serializers.ChoiceField(choices=Claim.Status.choices)
    source = serializers.ChoiceField(choices=Claim.Source.choices)  # type: ignore[assignment]
    finding = serializers.ChoiceField(
        choices=Claim.Finding.choices,
        help_text="Why the order is or is not attributed to the claimant, when last checked.",
    )
    finding_detail = serializers.JSONField(
        help_text="What the platform knows of the order: status, placed_at, value_cents, currency, coupon, "
        "source and rule of its attribution, attributed_to {id, name}, code, fraud_flags, beyond_window."
    )
    checked_at = serializers.DateTimeField()
    order_placed_at = serializers.DateTimeField(allow_null=True)
    buyer_message = serializers.CharField()
    has_evidence = serializers.BooleanField()
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class ClaimFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(field_name="status", choices=Claim.Status.choices)
    influencer = django_filters.NumberFilter(field_name="influencer_id")
    campaign = django_filters.NumberFilter(field_name="campaign_id")
    order = django_filters.CharFilter(field_name="vtex_order_id")
    created_from = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_to = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Claim
        fields: list[str] = []


class ClaimCreateInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    campaign = serializers.IntegerField(
        min_value=1, max_value=2**31 - 1, help_text="Campaign id (one the influencer takes part in)."
    )
    influencer = serializers.IntegerField(
        min_value=1, max_value=2**31 - 1, help_text="Id of an approved influencer of the brand."
    )
    vtex_order_id = serializers.CharField(max_length=64, help_text="The VTEX order id, e.g. 1415461749731-01.")
    buyer_message = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class ClaimListCreateApi(ListAPIView):  # type: ignore[type-arg]
    """Missing-order claims of the client's brands, newest first. Filters: status, influencer,
    campaign, order (VTEX id), created_from/created_to (ISO 8601)."""

    scope_resource = "claims"
    throttle_scope = "api"
    serializer_class = ClaimOutputSerializer
    filterset_class = ClaimFilter
    pagination_class = OrderingCursorPagination
    ordering_fields = ["id", "created_at"]
    ordering = ["-id"]

    def get_queryset(self) -> QuerySet[Claim]:
        return claim_list(brand_ids=brand_ids_for_request(self.request))

    @extend_schema(
        operation_id="claim_create",
        summary="Claim a missing order for an influencer",
        description="The order is fetched from VTEX; refused (400, with `code`) when it already has an open "
        "claim (claim_duplicate), is already attributed to the influencer (claim_already_attributed), is older "
        "than the brand's claim deadline (claim_late), or VTEX does not answer (vtex_unavailable).",
        request=ClaimCreateInputSerializer,
        responses={201: ClaimOutputSerializer},
        examples=[
            OpenApiExample(
                "A sale the buyer says came from the influencer",
                value={
                    "campaign": 7,
                    "influencer": 17,
                    "vtex_order_id": "1415461749731-01",
                    "buyer_message": "I bought after her video but forgot the code.",
                },
                request_only=True,
            )
        ],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = ClaimCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data: dict[str, Any] = serializer.validated_data
        brand_ids = brand_ids_for_request(request)
        campaign = (
            scope_queryset(Campaign.objects.select_related("brand"), brand_ids, brand_field=Campaign.BRAND_FIELD)
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
        claim = claim_submit(
            influencer=influencer,
            campaign=campaign,
            vtex_order_id=data["vtex_order_id"],
            buyer_message=data.get("buyer_message") or "",
            actor=request.user,
            source=Claim.Source.API,
        )
        return Response(ClaimOutputSerializer(claim_list(brand_ids=brand_ids).get(pk=claim.pk)).data, status=201)
