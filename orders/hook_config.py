"""Registering the brand's VTEX order hook, and checking every day that it still exists.

Statuses (docs/orders.md): `payment-approved`, `invoiced`, `cancel`, `canceled` as VTEX
recommends, plus `payment-pending` (the estimate appears while the shopper pays) and
`request-cancel` (so a manager sees a cancellation coming). Returns do not change the status
and reach us through the daily reconciliation (`f_hasInputInvoice=true`).
"""

import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from brands.models import Brand
from core.errors import ApplicationError
from integrations.vtex.client import VTEXClient
from integrations.vtex.errors import VTEXError
from orders.models import HookRegistration
from orders.webhooks import TOKEN_HEADER

logger = logging.getLogger(__name__)

HOOK_STATUSES = ("payment-pending", "payment-approved", "request-cancel", "cancel", "canceled", "invoiced")


class HookURLInvalid(ApplicationError):
    default_code = "hook_url_invalid"


def hook_config_register(*, brand: Brand, url: str, actor: object = None) -> HookRegistration:
    """Point the brand's VTEX hook at `url` with the brand's token, and remember it."""
    if not url.startswith("https://") and not url.startswith("http://"):
        raise HookURLInvalid(_("Give the full URL of the hook, starting with https://."))
    VTEXClient.for_brand(brand).hook_config_set(
        url=url, headers={TOKEN_HEADER: str(brand.hook_token)}, statuses=HOOK_STATUSES
    )
    now = timezone.now()
    with transaction.atomic():
        registration, _created = HookRegistration.objects.update_or_create(
            brand=brand,
            defaults={
                "url": url,
                "statuses": list(HOOK_STATUSES),
                "configured_at": now,
                "last_checked_at": now,
                "last_check_result": "configured",
                "last_error": "",
            },
        )
        audit_record(
            action="orders.hook_configured",
            target=registration,
            actor=actor,
            brand_id=brand.pk,
            after={"url": url, "statuses": list(HOOK_STATUSES)},
        )
    return registration


def hook_config_ensure(*, registration: HookRegistration) -> str:
    """Check the hook in VTEX; restore it when it is gone, points elsewhere, or lost statuses."""
    brand = registration.brand
    now = timezone.now()
    try:
        current = VTEXClient.for_brand(brand).hook_config_get()
        expected_token = str(brand.hook_token)
        healthy = (
            current is not None
            and current.url == registration.url
            and set(HOOK_STATUSES) <= set(current.statuses)
            and current.headers.get(TOKEN_HEADER) == expected_token
        )
        if healthy:
            result = "ok"
        else:
            hook_config_register(brand=brand, url=registration.url)
            HookRegistration.objects.filter(pk=registration.pk).update(restored_count=registration.restored_count + 1)
            result = "restored"
            logger.warning("VTEX hook of %s was missing or changed; restored", brand.slug)
    except VTEXError as exc:
        HookRegistration.objects.filter(pk=registration.pk).update(
            last_checked_at=now, last_check_result="error", last_error=str(exc)[:2000]
        )
        logger.error("VTEX hook check failed for %s: %s", brand.slug, exc)
        return "error"
    HookRegistration.objects.filter(pk=registration.pk).update(last_checked_at=now, last_check_result=result)
    return result


def hook_config_ensure_all() -> dict[str, str]:
    results = {}
    for registration in HookRegistration.objects.select_related("brand").filter(brand__is_active=True).order_by("pk"):
        results[registration.brand.slug] = hook_config_ensure(registration=registration)
    return results
