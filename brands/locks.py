"""Every row lock the brands context takes (core/locks.py says how and why)."""

from brands.models import Brand, CurrencyRate
from core.locks import lock_rows


def brand_lock(*, pk: int) -> Brand:
    """One brand, to change its settings. Orders and codes of the brand keep being inserted."""
    return lock_rows(Brand.objects.filter(pk=pk)).get()


def currency_rate_lock(*, brand_id: int, currency: str) -> CurrencyRate | None:
    """The brand's rate for `currency`, if it has one, to replace it."""
    return lock_rows(CurrencyRate.objects.filter(brand_id=brand_id, currency=currency)).first()
