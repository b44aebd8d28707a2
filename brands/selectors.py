"""Reads of the tenant, scoped to the brands the caller may see."""

from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.urls import NoReverseMatch, reverse

from brands.models import Brand, CurrencyRate
from brands.scoping import scope_queryset


def brand_list(*, brand_ids: set[int] | None) -> QuerySet[Brand]:
    return scope_queryset(Brand.objects.all(), brand_ids, brand_field="pk").order_by("name")


def brand_get(*, slug: str, brand_ids: set[int] | None) -> Brand | None:
    return brand_list(brand_ids=brand_ids).filter(slug=slug).first()


def currency_rate_get(*, brand_id: int, currency: str) -> Decimal | None:
    """The rate a manager set for orders of the brand in `currency`, or None (hold them)."""
    return CurrencyRate.objects.filter(brand_id=brand_id, currency=currency).values_list("rate", flat=True).first()


def brand_public_list() -> list[dict[str, Any]]:
    """Active brands for the public home page, with their join page when it exists."""
    brands = []
    for brand in Brand.objects.filter(is_active=True).only("name", "slug").order_by("name"):
        try:
            join_url = reverse("affiliates:join", kwargs={"brand_slug": brand.slug})
        except NoReverseMatch:
            join_url = ""
        brands.append({"name": brand.name, "slug": brand.slug, "join_url": join_url})
    return brands


# --- Campaigns and the inputs of the commission engine --------------------------------------
