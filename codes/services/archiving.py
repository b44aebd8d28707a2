"""Archiving codes and bringing them back: following the influencer's standing with the brand and
the campaign's status (called by the event handlers), or by a manager's hand."""

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from affiliates.models import Influencer
from brands.models import Brand
from campaigns.models import Campaign
from codes.locks import codes_lock
from codes.models import Code
from codes.services.status import code_status_desired, code_status_set
from core.errors import Conflict


def codes_archive_for_influencer(*, brand: Brand, influencer: Influencer, actor: Any = None) -> list[Code]:
    """The influencer was suspended or blocked by the brand: archive all their codes of the brand
    (in VTEX after commit)."""
    with transaction.atomic():
        codes = codes_lock(brand=brand, influencer=influencer)
        for code in codes:
            code_status_set(
                code, status=Code.Status.ARCHIVED, reason=_("influencer is not approved with the brand"), actor=actor
            )
    return codes


def codes_unarchive_for_influencer(*, brand: Brand, influencer: Influencer, actor: Any = None) -> list[Code]:
    """The influencer was approved again: bring back the codes of campaigns that are running and
    that they still take part in. Codes a manager archived by hand stay archived."""
    with transaction.atomic():
        codes = codes_lock(brand=brand, influencer=influencer)
        for code in codes:
            if code.manually_archived:
                continue
            status, reason = code_status_desired(code, membership_approved=True)
            code_status_set(code, status=status, reason=reason, actor=actor)
    return codes


def codes_refresh_for_campaign(*, campaign: Campaign, influencer: Influencer | None = None, actor: Any = None) -> int:
    """Bring the campaign's codes (or one influencer's) in line with the campaign's status and
    the influencers' standing. Returns how many changed."""
    filters: dict[str, Any] = {"campaign": campaign}
    if influencer is not None:
        filters["influencer"] = influencer
    changed = 0
    with transaction.atomic():
        for code in codes_lock(**filters):
            if code.manually_archived and code.status == Code.Status.ARCHIVED:
                continue
            status, reason = code_status_desired(code)
            changed += code_status_set(code, status=status, reason=reason, actor=actor)
    return changed


def code_archive(*, code: Code, actor: Any = None) -> Code:
    """A manager takes a code out of use; it stays archived until a manager brings it back."""
    with transaction.atomic():
        locked = codes_lock(pk=code.pk)[0]
        locked.manually_archived = True
        locked.save(update_fields=["manually_archived", "updated_at"])
        code_status_set(locked, status=Code.Status.ARCHIVED, reason=_("archived by a manager"), actor=actor)
    return locked


def code_unarchive(*, code: Code, actor: Any = None) -> Code:
    """A manager brings a code back; refused (with the reason) when it may not be active now."""
    with transaction.atomic():
        locked = codes_lock(pk=code.pk)[0]
        status, reason = code_status_desired(locked)
        if status != Code.Status.ACTIVE:
            raise Conflict(
                _("The code %(code)s cannot be active now: %(reason)s.") % {"code": locked.text, "reason": reason}
            )
        locked.manually_archived = False
        locked.save(update_fields=["manually_archived", "updated_at"])
        code_status_set(locked, status=status, reason=reason, actor=actor)
    return locked
