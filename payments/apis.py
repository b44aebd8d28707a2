"""Read API: balances per influencer, ledger entries, withdrawals and payout batches, all scoped
to the client's brands."""

from typing import Any

import django_filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from brands.scoping import brand_ids_for_request
from core.api import OrderingCursorPagination
from payments.models import LedgerEntry, PayoutBatch, Withdrawal
from payments.selectors import balance_list, ledger_entry_list, payout_batch_list, withdrawal_list


class BalanceOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    brand = serializers.CharField(source="brand_slug")
    currency = serializers.CharField()
    influencer_id = serializers.IntegerField()
    influencer = serializers.CharField(source="influencer_name")
    estimated_cents = serializers.SerializerMethodField()
    hold_cents = serializers.SerializerMethodField()
    available_cents = serializers.SerializerMethodField()
    reserved_cents = serializers.SerializerMethodField()
    paid_cents = serializers.SerializerMethodField()
    withholding_cents = serializers.SerializerMethodField()

    def get_estimated_cents(self, obj: Any) -> int:
        return int(obj.balances["estimated"])

    def get_hold_cents(self, obj: Any) -> int:
        return int(obj.balances["hold"])

    def get_available_cents(self, obj: Any) -> int:
        return int(obj.balances["available"])

    def get_reserved_cents(self, obj: Any) -> int:
        return int(obj.balances["reserved"])

    def get_paid_cents(self, obj: Any) -> int:
        return int(obj.balances["paid"])

    def get_withholding_cents(self, obj: Any) -> int:
        return int(obj.balances["withholding"])


class BalanceListApi(APIView):
    scope_resource = "ledger"
    throttle_scope = "api"

    @extend_schema(
        responses=BalanceOutputSerializer(many=True),
        summary="Balances per influencer and stage (sums of ledger entries)",
        parameters=[
            OpenApiParameter("brand", str, description="brand slug"),
            OpenApiParameter("influencer", int, description="influencer id"),
        ],
    )
    def get(self, request: Request) -> Response:
        influencer = request.query_params.get("influencer")
        rows = balance_list(
            brand_ids=brand_ids_for_request(request),
            brand_slug=request.query_params.get("brand") or None,
            influencer_id=int(influencer) if influencer and influencer.isdigit() else None,
        )
        return Response(BalanceOutputSerializer(rows, many=True).data)


class LedgerEntryOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    transaction_id = serializers.IntegerField()
    kind = serializers.CharField(source="transaction.kind")
    reference = serializers.CharField(source="transaction.reference")
    commission_ref = serializers.CharField(source="transaction.commission_ref")
    occurred_at = serializers.DateTimeField(source="transaction.occurred_at")
    brand = serializers.CharField(source="account.brand.slug")
    influencer_id = serializers.IntegerField(source="account.influencer_id", allow_null=True)
    account = serializers.CharField(source="account.kind")
    currency = serializers.CharField(source="account.currency")
    signed_cents = serializers.IntegerField()

    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "transaction_id",
            "kind",
            "reference",
            "commission_ref",
            "occurred_at",
            "brand",
            "influencer_id",
            "account",
            "currency",
            "side",
            "amount_cents",
            "signed_cents",
        ]


class LedgerEntryFilter(django_filters.FilterSet):
    brand = django_filters.CharFilter(field_name="account__brand__slug")
    influencer = django_filters.NumberFilter(field_name="account__influencer_id")
    account = django_filters.CharFilter(field_name="account__kind")
    kind = django_filters.CharFilter(field_name="transaction__kind")
    since = django_filters.IsoDateTimeFilter(field_name="transaction__occurred_at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="transaction__occurred_at", lookup_expr="lt")

    class Meta:
        model = LedgerEntry
        fields: list[str] = []


class LedgerEntryListApi(ListAPIView):  # type: ignore[type-arg]
    scope_resource = "ledger"
    throttle_scope = "api"
    pagination_class = OrderingCursorPagination
    ordering_fields = ["id"]
    ordering = ["-id"]
    serializer_class = LedgerEntryOutputSerializer
    filterset_class = LedgerEntryFilter

    def get_queryset(self) -> Any:
        return ledger_entry_list(brand_ids=brand_ids_for_request(self.request))


class WithdrawalOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    brand = serializers.CharField(source="brand.slug")
    net_cents = serializers.IntegerField()
    batch_id = serializers.IntegerField(allow_null=True)

    class Meta:
        model = Withdrawal
        fields = [
            "id",
            "brand",
            "influencer_id",
            "currency",
            "amount_cents",
            "withholding_cents",
            "net_cents",
            "status",
            "automatic",
            "batch_id",
            "approvals_required",
            "requested_at",
            "approved_at",
            "rejected_at",
            "rejection_reason",
            "paid_at",
            "transfer_reference",
            "failed_at",
            "failure_reason",
        ]


class WithdrawalFilter(django_filters.FilterSet):
    brand = django_filters.CharFilter(field_name="brand__slug")
    influencer = django_filters.NumberFilter(field_name="influencer_id")
    batch = django_filters.NumberFilter(field_name="batch_id")

    class Meta:
        model = Withdrawal
        fields = ["status", "automatic"]


class WithdrawalListApi(ListAPIView):  # type: ignore[type-arg]
    scope_resource = "withdrawals"
    throttle_scope = "api"
    pagination_class = OrderingCursorPagination
    ordering_fields = ["id", "requested_at", "amount_cents"]
    ordering = ["-id"]
    serializer_class = WithdrawalOutputSerializer
    filterset_class = WithdrawalFilter

    def get_queryset(self) -> Any:
        return withdrawal_list(brand_ids=brand_ids_for_request(self.request))


class PayoutBatchOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    brand = serializers.CharField(source="brand.slug")
    currency = serializers.CharField(source="brand.currency")
    withdrawal_count = serializers.IntegerField()
    withdrawal_total_cents = serializers.IntegerField(allow_null=True)

    class Meta:
        model = PayoutBatch
        fields = [
            "id",
            "brand",
            "currency",
            "period_start",
            "period_end",
            "status",
            "stage",
            "progress_done",
            "progress_total",
            "released_count",
            "released_cents",
            "withdrawal_count",
            "withdrawal_total_cents",
            "runs",
            "started_at",
            "finished_at",
        ]


class PayoutBatchFilter(django_filters.FilterSet):
    brand = django_filters.CharFilter(field_name="brand__slug")

    class Meta:
        model = PayoutBatch
        fields = ["status"]


class PayoutBatchListApi(ListAPIView):  # type: ignore[type-arg]
    scope_resource = "ledger"
    throttle_scope = "api"
    serializer_class = PayoutBatchOutputSerializer
    filterset_class = PayoutBatchFilter

    def get_queryset(self) -> Any:
        return payout_batch_list(brand_ids=brand_ids_for_request(self.request))


class WithdrawalDetailApi(RetrieveAPIView):  # type: ignore[type-arg]
    """One withdrawal. Finance decisions (approve, pay, reject) stay in the back office."""

    scope_resource = "withdrawals"
    throttle_scope = "api"
    serializer_class = WithdrawalOutputSerializer

    def get_queryset(self) -> Any:
        return withdrawal_list(brand_ids=brand_ids_for_request(self.request))
