"""Every row lock the tracking context takes (core/locks.py says how and why)."""

from typing import Any

from core.locks import lock_rows
from tracking.models import FraudFlag, Link, ManualAttribution


def link_lock(*, pk: int) -> Link:
    """One link, with its brand loaded (not locked): clicks and orders of the brand go on."""
    return lock_rows(Link.objects.filter(pk=pk).select_related("brand")).get()


def fraud_flag_lock(*, pk: int) -> FraudFlag:
    return lock_rows(FraudFlag.objects.filter(pk=pk)).get()


def fraud_flag_find_lock(**filters: Any) -> FraudFlag | None:
    """The flag matching `filters` (brand, rule, subject), if one was raised already."""
    return lock_rows(FraudFlag.objects.filter(**filters)).first()


def manual_attribution_lock_or_create(
    *, brand: Any, order_ref: str, defaults: dict[str, Any]
) -> tuple[ManualAttribution, bool]:
    """The manager's attribution decision for the brand's order, created with `defaults` the
    first time; locked either way."""
    return lock_rows(ManualAttribution.objects.all()).get_or_create(brand=brand, order_ref=order_ref, defaults=defaults)
