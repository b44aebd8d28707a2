"""Encryption at rest for secrets (VTEX tokens) and personal data (bank accounts).

Keys live outside the database (FIELD_ENCRYPTION_KEYS, newest first). MultiFernet decrypts
with any listed key and encrypts with the first, so rotation is: prepend a key, re-encrypt
(`manage.py encryption_rotate`), then drop the old key.
"""

from functools import cache, lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must list at least one Fernet key.")
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEYS has an invalid Fernet key: {exc}") from exc


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt_str(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


def decrypt_str(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted with FIELD_ENCRYPTION_KEYS; was a key dropped too early?"
        ) from exc


@lru_cache(maxsize=512)
def _decrypt_memo(keys: tuple[str, ...], token: str) -> str:
    return decrypt_str(token)


def rotate_str(token: str) -> str:
    return fernet().rotate(token.encode()).decode()


class EncryptedTextField(models.TextField):
    """A text column stored as a Fernet token. Not searchable or orderable by design."""

    description = "Text encrypted at rest"

    def __init__(self, *args: Any, memo: bool = False, **kwargs: Any) -> None:
        # `memo`: for a few values read with many rows (a brand's VTEX credentials come with
        # every row of a list that shows the brand), keep each token's plaintext per process
        # (512 tokens at most) instead of decrypting it again for every row. Not for personal
        # data: each row has its own, and it should not outlive the request that read it.
        # Not in `deconstruct()`: it changes no column.
        self.memo = memo
        super().__init__(*args, **kwargs)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        if self.memo:
            # Keyed by the keys too: a token that no configured key opens still fails.
            return _decrypt_memo(tuple(settings.FIELD_ENCRYPTION_KEYS), value)
        return decrypt_str(value)

    def to_python(self, value: Any) -> Any:
        return value

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt_str(str(value))


def mask(value: str | None, *, visible: int = 4) -> str:
    """Show only the last `visible` characters: "•••• 1234"."""
    if not value:
        return ""
    tail = value[-visible:] if len(value) > visible else value
    return f"•••• {tail}"
