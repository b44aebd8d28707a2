"""Every row lock the claims context takes (core/locks.py says how and why)."""

from claims.models import Claim
from core.locks import lock_rows


def claim_lock(*, pk: int) -> Claim:
    """One claim, with its brand, campaign and influencer loaded (not locked): orders, clicks and
    the influencer's own edits go on while a manager decides it."""
    return lock_rows(Claim.objects.filter(pk=pk).select_related("brand", "campaign", "influencer")).get()
