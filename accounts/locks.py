"""Every row lock the accounts context takes (core/locks.py says how and why)."""

from accounts.models import APIKey
from core.locks import lock_rows


def api_key_lock(*, pk: int) -> APIKey:
    """One API key, to rotate or revoke it (its replacement is a new row, not a new key)."""
    return lock_rows(APIKey.objects.filter(pk=pk)).get()
