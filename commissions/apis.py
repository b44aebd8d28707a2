"""Read API for external clients (`/api/v1/commissions/`): commission records with their
explanation, scoped to the caller's brands."""

import django_filters
from django.db.models import QuerySet
from rest_framework import serializers
from rest_framework.generics import ListAPIView

from brands.scoping import brand_ids_for_request
from commissions.models import Commission
from commissions.selectors import commission_list
from core.api import OrderingCursorPagination


class CommissionOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    brand = serializers.CharField(source="brand.slug")
    vtex_order_id = serializers.CharField(source="order.vtex_order_id")
    order_status = serializers.CharField(source="order.status")
    item_index = serializers.IntegerField(source="line.item_index")
    sku_id = serializers.CharField(source="line.sku_id")
    influencer_id = serializers.IntegerField()
    campaign_id = serializers.IntegerField()
    variant = serializers.CharField(source="variant.key", allow_null=True, default=None)
    code = serializers.CharField(source="code.text", allow_null=True, default=None)
    state = serializers.CharField()
    quantity = serializers.IntegerField()
    units_reversed = serializers.IntegerField()
    base_cents = serializers.IntegerField()
    rate = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    amount_cents = serializers.IntegerField()
    reversed_cents = serializers.IntegerField()
    adjustment_cents = serializers.IntegerField()
    net_cents = serializers.IntegerField()
    currency = serializers.CharField(source="order.currency")
    rule_name = serializers.CharField()
    explanation = serializers.JSONField()
    created_at = serializers.DateTimeField()
    confirmed_at = serializers.DateTimeField(allow_null=True)
    reversed_at = serializers.DateTimeField(allow_null=True)


class CommissionFilter(django_filters.FilterSet):
    created_from = django_filters.IsoDateTimeFilter(field_name="order__created_in_vtex_at", lookup_expr="gte")
    created_to = django_filters.IsoDateTimeFilter(field_name="order__created_in_vtex_at", lookup_expr="lt")
    state = django_filters.ChoiceFilter(field_name="state", choices=Commission.State.choices)
    influencer = django_filters.NumberFilter(field_name="influencer_id")
    campaign = django_filters.NumberFilter(field_name="campaign_id")
    order = django_filters.CharFilter(field_name="order__vtex_order_id")

    class Meta:
        model = Commission
        fields: list[str] = []


class CommissionListApi(ListAPIView):  # type: ignore[type-arg]
    """Commission records with their explanation. Filters: created_from/created_to (order
    creation, ISO 8601), state, influencer, campaign, order (VTEX id)."""

    scope_resource = "commissions"
    throttle_scope = "api"
    pagination_class = OrderingCursorPagination
    ordering_fields = ["id", "created_at"]
    ordering = ["-id"]
    serializer_class = CommissionOutputSerializer
    filterset_class = CommissionFilter

    def get_queryset(self) -> QuerySet[Commission]:
        return commission_list(brand_ids=brand_ids_for_request(self.request))
