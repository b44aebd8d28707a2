"""Whether a person set up an authenticator app. Every portal page asks (their second factor is
then required before anything else), and it changes when they add or remove one: cached until
one of their devices is saved or deleted (core/generations.py; signals in AccountsConfig.ready)."""

from typing import Any

from django_otp.plugins.otp_totp.models import TOTPDevice

from core.generations import generation_cached, generations_move_on_commit

_TIMEOUT = 60 * 60  # a safety net: the devices' signals move the scope


def _scope(user_id: int) -> str:
    return f"u{user_id}:otp"


def has_confirmed_totp(user: Any) -> bool:
    return generation_cached(
        scopes=[_scope(user.pk)],
        key=f"otp:totp:{user.pk}",
        build=lambda: TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
        timeout=_TIMEOUT,
    )


def on_device_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    """post_save / post_delete of an authenticator: the person's answer is asked again."""
    generations_move_on_commit([_scope(instance.user_id)])
