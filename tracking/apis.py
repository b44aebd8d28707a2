"""API: tracked links of the client's brands; create one (to a page of the brand's store) and
disable one (`/r/<slug>` answers 404 from then on)."""

from datetime import date, timedelta
from typing import Any

import django_filters
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api_idempotency import idempotent
from affiliates.models import Influencer
from brands.scoping import brand_ids_for_request, scope_queryset
from campaigns.models import Campaign
from core.api import OrderingCursorPagination
from tracking.link_numbers import LinkNumbers, link_numbers
from tracking.models import Link
from tracking.selectors import link_public_url
from tracking.services import link_create, link_deactivate


class LinkNumbersSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """A link's last 30 days (brand time zone), from the link rollups; money in minor units of
    the brand's currency. The day by day series is `GET /links/<id>/stats`."""

    date_from = serializers.DateField()
    date_to = serializers.DateField()
    clicks = serializers.IntegerField()
    unique_visitors = serializers.IntegerField()
    orders = serializers.IntegerField()
    revenue_cents = serializers.IntegerField()
    commission_estimated_cents = serializers.IntegerField()
    commission_confirmed_cents = serializers.IntegerField()
    conversion_rate = serializers.DecimalField(
        max_digits=8, decimal_places=4, allow_null=True, help_text="Orders per valid click; null without clicks."
    )


def link_numbers_json(numbers: LinkNumbers, *, start: date, end: date) -> dict[str, Any]:
    return {
        "date_from": start,
        "date_to": end,
        "clicks": numbers.clicks,
        "unique_visitors": numbers.unique_visitors,
        "orders": numbers.orders,
        "revenue_cents": numbers.revenue_cents,
        "commission_estimated_cents": numbers.commission_estimated_cents,
        "commission_confirmed_cents": numbers.commission_confirmed_cents,
        "conversion_rate": numbers.conversion,
    }


def _last_30_days(links: list[Link]) -> dict[int, dict[str, Any]]:
    """Numbers of each link over its brand's last 30 local days: one read per brand."""
    by_brand: dict[int, list[Link]] = {}
    for link in links:
        by_brand.setdefault(link.brand_id, []).append(link)
    out: dict[int, dict[str, Any]] = {}
    for group in by_brand.values():
        end = timezone.localtime(timezone.now(), group[0].brand.tz).date()
        start = end - timedelta(days=29)
        numbers = link_numbers(link_ids=[link.pk for link in group], start=start, end=end)
        out.update({pk: link_numbers_json(n, start=start, end=end) for pk, n in numbers.items()})
    return out


class LinkOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    brand = serializers.CharField(source="brand.slug")
    campaign_id = serializers.IntegerField()
    influencer_id = serializers.IntegerField()
    url = serializers.SerializerMethodField()
    numbers_30d = serializers.SerializerMethodField()

    class Meta:
        model = Link
        fields = [
            "id",
            "brand",
            "campaign_id",
            "influencer_id",
            "slug",
            "url",
            "destination_url",
            "label",
            "origin",
            "is_active",
            "created_at",
            "numbers_30d",
        ]

    @extend_schema_field(serializers.URLField())
    def get_url(self, obj: Link) -> str:
        return link_public_url(slug=obj.slug)

    @extend_schema_field(LinkNumbersSerializer())
    def get_numbers_30d(self, obj: Link) -> dict[str, Any]:
        numbers = self.context.get("numbers")
        if numbers is None or obj.pk not in numbers:  # a single object: read its own
            numbers = _last_30_days([obj])
        return dict(LinkNumbersSerializer(numbers[obj.pk]).data)


def _links(request: Request) -> QuerySet[Link]:
    return scope_queryset(
        Link.objects.select_related("brand"), brand_ids_for_request(request), brand_field=Link.BRAND_FIELD
    )


class LinkFilter(django_filters.FilterSet):
    brand = django_filters.CharFilter(field_name="brand__slug")
    campaign = django_filters.NumberFilter(field_name="campaign_id")
    influencer = django_filters.NumberFilter(field_name="influencer_id")

    class Meta:
        model = Link
        fields = ["is_active"]


class LinkCreateInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    campaign = serializers.IntegerField(help_text="Campaign id.")
    influencer = serializers.IntegerField(help_text="Id of an approved influencer of the brand.")
    destination_url = serializers.URLField(
        max_length=1000, required=False, allow_blank=True, help_text="A page of the store; its home when omitted."
    )
    label = serializers.CharField(max_length=120, required=False, allow_blank=True)  # type: ignore[assignment]


class LinkListCreateApi(ListAPIView):  # type: ignore[type-arg]
    scope_resource = "links"
    throttle_scope = "api"
    serializer_class = LinkOutputSerializer
    filterset_class = LinkFilter
    pagination_class = OrderingCursorPagination
    ordering_fields = ["id", "created_at"]
    ordering = ["-id"]

    def get_queryset(self) -> QuerySet[Link]:
        return _links(self.request)

    def paginate_queryset(self, queryset: Any) -> Any:
        page = super().paginate_queryset(queryset)
        # The page's numbers in one read per brand (not one per link).
        self._numbers = _last_30_days(list(page) if page is not None else [])
        return page

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "numbers": getattr(self, "_numbers", None)}

    @extend_schema(
        operation_id="link_create",
        summary="Create a tracked link of an approved influencer in a campaign",
        request=LinkCreateInputSerializer,
        responses={201: LinkOutputSerializer},
        examples=[
            OpenApiExample(
                "To a product page",
                value={"campaign": 7, "influencer": 17, "destination_url": "https://shop.acme.com/p/sneaker"},
                request_only=True,
            )
        ],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = LinkCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        campaign = (
            scope_queryset(
                Campaign.objects.select_related("brand"),
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
        link = link_create(
            campaign=campaign,
            influencer=influencer,
            destination_url=data.get("destination_url") or "",
            label=data.get("label") or "",
            actor=request.user,
        )
        return Response(LinkOutputSerializer(_links(request).get(pk=link.pk)).data, status=status.HTTP_201_CREATED)


class LinkDisableApi(APIView):
    scope_resource = "links"
    throttle_scope = "api"

    @extend_schema(
        operation_id="link_disable",
        summary="Disable a link: /r/<slug> answers 404 from then on",
        request=None,
        responses={200: LinkOutputSerializer},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        link = _links(request).filter(pk=pk).first()
        if link is None:
            raise Http404
        link_deactivate(link=link, actor=request.user)
        return Response(LinkOutputSerializer(_links(request).get(pk=pk)).data)
