"""Writes for the tenant: a brand's settings and hook token, and which staff may see it. Each
service owns its transaction and writes its audit record."""

from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from accounts.models import User
from audit.services import audit_record
from brands.locks import brand_lock, currency_rate_lock
from brands.models import Brand, CurrencyRate, StaffBrandAccess, new_hook_token
from core.errors import ApplicationError, Conflict, full_clean_or_raise


def brand_hook_token_matches(brand: Brand, token: str | None) -> bool:
    """Whether `token` (from the X-Hook-Token header VTEX sends) is the brand's hook token, or
    its previous one while the grace period after a rotation lasts. Constant time: both
    comparisons always run."""
    if not token:
        return False
    current = constant_time_compare(token, brand.hook_token or "")
    previous_valid = bool(
        brand.previous_hook_token
        and brand.previous_hook_token_expires_at
        and timezone.now() < brand.previous_hook_token_expires_at
    )
    previous = constant_time_compare(token, brand.previous_hook_token or "\x00")
    return current or (previous and previous_valid)


def brand_rotate_hook_token(*, brand: Brand, actor: Any = None, grace: timedelta | None = None) -> Brand:
    """Give the brand a new hook token. The old one keeps working for `grace` (default
    BRAND_HOOK_TOKEN_GRACE_HOURS), long enough to update the hook configuration in VTEX."""
    grace = grace if grace is not None else timedelta(hours=settings.BRAND_HOOK_TOKEN_GRACE_HOURS)
    now = timezone.now()
    with transaction.atomic():
        locked = brand_lock(pk=brand.pk)
        locked.previous_hook_token = locked.hook_token
        locked.previous_hook_token_expires_at = now + grace
        locked.hook_token = new_hook_token()
        locked.hook_token_rotated_at = now
        locked.save(
            update_fields=[
                "previous_hook_token",
                "previous_hook_token_expires_at",
                "hook_token",
                "hook_token_rotated_at",
                "updated_at",
            ]
        )
        audit_record(
            action="brand.hook_token_rotated",
            target=locked,
            actor=actor,
            brand_id=locked.pk,
            after={"previous_valid_until": locked.previous_hook_token_expires_at.isoformat()},
        )
    return locked


def brand_save(
    *,
    brand: Brand,
    changed_fields: Iterable[str] = (),
    app_key: str | None = None,
    app_token: str | None = None,
    actor: Any = None,
) -> Brand:
    """Save a brand edited by a person. `app_key`/`app_token` replace the stored secrets only
    when given (write-only: a blank field in the form leaves them alone). The audit records which
    secrets changed, never their values."""
    secrets_changed = []
    if app_key:
        brand.vtex_app_key = app_key.strip()
        secrets_changed.append("vtex_app_key")
    if app_token:
        brand.vtex_app_token = app_token.strip()
        secrets_changed.append("vtex_app_token")
    full_clean_or_raise(brand, exclude=["logo"])
    created = brand.pk is None
    with transaction.atomic():
        brand.save()
        audit_record(
            action="brand.created" if created else "brand.updated",
            target=brand,
            actor=actor,
            brand_id=brand.pk,
            after={
                "fields": sorted(set(changed_fields) - {"vtex_app_key", "vtex_app_token"}),
                "secrets": secrets_changed,
            },
        )
    return brand


def staff_brand_grant(*, user: User, brand: Brand, actor: User | None = None) -> StaffBrandAccess:
    if not user.is_staff:
        raise Conflict(_("Only staff accounts can be given access to a brand."))
    with transaction.atomic():
        access, created = StaffBrandAccess.objects.get_or_create(user=user, brand=brand)
        if created:
            audit_record(
                action="staff.brand_granted", target=user, brand_id=brand.pk, actor=actor, after={"brand": brand.slug}
            )
    return access


def staff_brand_revoke(*, user: User, brand: Brand, actor: User | None = None) -> None:
    with transaction.atomic():
        deleted, _count = StaffBrandAccess.objects.filter(user=user, brand=brand).delete()
        if deleted:
            audit_record(
                action="staff.brand_revoked", target=user, brand_id=brand.pk, actor=actor, before={"brand": brand.slug}
            )


class CurrencyRateInvalid(ApplicationError):
    default_code = "currency_rate_invalid"


def currency_rate_set(*, brand: Brand, currency: str, rate: Decimal, actor: Any = None) -> CurrencyRate:
    """Set (or change) the rate orders of `brand` in `currency` are converted at. Orders keep
    the rate they were converted at; held orders in this currency are converted when a
    manager reprocesses them (docs/orders.md, "Orders in another currency")."""
    currency = currency.strip().upper()
    if currency == brand.currency:
        raise CurrencyRateInvalid(
            _("%(currency)s is the brand's own currency: it needs no rate.") % {"currency": currency}
        )
    if rate <= 0:
        raise CurrencyRateInvalid(_("A rate must be greater than zero."))
    with transaction.atomic():
        existing = currency_rate_lock(brand_id=brand.pk, currency=currency)
        before = {"rate": str(existing.rate)} if existing is not None else None
        row = existing or CurrencyRate(brand=brand, currency=currency)
        row.rate = rate
        row.set_by = actor if getattr(actor, "is_authenticated", False) else None
        full_clean_or_raise(row, exclude=["brand", "set_by"])
        row.save()
        audit_record(
            action="brand.currency_rate_set",
            target=row,
            actor=actor,
            brand_id=brand.pk,
            before=before,
            after={"currency": currency, "rate": str(rate), "brand_currency": brand.currency},
        )
    return row


def currency_rate_delete(*, rate: CurrencyRate, actor: Any = None) -> None:
    """Remove a rate: new orders in that currency are held again; converted ones keep theirs."""
    with transaction.atomic():
        audit_record(
            action="brand.currency_rate_deleted",
            target=rate,
            actor=actor,
            brand_id=rate.brand_id,
            before={"currency": rate.currency, "rate": str(rate.rate)},
        )
        rate.delete()
