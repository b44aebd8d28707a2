"""Every row lock the commissions context takes (core/locks.py says how and why). The order
row, which every writer of an order's commissions locks first, is locked through orders.locks,
referral rows through affiliates.locks."""

from django.db.models import QuerySet

from commissions.models import Commission, ReferralCommission
from core.locks import lock_rows


def commissions_lock(*, queryset: QuerySet[Commission]) -> list[Commission]:
    """The commissions of `queryset`, in pk order."""
    return list(lock_rows(queryset))


def commission_lock(*, pk: int) -> Commission:
    return lock_rows(Commission.objects.filter(pk=pk).select_related("brand", "influencer", "campaign")).get()


def referral_commissions_lock(*, queryset: QuerySet[ReferralCommission]) -> list[ReferralCommission]:
    return list(lock_rows(queryset))


def referral_bonus_lock(*, referral_id: int) -> ReferralCommission | None:
    """The referral's sign-up bonus row, if it was granted."""
    return lock_rows(
        ReferralCommission.objects.filter(referral_id=referral_id, kind=ReferralCommission.Kind.BONUS)
    ).first()
