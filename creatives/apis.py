"""`/api/v1/campaigns/<id>/creatives/`: a campaign's creatives library for the brand's own
systems (read with the `campaigns:read` scope: creatives are part of a campaign). Files are
private: `download_path` is an API path that streams the file to the same authorised client,
never a public URL."""

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.http import Http404
from django.http.response import HttpResponseBase
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from brands.scoping import brand_ids_for_request, scope_queryset
from campaigns.models import Campaign
from core.api import OrderingCursorPagination
from core.storage import private_file_response
from creatives.models import Creative
from creatives.selectors import creative_list


class CreativeOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    campaign_id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Creative.Kind.choices)
    title = serializers.CharField()
    notes = serializers.CharField()
    is_active = serializers.BooleanField(help_text="False once archived: influencers no longer see it.")
    caption = serializers.CharField(help_text="Captions only; {code}, {link} and {brand} are filled per influencer.")
    video_url = serializers.CharField(help_text="Videos only: the https address of the video.")
    content_type = serializers.CharField(help_text="Images and guidelines: the type read from the file's bytes.")
    size = serializers.IntegerField(help_text="Bytes (0 without a file).")
    sha256 = serializers.CharField()
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    original_name = serializers.CharField()
    download_path = serializers.SerializerMethodField(help_text="API path streaming the file (same key), or null.")
    created_at = serializers.DateTimeField()

    def get_download_path(self, obj: Creative) -> str | None:
        if not obj.file:
            return None
        return reverse("api:creative-file", kwargs={"campaign_pk": obj.campaign_id, "pk": obj.pk})


_EXAMPLE = {
    "id": 12,
    "campaign_id": 7,
    "kind": "caption",
    "title": "Reel caption",
    "notes": "",
    "is_active": True,
    "caption": "Summer is here ☀️ Use {code} for 10% off: {link}",
    "video_url": "",
    "content_type": "",
    "size": 0,
    "sha256": "",
    "width": None,
    "height": None,
    "original_name": "",
    "download_path": None,
    "created_at": "2026-12-05T10:00:00Z",
}


class CreativeFilter(django_filters.FilterSet):
    class Meta:
        model = Creative
        fields = ["kind", "is_active"]


def _campaign(request: Request, pk: int) -> Campaign:
    campaign = scope_queryset(
        Campaign.objects.filter(pk=pk, is_template=False), brand_ids_for_request(request), brand_field="brand"
    ).first()
    if campaign is None:
        raise Http404  # another brand's campaign answers exactly like a missing one
    return campaign


class CreativeListApi(ListAPIView):  # type: ignore[type-arg]
    """The campaign's creatives, newest first. Filters: kind, is_active."""

    scope_resource = "campaigns"
    throttle_scope = "api"
    serializer_class = CreativeOutputSerializer
    filterset_class = CreativeFilter
    pagination_class = OrderingCursorPagination
    ordering_fields = ["id", "created_at"]
    ordering = ["-id"]

    @extend_schema(
        operation_id="campaign_creatives_list",
        summary="A campaign's creatives library (images, videos, captions, brand guidelines)",
        examples=[OpenApiExample("A caption", value=_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Creative]:
        if getattr(self, "swagger_fake_view", False):
            return Creative.objects.none()
        campaign = _campaign(self.request, self.kwargs["campaign_pk"])
        return creative_list(brand_ids=brand_ids_for_request(self.request), campaign_id=campaign.pk)


class CreativeFileApi(APIView):
    scope_resource = "campaigns"
    throttle_scope = "api"

    @extend_schema(
        operation_id="campaign_creative_file",
        summary="Download one creative's file (an image or the guidelines PDF)",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, description="The file"),
            404: OpenApiResponse(description="No such creative with a file in your brands"),
        },
    )
    def get(self, request: Request, campaign_pk: int, pk: int) -> HttpResponseBase:
        campaign = _campaign(request, campaign_pk)
        creative = (
            creative_list(brand_ids=brand_ids_for_request(request), campaign_id=campaign.pk).filter(pk=pk).first()
        )
        if creative is None or not creative.file:
            raise Http404
        return private_file_response(creative.file, download_name=creative.download_name)
