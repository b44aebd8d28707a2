"""Every row lock the affiliates context takes (core/locks.py says how and why): deciding a
membership or saving an influencer's profile locks that row only, never the brand, and does
not hold up orders or clicks that reference the influencer."""

from django.db.models import QuerySet

from affiliates.models import Influencer, Membership, RecruitingLink, Referral
from core.locks import lock_rows


def membership_lock(*, pk: int) -> Membership:
    """One membership, with its brand and influencer (and their user) loaded, not locked."""
    return lock_rows(Membership.objects.filter(pk=pk).select_related("brand", "influencer__user")).get()


def influencer_lock(*, pk: int) -> Influencer:
    """One influencer, with their user loaded (not locked)."""
    return lock_rows(Influencer.objects.filter(pk=pk).select_related("user")).get()


def recruiting_link_lock(*, pk: int) -> RecruitingLink:
    return lock_rows(RecruitingLink.objects.filter(pk=pk)).get()


def referrals_lock(queryset: QuerySet[Referral]) -> QuerySet[Referral]:
    """The referrals of `queryset`, locked in pk order when evaluated (inside the transaction)."""
    return lock_rows(queryset)


def referral_lock(*, pk: int) -> Referral:
    """A recruited influencer's referral row: serialises the second-level cap and the bonus
    (commissions.referrals)."""
    return lock_rows(Referral.objects.filter(pk=pk)).get()
