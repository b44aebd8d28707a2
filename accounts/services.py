"""Writes for people and access. Each service audits itself in the same transaction."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.api_scopes import READ_SCOPES, scopes_clean
from accounts.locks import api_key_lock
from accounts.models import APIKey, User
from audit.services import audit_record
from core.errors import ApplicationError, Conflict
from integrations.email import email_send


def api_key_create(
    *,
    brand: Model,
    name: str,
    created_by: User | None = None,
    scopes: list[str] | tuple[str, ...] | None = None,
    expires_at: datetime | None = None,
    rate_limit_per_minute: int | None = None,
) -> tuple[APIKey, str]:
    """Create a key for one brand (a brands.Brand: accounts sits below the tenant and does not
    import it) and return it with the plain secret, which is not stored.
    Without `scopes` the key may read everything and write nothing."""
    name = name.strip()
    if not name:
        raise ApplicationError(_("Give the API key a name that says who uses it."))
    try:
        chosen = scopes_clean(list(READ_SCOPES if scopes is None else scopes))
    except ValueError as exc:
        raise ApplicationError(_("Unknown scopes: %(scopes)s.") % {"scopes": exc}, code="scope_unknown") from exc
    if not chosen:
        raise ApplicationError(_("Choose at least one scope for the API key."), code="scope_required")
    if expires_at is not None and expires_at <= timezone.now():
        raise ApplicationError(_("The expiry must be in the future."), code="expiry_past")
    if rate_limit_per_minute is not None and rate_limit_per_minute < 1:
        raise ApplicationError(_("The rate limit must be at least one request per minute."))
    prefix, secret = APIKey.generate()
    with transaction.atomic():
        api_key = APIKey.objects.create(
            brand_id=brand.pk,
            name=name,
            prefix=prefix,
            hashed_key=APIKey.hash_secret(secret),
            created_by=created_by,
            scopes=chosen,
            expires_at=expires_at,
            rate_limit_per_minute=rate_limit_per_minute,
        )
        audit_record(
            action="api_key.created",
            target=api_key,
            brand_id=brand.pk,
            actor=created_by,
            after={"name": name, "prefix": prefix, "scopes": chosen, "expires_at": expires_at},
        )
    return api_key, secret


def api_key_rotate(
    *, api_key: APIKey, overlap: timedelta | None = None, actor: User | None = None
) -> tuple[APIKey, str]:
    """Replace a key: a new secret with the same brand, scopes and limit; the old key keeps
    working for `overlap` (default API_KEY_ROTATION_OVERLAP_HOURS) so clients can switch without
    downtime, then expires. Returns the new key and its secret (shown once)."""
    overlap = timedelta(hours=settings.API_KEY_ROTATION_OVERLAP_HOURS) if overlap is None else overlap
    if overlap < timedelta(0) or overlap > timedelta(days=30):
        raise ApplicationError(_("The overlap must be between 0 and 30 days."))
    now = timezone.now()
    prefix, secret = APIKey.generate()
    with transaction.atomic():
        old = api_key_lock(pk=api_key.pk)
        if not old.is_active:
            raise Conflict(_("Only an active key can be rotated; create a new one instead."), code="key_inactive")
        if old.rotated_to_id is not None:
            raise Conflict(_("This key was already rotated; rotate its replacement."), code="key_rotated")
        new = APIKey.objects.create(
            brand_id=old.brand_id,
            name=old.name,
            prefix=prefix,
            hashed_key=APIKey.hash_secret(secret),
            created_by=actor,
            scopes=list(old.scopes),
            rate_limit_per_minute=old.rate_limit_per_minute,
            expires_at=old.expires_at if old.expires_at and old.expires_at > now + overlap else None,
        )
        old_expiry = now + overlap
        old.expires_at = min(old.expires_at, old_expiry) if old.expires_at else old_expiry
        old.rotated_to = new
        old.save(update_fields=["expires_at", "rotated_to"])
        audit_record(
            action="api_key.rotated",
            target=old,
            brand_id=old.brand_id,
            actor=actor,
            after={"new_prefix": new.prefix, "old_expires_at": old.expires_at},
        )
    return new, secret


def api_key_revoke(*, api_key: APIKey, actor: User | None = None) -> APIKey:
    with transaction.atomic():
        locked = api_key_lock(pk=api_key.pk)
        if locked.revoked_at is not None:
            return locked
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        audit_record(action="api_key.revoked", target=locked, brand_id=locked.brand_id, actor=actor)
    return locked


def two_factor_reset(*, user: User, actor: User) -> int:
    """Remove a person's authenticator devices (lost phone); they enrol again at next login."""

    with transaction.atomic():
        removed: int = (
            TOTPDevice.objects.filter(user=user).delete()[0] + StaticDevice.objects.filter(user=user).delete()[0]
        )
        audit_record(action="staff.two_factor_reset", target=user, actor=actor, after={"devices_removed": removed})
        email_send(
            to=[user.email],
            template="two_factor_reset",
            context={"name": user.get_short_name(), "actor": str(actor)},
            language=user.preferred_language,
        )
    return removed
