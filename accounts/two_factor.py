"""Whether a person set up an authenticator app. Every portal page asks (their second factor is
then required before anything else), and it changes when they add or remove one: cached until
one of their devices is saved or deleted (core/generations.py; signals in AccountsConfig.ready)."""

from typing import Any

from django_otp.plugins.otp_totp.models import TOTPDevice

from core.generations import CachedRead, generation_cached, generations_move_on_commit

_TIMEOUT = 60 * 60  # a safety net: the devices' signals move the scope


def _scope(user_id: int) -> str:
    return f"u{user_id}:otp"


def totp_cached_read(user_id: int) -> CachedRead:
    """Where `has_confirmed_totp`'s answer is cached (for a page that prefetches its facts)."""
    return CachedRead(scopes=(_scope(user_id),), key=f"otp:totp:{user_id}")


def has_confirmed_totp(user: Any) -> bool:
    read = totp_cached_read(user.pk)
    return generation_cached(
        scopes=list(read.scopes),
        key=read.key,
        build=lambda: TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
        timeout=_TIMEOUT,
    )


def on_device_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    """post_save / post_delete of an authenticator: the person's answer is asked again."""
    generations_move_on_commit([_scope(instance.user_id)])
