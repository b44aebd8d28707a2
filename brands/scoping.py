"""Brand scoping: the one rule that says which brands a person or API client may see, applied by
admin querysets, admin actions, API views, exports and portal pages alike."""

from typing import Any

from django.db.models import Model, QuerySet

from accounts.models import APIKey, User


def brand_ids_for_user(user: "User | Any") -> set[int] | None:
    """Brand ids the user may see, or None for "all brands" (superusers)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return set()
    if user.is_superuser:
        return None
    # Cached on the user object: one query per request, however many querysets get scoped.
    cached: set[int] | None = getattr(user, "_mgm_brand_ids", None)
    if cached is None:
        cached = set(user.brand_access.values_list("brand_id", flat=True))
        setattr(user, "_mgm_brand_ids", cached)  # noqa: B010
    return set(cached)


def brand_ids_for_request(request: Any) -> set[int] | None:
    """API key clients see their key's brand; staff sessions see their granted brands."""
    api_key: APIKey | None = getattr(request, "auth", None) if _is_api_key(getattr(request, "auth", None)) else None
    if api_key is not None:
        return {api_key.brand_id}
    return brand_ids_for_user(request.user)


def _is_api_key(value: object) -> bool:
    return isinstance(value, APIKey)


def scope_queryset[M: Model](queryset: QuerySet[M], brand_ids: set[int] | None, *, brand_field: str) -> QuerySet[M]:
    """Filter `queryset` to the brands in `brand_ids` through `brand_field` ("brand",
    "campaign__brand", or "pk" for the Brand model itself). None means no restriction."""
    if brand_ids is None:
        return queryset
    lookup = "pk__in" if brand_field == "pk" else f"{brand_field}__in"
    return queryset.filter(**{lookup: brand_ids})
