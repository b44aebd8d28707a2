from typing import Any

from django.db.models import QuerySet

from campaigns.models import Brand
from codes.models import Code


def code_list_for_influencer(*, influencer: Any, brand: Brand | None = None) -> QuerySet[Code]:
    codes = Code.objects.filter(influencer=influencer).select_related("campaign", "brand", "variant")
    if brand is not None:
        codes = codes.filter(brand=brand)
    return codes.order_by("brand__name", "-campaign__starts_at", "text")


def code_get_by_text(*, brand: Brand, text: str) -> Code | None:
    """The brand's code typed as `text`, in any case (VTEX shoppers type codes as they like)."""
    text = (text or "").strip()
    if not text:
        return None
    return (
        Code.objects.select_related("campaign", "influencer", "variant").filter(brand=brand, text__iexact=text).first()
    )
