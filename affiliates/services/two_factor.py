"""Turning off an influencer's second factor (staff keep theirs: the back office needs it)."""

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from audit.services import audit_record
from core.errors import Conflict


def influencer_two_factor_disable(*, user: User, actor: Any = None) -> int:
    """Turn off an influencer's authenticator app. Staff cannot: the back office needs 2FA."""
    if user.is_staff:
        raise Conflict(_("Staff accounts must keep two-factor authentication."))

    with transaction.atomic():
        removed, _detail = TOTPDevice.objects.filter(user=user).delete()
        removed_static, _detail = StaticDevice.objects.filter(user=user).delete()
        if removed or removed_static:
            audit_record(action="auth.two_factor_disabled", target=user, actor=actor or user)
    return int(removed) + int(removed_static)
