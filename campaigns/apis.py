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
from accounts.models import APIKey
from brands.models import Brand
from brands.scoping import brand_ids_for_request, scope_queryset
from brands.selectors import brand_get, brand_list
from campaigns.models import Campaign
from campaigns.services.campaigns import campaign_create_from_template, campaign_save
from campaigns.services.status import campaign_status_change
from core.api import OrderingCursorPagination


class BrandOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    slug = serializers.CharField()
    name = serializers.CharField()
    vtex_account = serializers.CharField()
    currency = serializers.CharField()
    country = serializers.CharField()
    time_zone = serializers.CharField()
    is_active = serializers.BooleanField()


class BrandListApi(ListAPIView):  # type: ignore[type-arg]
    """Brands this client may see (an API key sees its own brand)."""

    scope_resource = "brands"
    throttle_scope = "api"
    serializer_class = BrandOutputSerializer

    def get_queryset(self) -> QuerySet[Brand]:
        return brand_list(brand_ids=brand_ids_for_request(self.request))


class BrandDetailApi(APIView):
    scope_resource = "brands"
    throttle_scope = "api"

    @extend_schema(responses=BrandOutputSerializer, summary="One brand")
    def get(self, request: Request, slug: str) -> Response:
        brand = brand_get(slug=slug, brand_ids=brand_ids_for_request(request))
        if brand is None:
            raise Http404
        return Response(BrandOutputSerializer(brand).data)


def brand_for_write(request: Request, slug: str | None) -> Brand:
    """The brand a write acts on: an API key's own brand (a different slug is refused as not
    found), or, for staff, the brand named by `slug` among those they may see."""
    brand_ids = brand_ids_for_request(request)
    if isinstance(request.auth, APIKey):
        brand = request.auth.brand
        if slug and slug != brand.slug:
            raise Http404
        return brand
    if not slug:
        raise serializers.ValidationError({"brand": [_("Name the brand (its slug).")]})
    found = brand_get(slug=slug, brand_ids=brand_ids)
    if found is None:
        raise Http404
    return found


class CampaignOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    brand = serializers.CharField(source="brand.slug")
    template_id = serializers.IntegerField(allow_null=True)

    class Meta:
        model = Campaign
        fields = [
            "id",
            "brand",
            "name",
            "slug",
            "status",
            "starts_at",
            "ends_at",
            "is_template",
            "template_id",
            "open_to_all",
            "attribution_window_days",
            "hold_days",
            "utm_source",
            "utm_campaign",
            "discount_percent",
            "status_changed_at",
            "created_at",
        ]


_CAMPAIGN_EXAMPLE = {
    "id": 7,
    "brand": "acme",
    "name": "Summer 2026",
    "slug": "summer-2026",
    "status": "draft",
    "starts_at": "2027-01-01T05:00:00Z",
    "ends_at": "2027-03-01T05:00:00Z",
    "is_template": False,
    "template_id": 3,
    "open_to_all": True,
    "attribution_window_days": 30,
    "hold_days": 30,
    "utm_source": "influencers",
    "utm_campaign": "summer",
    "discount_percent": "10.00",
    "status_changed_at": None,
    "created_at": "2026-12-05T10:00:00Z",
}


def _campaigns(request: Request) -> QuerySet[Campaign]:
    return scope_queryset(
        Campaign.objects.select_related("brand"), brand_ids_for_request(request), brand_field=Campaign.BRAND_FIELD
    )


class CampaignFilter(django_filters.FilterSet):
    brand = django_filters.CharFilter(field_name="brand__slug")

    class Meta:
        model = Campaign
        fields = ["status", "is_template"]


class CampaignCreateInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    template = serializers.IntegerField(help_text="Id of a template campaign of the brand (is_template=true).")
    name = serializers.CharField(max_length=160)
    slug = serializers.SlugField(max_length=80, required=False, help_text="Generated from the name when omitted.")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(required=False, allow_null=True)


class CampaignListCreateApi(ListAPIView):  # type: ignore[type-arg]
    """Campaigns and templates of the client's brands; POST creates a draft from a template."""

    scope_resource = "campaigns"
    throttle_scope = "api"
    serializer_class = CampaignOutputSerializer
    filterset_class = CampaignFilter
    pagination_class = OrderingCursorPagination
    ordering_fields = ["id", "starts_at", "created_at"]
    ordering = ["-id"]

    def get_queryset(self) -> QuerySet[Campaign]:
        return _campaigns(self.request)

    @extend_schema(
        operation_id="campaign_create_from_template",
        summary="Create a draft campaign from a template (settings, rules, tiers, eligibility, variants)",
        request=CampaignCreateInputSerializer,
        responses={201: CampaignOutputSerializer},
        examples=[
            OpenApiExample(
                "From template 3",
                value={"template": 3, "name": "Summer 2026", "starts_at": "2027-01-01T00:00:00-05:00"},
                request_only=True,
            ),
            OpenApiExample("Created", value=_CAMPAIGN_EXAMPLE, response_only=True),
        ],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = CampaignCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        template = _campaigns(request).filter(pk=data["template"], is_template=True).first()
        if template is None:
            raise serializers.ValidationError({"template": [_("No template with this id in your brands.")]})
        campaign = campaign_create_from_template(
            template=template,
            name=data["name"],
            slug=data.get("slug"),
            starts_at=data["starts_at"],
            ends_at=data.get("ends_at"),
            actor=request.user,
        )
        return Response(CampaignOutputSerializer(campaign).data, status=status.HTTP_201_CREATED)


class CampaignDatesInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    starts_at = serializers.DateTimeField(required=False)
    ends_at = serializers.DateTimeField(required=False, allow_null=True)


class _CampaignApi(APIView):
    scope_resource = "campaigns"
    throttle_scope = "api"

    def _get(self, request: Request, pk: int) -> Campaign:
        campaign = _campaigns(request).filter(pk=pk).first()
        if campaign is None:
            raise Http404
        return campaign


class CampaignDetailApi(_CampaignApi):
    @extend_schema(operation_id="campaign_get", summary="One campaign", responses=CampaignOutputSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(CampaignOutputSerializer(self._get(request, pk)).data)

    @extend_schema(
        operation_id="campaign_update_dates",
        summary="Move a campaign's start or end (validated like the admin form)",
        request=CampaignDatesInputSerializer,
        responses={200: CampaignOutputSerializer},
        examples=[OpenApiExample("New end", value={"ends_at": "2027-04-01T00:00:00-05:00"}, request_only=True)],
    )
    def patch(self, request: Request, pk: int) -> Response:
        campaign = self._get(request, pk)
        serializer = CampaignDatesInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changed = sorted(serializer.validated_data)
        for field, value in serializer.validated_data.items():
            setattr(campaign, field, value)
        campaign = campaign_save(campaign=campaign, actor=request.user, changed_fields=changed)
        return Response(CampaignOutputSerializer(campaign).data)


class CampaignStatusInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    status = serializers.ChoiceField(choices=Campaign.Status.choices)


class CampaignStatusApi(_CampaignApi):
    @extend_schema(
        operation_id="campaign_status_change",
        summary="Move a campaign along its status machine (codes follow: active in VTEX only while it runs)",
        request=CampaignStatusInputSerializer,
        responses={200: CampaignOutputSerializer},
        examples=[OpenApiExample("Schedule", value={"status": "scheduled"}, request_only=True)],
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        campaign = self._get(request, pk)
        serializer = CampaignStatusInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        campaign = campaign_status_change(
            campaign=campaign, to_status=serializer.validated_data["status"], actor=request.user
        )
        return Response(CampaignOutputSerializer(campaign).data)
