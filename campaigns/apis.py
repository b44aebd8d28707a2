from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.scoping import brand_ids_for_request
from campaigns.models import Brand
from campaigns.selectors import brand_get, brand_list


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

    throttle_scope = "api"
    serializer_class = BrandOutputSerializer

    def get_queryset(self) -> QuerySet[Brand]:
        return brand_list(brand_ids=brand_ids_for_request(self.request))


class BrandDetailApi(APIView):
    throttle_scope = "api"

    @extend_schema(responses=BrandOutputSerializer, summary="One brand")
    def get(self, request: Request, slug: str) -> Response:
        brand = brand_get(slug=slug, brand_ids=brand_ids_for_request(request))
        if brand is None:
            raise Http404
        return Response(BrandOutputSerializer(brand).data)
