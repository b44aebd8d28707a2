"""Every row lock the codes context takes (core/locks.py says how and why): an order that
carries a code being archived is still recorded while the archive commits."""

from typing import Any

from codes.models import Code
from core.locks import lock_rows


def codes_lock(**filters: Any) -> list[Code]:
    """The codes matching `filters`, in pk order, with their campaign and brand loaded (not
    locked)."""
    return list(lock_rows(Code.objects.filter(**filters).select_related("campaign", "campaign__brand")))


def code_lock_for(*, campaign_id: int, influencer_id: int) -> Code | None:
    """The influencer's code in the campaign, if there is one."""
    return lock_rows(Code.objects.filter(campaign_id=campaign_id, influencer_id=influencer_id)).first()
