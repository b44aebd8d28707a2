"""Reads of the orders context, for the admin, the API and the influencer portal."""

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Prefetch, QuerySet, Sum

from brands.scoping import scope_queryset
from commissions.models import NET_CENTS, Commission
from orders.models import Order, OrderLine


def order_list(*, brand_ids: set[int] | None) -> QuerySet[Order]:
    """Orders visible to these brands, with lines and commissions for listing."""
    return (
        scope_queryset(Order.objects.all(), brand_ids, brand_field="brand")
        .select_related("brand", "influencer", "campaign", "code")
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.order_by("item_index")),
        )
        .order_by("-created_in_vtex_at", "-id")
    )


def _bounds(brand: Any, date_from: date | None, date_to: date | None) -> dict[str, datetime]:
    """Inclusive local days of the brand → half-open UTC datetime bounds."""
    bounds = {}
    if date_from is not None:
        bounds["created_in_vtex_at__gte"] = datetime.combine(date_from, time.min, tzinfo=brand.tz)
    if date_to is not None:
        bounds["created_in_vtex_at__lt"] = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=brand.tz)
    return bounds


def order_list_for_influencer(
    *, influencer: Any, brand: Any, date_from: date | None = None, date_to: date | None = None
) -> QuerySet[Order]:
    """The influencer's attributed orders in the brand (newest first), with their lines and the
    influencer's commissions prefetched, for the portal's "orders" page."""
    return (
        Order.objects.filter(brand=brand, influencer=influencer, **_bounds(brand, date_from, date_to))
        .select_related("campaign", "code")
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.order_by("item_index")),
            Prefetch("commissions", queryset=Commission.objects.filter(influencer=influencer).order_by("line_id")),
        )
        .order_by("-created_in_vtex_at", "-id")
    )


def commission_totals_for_influencer(
    *, influencer: Any, brand: Any, date_from: date | None = None, date_to: date | None = None
) -> dict[str, int]:
    """Net commission cents by state ("estimated", "confirmed", "partially_reversed",
    "reversed") plus "total" (everything not reversed), for orders created in the period.
    Each record is floored at zero before summing (commissions.models.NET_CENTS), as the
    rollups and `Commission.net_cents` do."""
    bounds = {f"order__{key}": value for key, value in _bounds(brand, date_from, date_to).items()}
    rows = (
        Commission.objects.filter(brand=brand, influencer=influencer, **bounds)
        .values("state")
        .annotate(net=Sum(NET_CENTS))
    )
    totals = {state: 0 for state in Commission.State.values}
    for row in rows:
        totals[row["state"]] = row["net"] or 0
    totals["total"] = sum(value for state, value in totals.items() if state != Commission.State.REVERSED)
    return totals
