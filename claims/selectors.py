"""Reads of the claims context, for the admin, the API, the portal and the back office's queue."""

from typing import Any

from django.db.models import QuerySet

from brands.scoping import scope_queryset
from campaigns.models import Campaign
from claims.models import Claim


def claim_list(*, brand_ids: set[int] | None) -> QuerySet[Claim]:
    """Claims visible to these brands (None: all), newest first."""
    return scope_queryset(
        Claim.objects.select_related("brand", "campaign", "influencer", "order", "decided_by"),
        brand_ids,
        brand_field=Claim.BRAND_FIELD,
    ).order_by("-created_at", "-pk")


def claim_list_for_influencer(*, influencer: Any, brand: Any) -> QuerySet[Claim]:
    """The influencer's own claims with a brand, newest first."""
    return (
        Claim.objects.filter(influencer=influencer, brand=brand)
        .select_related("campaign", "order")
        .order_by("-created_at", "-pk")
    )


def claim_open_queryset(*, brand_ids: set[int] | None) -> QuerySet[Claim]:
    """The open claims of these brands (None: every brand), for a count among others."""
    return scope_queryset(Claim.objects.filter(status=Claim.Status.OPEN), brand_ids, brand_field="brand")


def claim_campaigns_for_influencer(*, influencer: Any, brand: Any) -> list[Campaign]:
    """The campaigns of the brand an influencer may claim an order in: the ones they take part
    in (an active assignment), whatever their status (an order of an ended campaign can still be
    missing), oldest first."""
    return list(
        Campaign.objects.filter(
            brand=brand, is_template=False, assignments__influencer=influencer, assignments__is_active=True
        )
        .select_related("brand")
        .distinct()
        .order_by("pk")
    )
