"""`/api/v1/reports/`: the report builder's query for BI clients. POST a spec as JSON, or GET
with query parameters (lists comma-separated, filters as `filter_<name>=1,2`). An API key sees
its brand; staff pass `brand` (one of theirs)."""

from datetime import timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api_idempotency import idempotent
from brands.scoping import brand_ids_for_request, scope_queryset
from reports.builder import DIMENSIONS, FILTERS, METRICS, report_run, spec_from_input
from reports.selectors import link_daily_series, link_numbers_for
from tracking.apis import LinkNumbersSerializer, link_numbers_json
from tracking.link_numbers import LinkNumbers
from tracking.models import Link
from tracking.selectors import link_public_url


class ReportQuerySerializer(serializers.Serializer):  # type: ignore[type-arg]
    brand = serializers.IntegerField(required=False, help_text="Brand id (staff only; API keys use their brand).")
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)
    dimensions = serializers.ListField(child=serializers.ChoiceField(choices=list(DIMENSIONS)), required=False)
    metrics = serializers.ListField(child=serializers.ChoiceField(choices=list(METRICS)), required=False)
    filters = serializers.DictField(child=serializers.ListField(), required=False, help_text=", ".join(FILTERS))
    sort = serializers.CharField(required=False)
    descending = serializers.BooleanField(required=False, default=True)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=5000)
    attribution = serializers.CharField(required=False)


class ReportResultSerializer(serializers.Serializer):  # type: ignore[type-arg]
    columns = serializers.ListField(child=serializers.DictField())
    rows = serializers.ListField(child=serializers.DictField())
    truncated = serializers.BooleanField()


class ReportQueryAPI(APIView):
    scope_resource = "reports"
    post_is_read = True  # a query: it changes nothing
    throttle_scope = "api"

    def _brand_id(self, request: Request, requested: Any) -> int:
        allowed = brand_ids_for_request(request)
        if allowed is not None and len(allowed) == 1 and requested in (None, ""):
            return next(iter(allowed))
        try:
            brand_id = int(requested)
        except (TypeError, ValueError):
            raise NotFound("Pass brand=<id>.") from None
        if allowed is not None and brand_id not in allowed:
            raise NotFound("No such brand.")
        return brand_id

    def _run(self, request: Request, data: dict[str, Any]) -> Response:
        brand_id = self._brand_id(request, data.get("brand"))
        spec = spec_from_input(data=data, brand_id=brand_id)
        result = report_run(spec=spec)
        return Response(
            {
                "spec": spec.as_json(),
                "columns": [{"key": k, "label": label, "kind": kind} for k, label, kind in result.columns],
                "rows": result.rows,
                "truncated": result.truncated,
            }
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("brand", int),
            OpenApiParameter("date_from", str),
            OpenApiParameter("date_to", str),
            OpenApiParameter("dimensions", str, description=", ".join(DIMENSIONS)),
            OpenApiParameter("metrics", str, description=", ".join(METRICS)),
            OpenApiParameter("sort", str),
            OpenApiParameter("limit", int),
            OpenApiParameter("attribution", str),
        ],
        responses=ReportResultSerializer,
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        data: dict[str, Any] = {key: params.get(key) for key in params if not key.startswith("filter_")}
        data["filters"] = {key[7:]: params.get(key) for key in params if key.startswith("filter_")}
        return self._run(request, data)

    @extend_schema(request=ReportQuerySerializer, responses=ReportResultSerializer)
    @idempotent
    def post(self, request: Request) -> Response:
        data = request.data if isinstance(request.data, dict) else {}
        return self._run(request, dict(data))


class LinkStatsDaySerializer(serializers.Serializer):  # type: ignore[type-arg]
    day = serializers.DateField()
    clicks = serializers.IntegerField()
    orders = serializers.IntegerField()
    revenue_cents = serializers.IntegerField()
    commission_cents = serializers.IntegerField(help_text="Estimated + confirmed, net.")


class LinkStatsSerializer(serializers.Serializer):  # type: ignore[type-arg]
    link_id = serializers.IntegerField()
    url = serializers.URLField()
    currency = serializers.CharField()
    totals = LinkNumbersSerializer()
    days = LinkStatsDaySerializer(many=True)


MAX_STATS_DAYS = 366


class LinkStatsAPI(APIView):
    """`GET /api/v1/links/<id>/stats`: one tracked link's numbers over a period (default: the
    brand's last 30 days), with one point per day, from the link rollups."""

    scope_resource = "links"
    throttle_scope = "api"

    @extend_schema(
        operation_id="link_stats",
        summary="A tracked link's clicks, orders, revenue, commission and conversion over a period",
        parameters=[
            OpenApiParameter("date_from", str, description="First day (YYYY-MM-DD, brand time zone)."),
            OpenApiParameter("date_to", str, description="Last day, inclusive; at most 366 days after date_from."),
        ],
        responses=LinkStatsSerializer,
    )
    def get(self, request: Request, pk: int) -> Response:
        link = (
            scope_queryset(Link.objects.select_related("brand"), brand_ids_for_request(request), brand_field="brand")
            .filter(pk=pk)
            .first()
        )
        if link is None:
            raise NotFound("No tracked link with this id in your brands.")
        today = timezone.localtime(timezone.now(), link.brand.tz).date()
        period = LinkStatsQuerySerializer(data=request.query_params)
        period.is_valid(raise_exception=True)
        end = period.validated_data.get("date_to") or today
        start = period.validated_data.get("date_from") or end - timedelta(days=29)
        if start > end or (end - start).days >= MAX_STATS_DAYS:
            raise serializers.ValidationError(
                {"date_from": [_("Choose a period of 1 to %(days)d days.") % {"days": MAX_STATS_DAYS}]}
            )
        totals = link_numbers_for([link.pk], start, end).get(link.pk) or LinkNumbers()
        series = link_daily_series(link_ids=[link.pk], start=start, end=end)[link.pk]
        return Response(
            {
                "link_id": link.pk,
                "url": link_public_url(slug=link.slug),
                "currency": link.brand.currency,
                "totals": LinkNumbersSerializer(link_numbers_json(totals, start=start, end=end)).data,
                "days": [
                    {
                        "day": p.day,
                        "clicks": p.clicks,
                        "orders": p.orders,
                        "revenue_cents": p.sales_cents,
                        "commission_cents": p.commission_cents,
                    }
                    for p in series
                ],
            }
        )


class LinkStatsQuerySerializer(serializers.Serializer):  # type: ignore[type-arg]
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)
