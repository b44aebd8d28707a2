"""Every row lock the brands context takes (core/locks.py says how and why)."""

from brands.models import Brand
from core.locks import lock_rows


def brand_lock(*, pk: int) -> Brand:
    """One brand, to change its settings. Orders and codes of the brand keep being inserted."""
    return lock_rows(Brand.objects.filter(pk=pk)).get()
