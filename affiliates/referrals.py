"""Member-get-member: recruiting links and who referred whom (docs/referrals.md).

Affiliates records the relationship; the money (a share of the recruited influencer's
commissions, the bonus) is commissions' job (`commissions.referrals`), which reacts to the
`referral.recorded` / `referral.changed` events published here. Rules kept here:

- only an approved influencer of the brand gets a recruiting link, and only for a campaign whose
  program is enabled;
- first referrer wins: one referral per (brand, recruited influencer), by a unique constraint;
- nobody refers themselves: the same email, fiscal document, payout account or browser (device
  fingerprint) on both sides, or a referral that would close a cycle, records the referral as
  `self`, which never earns.
"""

import hashlib
import hmac
import secrets
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from affiliates.locks import recruiting_link_lock, referrals_lock
from affiliates.models import Influencer, Membership, PayoutAccount, RecruitingLink, Referral
from audit.services import audit_record
from campaigns.models import Campaign, ReferralProgram
from core import events
from core.errors import ApplicationError, NotFound

DEVICE_COOKIE = "mgm_device"
DEVICE_COOKIE_MAX_AGE = 400 * 24 * 3600  # browsers cap cookies at 400 days
MAX_DEVICES_PER_LINK = 10

Status = Referral.Status


class RecruitingLinkUnavailable(ApplicationError):
    default_code = "recruiting_link_unavailable"


# --- Device fingerprint: a random first-party cookie, kept only as a keyed hash ---------------


def device_cookie_value(request: Any) -> tuple[str, bool]:
    """The browser's device cookie, or a new one. Returns (value, is_new)."""
    value = str(request.COOKIES.get(DEVICE_COOKIE, ""))
    if 16 <= len(value) <= 64 and value.replace("-", "").replace("_", "").isalnum():
        return value, False
    return secrets.token_urlsafe(18), True


def device_cookie_set(response: Any, value: str) -> None:
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=DEVICE_COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=not settings.DEBUG and getattr(settings, "SESSION_COOKIE_SECURE", False),
    )


def device_hash(value: str) -> str:
    """A keyed hash: the raw cookie never reaches the database."""
    if not value:
        return ""
    return hmac.new(settings.SECRET_KEY.encode(), f"device|{value}".encode(), hashlib.sha256).hexdigest()


# --- Recruiting links -----------------------------------------------------------------------


def referral_program_for(campaign: Campaign) -> ReferralProgram | None:
    """The campaign's program when it is enabled, else None."""
    return ReferralProgram.objects.filter(campaign=campaign, enabled=True).first()


def recruiting_campaigns(*, influencer: Influencer, brand: Any) -> list[Campaign]:
    """Campaigns of the brand where this influencer may recruit: approved membership, program on."""
    if not Membership.objects.filter(influencer=influencer, brand=brand, status=Membership.Status.APPROVED).exists():
        return []
    return list(
        Campaign.objects.filter(
            brand=brand, referral_program__enabled=True, is_template=False, status__in=["active", "scheduled"]
        ).order_by("name")
    )


def recruiting_link_get(*, influencer: Influencer, campaign: Campaign, device: str = "") -> RecruitingLink:
    """The influencer's recruiting link for the campaign (created on first use), remembering the
    browser it was opened from so an application from that browser counts as self."""
    if campaign not in recruiting_campaigns(influencer=influencer, brand=campaign.brand):
        raise RecruitingLinkUnavailable(
            _("Recruiting is not open in this campaign, or your membership is not approved."), code="not_open"
        )
    with transaction.atomic():
        link, _created = RecruitingLink.objects.get_or_create(influencer=influencer, campaign=campaign)
        hashed = device_hash(device)
        if hashed and hashed not in link.device_hashes:
            link = recruiting_link_lock(pk=link.pk)
            if hashed not in link.device_hashes:
                link.device_hashes = [*link.device_hashes, hashed][-MAX_DEVICES_PER_LINK:]
                link.save(update_fields=["device_hashes", "updated_at"])
    return link


def recruiting_link_by_token(token: str) -> RecruitingLink | None:
    token = (token or "").strip()[:24]
    if not token:
        return None
    return RecruitingLink.objects.select_related("campaign__brand", "influencer").filter(token=token).first()


# --- Self-referral signals ------------------------------------------------------------------


def payout_fingerprint(account: PayoutAccount | None) -> str:
    """Where money goes (bank + account number, or the transfer key), normalised; '' if none."""
    if account is None:
        return ""
    number = "".join(ch for ch in (account.account_number or "") if ch.isalnum())
    key = (account.transfer_key or "").strip().lower()
    if number:
        return f"{account.bank_code}|{number}"
    return f"key|{key}" if key else ""


def _payout_account(influencer: Influencer) -> PayoutAccount | None:
    return PayoutAccount.objects.filter(influencer=influencer).first()


def _referred_by_chain(*, brand_id: int, influencer_id: int) -> set[int]:
    """Everyone above `influencer_id` in the brand's referral tree (their referrer, theirs…)."""
    seen: set[int] = set()
    current = influencer_id
    while True:
        parent = (
            Referral.objects.filter(brand_id=brand_id, referred_id=current)
            .values_list("referrer_id", flat=True)
            .first()
        )
        if parent is None or parent in seen:
            return seen
        seen.add(parent)
        current = parent


def referral_self_signals(
    *, referrer: Influencer, referred: Influencer, brand_id: int, device: str = "", link: RecruitingLink | None = None
) -> list[str]:
    """Why `referred` is (or may be) `referrer` themselves. Empty when nothing matches."""
    signals: list[str] = []
    if referrer.pk == referred.pk:
        return ["same_influencer"]
    if referrer.user.email.strip().lower() == referred.user.email.strip().lower():
        signals.append("email")
    if (
        referrer.document_number
        and referrer.document_type == referred.document_type
        and referrer.document_number == referred.document_number
    ):
        signals.append("document")
    mine, theirs = payout_fingerprint(_payout_account(referrer)), payout_fingerprint(_payout_account(referred))
    if mine and mine == theirs:
        signals.append("payout_account")
    if device and link is not None and device in link.device_hashes:
        signals.append("device")
    # The recruited influencer is already above the referrer in the brand's tree: a ring.
    if referred.pk in _referred_by_chain(brand_id=brand_id, influencer_id=referrer.pk):
        signals.append("cycle")
    return signals


def _event_data(referral: Referral) -> dict[str, Any]:
    return {
        "referral_id": referral.pk,
        "campaign_id": referral.campaign_id,
        "referrer_id": referral.referrer_id,
        "referred_id": referral.referred_id,
        "status": referral.status,
        "signals": list(referral.self_signals),
    }


def referral_record(*, membership: Membership, token: str, device: str = "") -> Referral | None:
    """The applicant of `membership` came through recruiting link `token`: record who referred
    them. Call inside the application's transaction. An unknown token, another brand's link, a
    closed program or an applicant someone already referred records nothing (the application
    itself is never refused for it); a self-referral is recorded as `self` and earns nothing."""
    link = recruiting_link_by_token(token)
    if link is None or link.campaign.brand_id != membership.brand_id:
        return None
    if referral_program_for(link.campaign) is None:
        return None
    referrer, referred = link.influencer, membership.influencer
    if not Membership.objects.filter(
        influencer=referrer, brand_id=membership.brand_id, status=Membership.Status.APPROVED
    ).exists():
        return None
    if referrer.pk == referred.pk:
        return None  # opening one's own link while signed in: nothing to record
    if Referral.objects.filter(brand_id=membership.brand_id, referred=referred).exists():
        return None  # first referrer wins
    hashed = device_hash(device)
    signals = referral_self_signals(
        referrer=referrer, referred=referred, brand_id=membership.brand_id, device=hashed, link=link
    )
    try:
        with transaction.atomic():
            referral = Referral.objects.create(
                brand_id=membership.brand_id,
                campaign=link.campaign,
                referrer=referrer,
                referred=referred,
                link=link,
                status=Status.SELF if signals else Status.ACTIVE,
                status_reason=_("Self-referral signals: %(signals)s") % {"signals": ", ".join(signals)}
                if signals
                else "",
                self_signals=signals,
                device_hash=hashed,
                started_at=timezone.now(),
            )
    except IntegrityError:
        return None  # a concurrent application of the same person recorded its referrer first
    audit_record(
        action="referral.recorded",
        target=referral,
        actor=referred.user,
        brand_id=membership.brand_id,
        after=_event_data(referral),
    )
    events.publish("referral.recorded", brand_id=membership.brand_id, data=_event_data(referral))
    return referral


def referral_recheck(*, influencer: Influencer) -> list[Referral]:
    """Look again at every earning referral this influencer is on either side of (their payout
    data changed): those that now show self-referral signals become `self`. Audited; publishes
    `referral.changed` for each so commissions takes their rewards back. Call in a transaction."""
    changed: list[Referral] = []
    candidates = referrals_lock(
        Referral.objects.filter(status=Status.ACTIVE)
        .filter(Q(referrer_id=influencer.pk) | Q(referred_id=influencer.pk))
        .select_related("referrer__user", "referred__user", "link")
    )
    for referral in candidates:
        signals = referral_self_signals(
            referrer=referral.referrer, referred=referral.referred, brand_id=referral.brand_id
        )
        if not signals:
            continue
        referral_status_set(
            referral=referral,
            status=Status.SELF,
            reason=_("Self-referral signals: %(signals)s") % {"signals": ", ".join(signals)},
            signals=signals,
        )
        changed.append(referral)
    return changed


def referral_status_set(
    *, referral: Referral, status: str, reason: str, actor: Any = None, signals: list[str] | None = None
) -> Referral:
    """Move a referral to `status` (active, self, blocked) with a reason: audited, and published
    as `referral.changed` so its rewards follow. Call inside a transaction with the row locked."""
    if referral.status == status:
        return referral
    before = {"status": referral.status}
    referral.status = status
    referral.status_reason = (reason or "")[:500]
    if signals is not None:
        referral.self_signals = signals
    referral.save(update_fields=["status", "status_reason", "self_signals", "updated_at"])
    audit_record(
        action="referral.status_changed",
        target=referral,
        actor=actor,
        brand_id=referral.brand_id,
        before=before,
        after={"status": status, "reason": referral.status_reason},
    )
    events.publish("referral.changed", brand_id=referral.brand_id, data=_event_data(referral))
    return referral


def referral_decide(*, referral_id: int, brand_ids: Any, status: str, reason: str, actor: Any) -> Referral:
    """A manager blocks a referral (it stops earning and its rewards are taken back) or restores
    it. Brand-scoped: another brand's referral is not found."""
    reason = (reason or "").strip()
    if status not in (Status.ACTIVE, Status.BLOCKED):
        raise ApplicationError(_("Choose block or restore."), code="invalid_status")
    if len(reason) < 5:
        raise ApplicationError(_("Write the reason for the decision (at least 5 characters)."), code="reason_required")
    with transaction.atomic():
        queryset = Referral.objects.filter(pk=referral_id)
        if brand_ids is not None:
            queryset = queryset.filter(brand_id__in=brand_ids)
        referral = referrals_lock(queryset).first()
        if referral is None:
            raise NotFound(_("This referral does not exist."))
        return referral_status_set(referral=referral, status=status, reason=reason, actor=actor)
