"""Reads of commission records: lists for admin and API, and the performance numbers tier
evaluation needs (registered with commissions.performance by orders.apps)."""

from collections.abc import Mapping
from datetime import datetime

from django.db.models import Count, F, QuerySet, Sum

from accounts.scoping import scope_queryset
from commissions.models import Commission
from commissions.performance import Performance

CONFIRMED_STATES = (Commission.State.CONFIRMED, Commission.State.PARTIALLY_REVERSED)


def commission_list(*, brand_ids: set[int] | None) -> QuerySet[Commission]:
    return (
        scope_queryset(Commission.objects.all(), brand_ids, brand_field="brand")
        .select_related("order", "line", "influencer", "campaign", "variant", "code")
        .order_by("-created_at", "-id")
    )


def commission_performance(
    campaign_id: int, influencer_ids: list[int], start: datetime, end: datetime
) -> Mapping[int, Performance]:
    """Confirmed sales (net base of the units kept, in cents) and confirmed orders per influencer
    in the campaign, for orders created in [start, end)."""
    rows = (
        Commission.objects.filter(
            campaign_id=campaign_id,
            influencer_id__in=influencer_ids,
            state__in=CONFIRMED_STATES,
            quantity__gt=0,
            order__created_in_vtex_at__gte=start,
            order__created_in_vtex_at__lt=end,
        )
        .values("influencer_id")
        .annotate(
            sales=Sum(F("base_cents") * (F("quantity") - F("units_reversed")) / F("quantity")),
            orders=Count("order_id", distinct=True),
        )
    )
    return {row["influencer_id"]: Performance(sales_cents=int(row["sales"] or 0), orders=row["orders"]) for row in rows}
