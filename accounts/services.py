"""Writes for people and access. Each service audits itself in the same transaction."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import APIKey, StaffBrandAccess, User
from audit.services import audit_record
from campaigns.models import Brand
from core.errors import ApplicationError, Conflict
from integrations.email import email_send


def api_key_create(*, brand: Brand, name: str, created_by: User | None = None) -> tuple[APIKey, str]:
    """Create a key for one brand and return it with the plain secret, which is not stored."""
    name = name.strip()
    if not name:
        raise ApplicationError(_("Give the API key a name that says who uses it."))
    prefix, secret = APIKey.generate()
    with transaction.atomic():
        api_key = APIKey.objects.create(
            brand=brand, name=name, prefix=prefix, hashed_key=APIKey.hash_secret(secret), created_by=created_by
        )
        audit_record(
            action="api_key.created",
            target=api_key,
            brand_id=brand.pk,
            actor=created_by,
            after={"name": name, "prefix": prefix},
        )
    return api_key, secret


def api_key_revoke(*, api_key: APIKey, actor: User | None = None) -> APIKey:
    with transaction.atomic():
        locked = APIKey.objects.select_for_update().get(pk=api_key.pk)
        if locked.revoked_at is not None:
            return locked
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        audit_record(action="api_key.revoked", target=locked, brand_id=locked.brand_id, actor=actor)
    return locked


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


def two_factor_reset(*, user: User, actor: User) -> int:
    """Remove a person's authenticator devices (lost phone); they enrol again at next login."""
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    with transaction.atomic():
        removed = TOTPDevice.objects.filter(user=user).delete()[0] + StaticDevice.objects.filter(user=user).delete()[0]
        audit_record(action="staff.two_factor_reset", target=user, actor=actor, after={"devices_removed": removed})
        email_send(
            to=[user.email],
            template="two_factor_reset",
            context={"name": user.get_short_name(), "actor": str(actor)},
            language=user.preferred_language,
        )
    return removed
