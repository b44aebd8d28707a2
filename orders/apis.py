"""Read API for external clients (`/api/v1/orders/`): orders with lines and attribution,
scoped to the caller's brands (an API key sees its brand)."""

import django_filters
from django.db.models import QuerySet
from rest_framework import serializers
from rest_framework.generics import ListAPIView, RetrieveAPIView

from brands.scoping import brand_ids_for_request
from core.api import OrderingCursorPagination
from orders.models import Order
from orders.selectors import order_list


class OrderLineOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    item_index = serializers.IntegerField()
    sku_id = serializers.CharField()
    product_id = serializers.CharField()
    name = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price_cents = serializers.IntegerField()
    selling_price_cents = serializers.IntegerField()
    total_cents = serializers.IntegerField()
    coupon_discount_cents = serializers.IntegerField()
    is_gift = serializers.BooleanField()
    returned_quantity = serializers.IntegerField()
    removed_quantity = serializers.IntegerField()


class AttributionOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    source = serializers.CharField(source="attribution_source")  # type: ignore[assignment]
    rule = serializers.CharField(source="attribution_rule")
    influencer_id = serializers.IntegerField(allow_null=True)
    campaign_id = serializers.IntegerField(allow_null=True)
    code = serializers.CharField(source="code.text", allow_null=True, default=None)
    touchpoints = serializers.JSONField(source="attribution_touchpoints")


class OrderOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    brand = serializers.CharField(source="brand.slug")
    vtex_order_id = serializers.CharField()
    order_group = serializers.CharField()
    status = serializers.CharField()
    currency = serializers.CharField()
    value_cents = serializers.IntegerField()
    items_cents = serializers.IntegerField()
    discounts_cents = serializers.IntegerField()
    shipping_cents = serializers.IntegerField()
    tax_cents = serializers.IntegerField()
    coupon = serializers.CharField()
    created_in_vtex_at = serializers.DateTimeField(allow_null=True)
    invoiced_at = serializers.DateTimeField(allow_null=True)
    canceled_at = serializers.DateTimeField(allow_null=True)
    attribution = AttributionOutputSerializer(source="*")
    lines = OrderLineOutputSerializer(many=True)


class OrderFilter(django_filters.FilterSet):
    created_from = django_filters.IsoDateTimeFilter(field_name="created_in_vtex_at", lookup_expr="gte")
    created_to = django_filters.IsoDateTimeFilter(field_name="created_in_vtex_at", lookup_expr="lt")
    status = django_filters.CharFilter(field_name="status")
    influencer = django_filters.NumberFilter(field_name="influencer_id")
    campaign = django_filters.NumberFilter(field_name="campaign_id")
    attributed = django_filters.BooleanFilter(field_name="influencer", lookup_expr="isnull", exclude=True)
    vtex_order_id = django_filters.CharFilter(field_name="vtex_order_id")

    class Meta:
        model = Order
        fields: list[str] = []


class OrderListApi(ListAPIView):  # type: ignore[type-arg]
    """Orders of the caller's brands with lines and attribution, newest first.
    Filters: created_from/created_to (ISO 8601), status, influencer, campaign, attributed."""

    scope_resource = "orders"
    throttle_scope = "api"
    pagination_class = OrderingCursorPagination
    ordering_fields = ["id", "created_in_vtex_at"]
    ordering = ["-id"]
    serializer_class = OrderOutputSerializer
    filterset_class = OrderFilter

    def get_queryset(self) -> QuerySet[Order]:
        return order_list(brand_ids=brand_ids_for_request(self.request))


class OrderDetailApi(RetrieveAPIView):  # type: ignore[type-arg]
    scope_resource = "orders"
    throttle_scope = "api"
    serializer_class = OrderOutputSerializer

    def get_queryset(self) -> QuerySet[Order]:
        return order_list(brand_ids=brand_ids_for_request(self.request))
