"""Discount codes: generation, the state that follows the campaign and the influencer, and the
sync to VTEX coupons (queued after commit, run by the worker, retried with backoff by Beat)."""

import logging
import re
import secrets
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import MANAGER
from affiliates.assignments import campaign_assign_influencer
from affiliates.models import Influencer, Membership
from audit.services import audit_record
from brands.models import Brand
from campaigns.locks import campaign_lock
from campaigns.models import Campaign, CampaignAssignment
from codes.locks import code_lock_for, codes_lock
from codes.models import Code
from core.backoff import backoff_seconds
from core.errors import ApplicationError, Conflict
from integrations.email import email_send
from integrations.vtex import VTEXClient, VTEXCredentialsMissing, VTEXError

logger = logging.getLogger(__name__)

CODE_MIN_LENGTH = 4
CODE_MAX_LENGTH = 30
_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_-]*$")
# Suffixes people can read aloud and type: no 0/O, 1/I/L.
SUFFIX_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
GENERATE_ATTEMPTS = 8


class CodeInvalid(ApplicationError):
    default_code = "code_invalid"


class CodeTaken(Conflict):
    default_code = "code_taken"


# --- Text -----------------------------------------------------------------------------------


def code_text_normalize(text: str) -> str:
    return (text or "").strip().upper()


def code_text_validate(text: str) -> str:
    """A code a manager typed, normalised (upper case) and checked; raises CodeInvalid."""
    normalized = code_text_normalize(text)
    if not CODE_MIN_LENGTH <= len(normalized) <= CODE_MAX_LENGTH:
        raise CodeInvalid(
            _("A code has %(min)s to %(max)s characters; “%(code)s” has %(length)s.")
            % {"min": CODE_MIN_LENGTH, "max": CODE_MAX_LENGTH, "code": normalized[:40], "length": len(normalized)}
        )
    if not _CODE_RE.match(normalized):
        raise CodeInvalid(
            _(
                "Use only letters A–Z, digits, hyphens and underscores, starting with a letter or a digit "
                "(no spaces or accents): “%(code)s” does not fit."
            )
            % {"code": normalized[:40]}
        )
    return normalized


def _slug_upper(value: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", value or "").encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Z0-9]", "", ascii_text.upper())


def code_text_candidates(*, influencer: Influencer, campaign: Campaign) -> Iterator[str]:
    """Readable candidates: the influencer's handle (else name) plus the campaign's discount
    ("MARIAGOMEZ10"), then the same with a short random suffix ("MARIAGOMEZ10-K7Q")."""
    stem = _slug_upper(influencer.handle) or _slug_upper(influencer.display_name) or "MGM"
    discount = campaign.discount_percent or Decimal(0)
    tail = str(int(discount)) if discount and discount == int(discount) else ""
    stem = stem[: CODE_MAX_LENGTH - 4 - len(tail)]
    base = f"{stem}{tail}"
    if len(base) < CODE_MIN_LENGTH:
        base = f"{base}{'X' * (CODE_MIN_LENGTH - len(base))}"
    yield base
    while True:
        suffix = "".join(secrets.choice(SUFFIX_ALPHABET) for _i in range(3))
        yield f"{base}-{suffix}"


def code_text_taken(*, brand: Brand, text: str) -> bool:
    return Code.objects.filter(brand=brand, text__iexact=text).exists()


# --- Status ---------------------------------------------------------------------------------


def _desired(code: Code, *, membership_approved: bool | None = None) -> tuple[str, str]:
    """What the code's status should be, and why, from its campaign, the influencer's place in
    it and their membership with the brand."""
    campaign = code.campaign
    if campaign.status != Campaign.Status.ACTIVE:
        return Code.Status.ARCHIVED, _("campaign is %(status)s") % {"status": campaign.get_status_display()}
    if not CampaignAssignment.objects.filter(campaign=campaign, influencer=code.influencer_id, is_active=True).exists():
        return Code.Status.ARCHIVED, _("influencer left the campaign")
    if membership_approved is None:
        membership_approved = Membership.objects.filter(
            brand_id=code.brand_id, influencer_id=code.influencer_id, status=Membership.Status.APPROVED
        ).exists()
    if not membership_approved:
        return Code.Status.ARCHIVED, _("influencer is not approved with the brand")
    return Code.Status.ACTIVE, ""


def _set_status(code: Code, *, status: str, reason: str, actor: Any) -> bool:
    """Call while holding the code's row lock. Returns whether anything changed; queues the sync."""
    if code.status == status:
        if code.status_reason != reason:
            code.status_reason = reason
            code.save(update_fields=["status_reason", "updated_at"])
        return False
    previous = code.status
    code.status = status
    code.status_reason = reason[:200]
    code.status_changed_at = timezone.now()
    _mark_for_sync(code)
    code.save(
        update_fields=[
            "status",
            "status_reason",
            "status_changed_at",
            "sync_version",
            "sync_status",
            "sync_attempts",
            "next_sync_at",
            "updated_at",
        ]
    )
    audit_record(
        action="code.status_changed",
        target=code,
        actor=actor,
        brand_id=code.brand_id,
        before={"status": previous},
        after={"status": status, "reason": reason},
    )
    _queue_sync(code)
    return True


def _mark_for_sync(code: Code) -> None:
    code.sync_version = (code.sync_version or 0) + 1
    code.sync_status = Code.SyncStatus.PENDING
    code.sync_attempts = 0
    code.next_sync_at = None


def _queue_sync(code: Code) -> None:
    from codes.tasks import code_sync_task  # noqa: PLC0415 tasks↔services cycle inside the app

    code_id = code.pk
    transaction.on_commit(lambda: code_sync_task.delay(code_id=code_id))


# --- Issue ----------------------------------------------------------------------------------


def _defaults_for(campaign: Campaign, assignment: CampaignAssignment | None) -> dict[str, Any]:
    variant = assignment.variant if assignment is not None else None
    discount = (
        variant.discount_percent
        if variant is not None and variant.discount_percent is not None
        else campaign.discount_percent
    )
    return {
        "variant": variant,
        "discount_percent": discount,
        "max_usage": campaign.code_max_usage,
        "max_items_per_client": campaign.code_max_items_per_client,
    }


def code_create(
    *,
    campaign: Campaign,
    influencer: Influencer,
    text: str | None = None,
    actor: Any = None,
    discount_percent: Decimal | None = None,
    max_usage: int | None = None,
    max_items_per_client: int | None = None,
) -> Code:
    """A new code for the influencer in the campaign: `text` if a manager chose one (validated;
    refused if the brand already uses it, in any case), else generated from the handle. The
    influencer is assigned to the campaign if they were not. The VTEX sync runs after commit."""
    chosen = code_text_validate(text) if text else None
    with transaction.atomic():
        assignment = campaign_assign_influencer(campaign=campaign, influencer=influencer, actor=actor)
        if Code.objects.filter(campaign=campaign, influencer=influencer).exists():
            existing = Code.objects.get(campaign=campaign, influencer=influencer)
            raise Conflict(
                _("%(influencer)s already has the code %(code)s in this campaign.")
                % {"influencer": influencer, "code": existing.text},
                code="code_exists",
            )
        fields = _defaults_for(campaign, assignment)
        if discount_percent is not None:
            fields["discount_percent"] = discount_percent
        if max_usage is not None:
            fields["max_usage"] = max_usage
        if max_items_per_client is not None:
            fields["max_items_per_client"] = max_items_per_client
        code = _insert_code(campaign=campaign, influencer=influencer, chosen=chosen, fields=fields)
        status, reason = _desired(code)
        if status != code.status:
            code.status, code.status_reason = status, reason
            code.save(update_fields=["status", "status_reason", "updated_at"])
        audit_record(
            action="code.created",
            target=code,
            actor=actor,
            brand_id=campaign.brand_id,
            after={
                "text": code.text,
                "origin": code.origin,
                "campaign": campaign.pk,
                "influencer": influencer.pk,
                "variant": getattr(code.variant, "key", None),
                "status": code.status,
            },
        )
        _queue_sync(code)
    return code


def _insert_code(*, campaign: Campaign, influencer: Influencer, chosen: str | None, fields: dict[str, Any]) -> Code:
    """Insert with the unique constraints as the judge: a chosen code that is taken is refused;
    a generated one moves to the next candidate (collision-safe under concurrency too)."""
    if chosen is not None:
        candidates: Iterable[str] = [chosen]
    else:
        candidates = code_text_candidates(influencer=influencer, campaign=campaign)
    for attempt, candidate in enumerate(candidates):
        if attempt >= GENERATE_ATTEMPTS:
            break
        if code_text_taken(brand=campaign.brand, text=candidate):
            if chosen is not None:
                raise CodeTaken(
                    _("The code %(code)s is already used in %(brand)s; choose another.")
                    % {"code": candidate, "brand": campaign.brand.name}
                )
            continue
        try:
            with transaction.atomic():
                return Code.objects.create(
                    brand=campaign.brand,
                    campaign=campaign,
                    influencer=influencer,
                    text=candidate,
                    origin=Code.Origin.CHOSEN if chosen else Code.Origin.GENERATED,
                    **fields,
                )
        except IntegrityError as exc:
            if Code.objects.filter(campaign=campaign, influencer=influencer).exists():
                raise Conflict(_("This influencer already has a code in this campaign."), code="code_exists") from exc
            if chosen is not None:
                raise CodeTaken(
                    _("The code %(code)s is already used in %(brand)s; choose another.")
                    % {"code": candidate, "brand": campaign.brand.name}
                ) from exc
    raise ApplicationError(
        _("Could not find a free code for %(influencer)s; choose one by hand.") % {"influencer": influencer}
    )


def codes_issue_for_influencer(
    *, brand: Brand, influencer: Influencer, campaigns: Iterable[Campaign] | None = None, actor: Any = None
) -> list[Code]:
    """Make sure the influencer has one code in each of `campaigns` (default: every active
    campaign of the brand they take part in, after joining the brand's open campaigns).
    Idempotent: existing codes are returned (and reactivated if they should be). VTEX syncs
    run after commit."""
    if not Membership.objects.filter(brand=brand, influencer=influencer, status=Membership.Status.APPROVED).exists():
        raise Conflict(
            _("%(influencer)s is not an approved influencer of %(brand)s; approve them before issuing codes.")
            % {"influencer": influencer, "brand": brand.name},
            code="influencer_not_approved",
        )
    with transaction.atomic():
        if campaigns is None:
            for campaign in Campaign.objects.filter(
                brand=brand, is_template=False, open_to_all=True, status=Campaign.Status.ACTIVE
            ).order_by("pk"):
                campaign_assign_influencer(campaign=campaign, influencer=influencer, actor=actor)
            targets = list(
                Campaign.objects.filter(
                    brand=brand,
                    is_template=False,
                    status=Campaign.Status.ACTIVE,
                    assignments__influencer=influencer,
                    assignments__is_active=True,
                ).order_by("pk")
            )
        else:
            targets = list(campaigns)
            foreign = [c for c in targets if c.brand_id != brand.pk]
            if foreign:
                raise ApplicationError(_("Choose campaigns of %(brand)s only.") % {"brand": brand.name})
        codes = []
        for campaign in targets:
            # Serialise issuing per campaign: without a row to lock, two concurrent calls would
            # both see "no code yet".
            campaign_lock(pk=campaign.pk)
            existing = code_lock_for(campaign_id=campaign.pk, influencer_id=influencer.pk)
            if existing is None:
                codes.append(code_create(campaign=campaign, influencer=influencer, actor=actor))
                continue
            if campaign.status != Campaign.Status.ENDED:
                campaign_assign_influencer(campaign=campaign, influencer=influencer, actor=actor)
            if not existing.manually_archived:
                status, reason = _desired(existing, membership_approved=True)
                _set_status(existing, status=status, reason=reason, actor=actor)
            codes.append(existing)
    return codes


# --- Follow the influencer and the campaign -------------------------------------------------


def codes_archive_for_influencer(*, brand: Brand, influencer: Influencer, actor: Any = None) -> list[Code]:
    """The influencer was suspended or blocked by the brand: archive all their codes of the brand
    (in VTEX after commit)."""
    with transaction.atomic():
        codes = codes_lock(brand=brand, influencer=influencer)
        for code in codes:
            _set_status(
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
            status, reason = _desired(code, membership_approved=True)
            _set_status(code, status=status, reason=reason, actor=actor)
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
            status, reason = _desired(code)
            changed += _set_status(code, status=status, reason=reason, actor=actor)
    return changed


def code_archive(*, code: Code, actor: Any = None) -> Code:
    """A manager takes a code out of use; it stays archived until a manager brings it back."""
    with transaction.atomic():
        locked = codes_lock(pk=code.pk)[0]
        locked.manually_archived = True
        locked.save(update_fields=["manually_archived", "updated_at"])
        _set_status(locked, status=Code.Status.ARCHIVED, reason=_("archived by a manager"), actor=actor)
    return locked


def code_unarchive(*, code: Code, actor: Any = None) -> Code:
    """A manager brings a code back; refused (with the reason) when it may not be active now."""
    with transaction.atomic():
        locked = codes_lock(pk=code.pk)[0]
        status, reason = _desired(locked)
        if status != Code.Status.ACTIVE:
            raise Conflict(
                _("The code %(code)s cannot be active now: %(reason)s.") % {"code": locked.text, "reason": reason}
            )
        locked.manually_archived = False
        locked.save(update_fields=["manually_archived", "updated_at"])
        _set_status(locked, status=status, reason=reason, actor=actor)
    return locked


def code_update_settings(
    *,
    code: Code,
    discount_percent: Decimal | None = None,
    max_usage: int | None = None,
    max_items_per_client: int | None = None,
    expiration_interval_per_use: str | None = None,
    actor: Any = None,
) -> Code:
    """Change the discount shown and the usage rules; VTEX gets the new coupon after commit."""

    with transaction.atomic():
        locked = codes_lock(pk=code.pk)[0]
        before = {
            "discount_percent": str(locked.discount_percent),
            "max_usage": locked.max_usage,
            "max_items_per_client": locked.max_items_per_client,
            "expiration_interval_per_use": locked.expiration_interval_per_use,
        }
        if discount_percent is not None:
            locked.discount_percent = Decimal(str(discount_percent))
        if max_usage is not None:
            locked.max_usage = max_usage
        if max_items_per_client is not None:
            locked.max_items_per_client = max_items_per_client
        if expiration_interval_per_use is not None:
            locked.expiration_interval_per_use = expiration_interval_per_use
        try:
            locked.full_clean(validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            raise CodeInvalid(" ".join(exc.messages)) from exc
        after = {
            "discount_percent": str(locked.discount_percent),
            "max_usage": locked.max_usage,
            "max_items_per_client": locked.max_items_per_client,
            "expiration_interval_per_use": locked.expiration_interval_per_use,
        }
        if after == before:
            return locked
        _mark_for_sync(locked)
        locked.save()
        audit_record(
            action="code.settings_changed",
            target=locked,
            actor=actor,
            brand_id=locked.brand_id,
            before=before,
            after=after,
        )
        _queue_sync(locked)
    return locked


# --- Sync to VTEX ---------------------------------------------------------------------------


def code_sync_request(*, code: Code, actor: Any = None) -> Code:
    """ "Sync again": start over with a fresh set of attempts."""
    with transaction.atomic():
        locked = codes_lock(pk=code.pk)[0]
        _mark_for_sync(locked)
        locked.save(update_fields=["sync_version", "sync_status", "sync_attempts", "next_sync_at", "updated_at"])
        audit_record(action="code.sync_requested", target=locked, actor=actor, brand_id=locked.brand_id)
        _queue_sync(locked)
    return locked


def _retry_delay(attempt: int) -> timedelta:
    return timedelta(
        seconds=backoff_seconds(
            attempt, base=settings.CODES_SYNC_BACKOFF_SECONDS, cap=settings.CODES_SYNC_BACKOFF_MAX_SECONDS
        )
    )


def code_sync(*, code_id: int, now: datetime | None = None) -> Code:
    """Tell VTEX what the code should be. Called by the worker, never inside a transaction: the
    HTTP calls run without holding locks, and the result is written only if no newer change came
    in meanwhile (that change has its own sync queued)."""
    code = Code.objects.select_related("campaign", "brand").get(pk=code_id)
    if code.synced_version >= code.sync_version and code.sync_status == Code.SyncStatus.SYNCED:
        return code
    version = code.sync_version
    now = now or timezone.now()
    try:
        vtex_state = _push(code)
    except VTEXError as exc:
        return _sync_failed(code=code, version=version, error=exc, now=now)
    with transaction.atomic():
        updated = Code.objects.filter(pk=code.pk, sync_version=version).update(
            sync_status=Code.SyncStatus.SYNCED,
            synced_version=version,
            vtex_state=vtex_state,
            sync_attempts=0,
            next_sync_at=None,
            last_sync_attempt_at=now,
            last_synced_at=now,
            last_sync_error="",
        )
        if not updated:
            Code.objects.filter(pk=code.pk).update(vtex_state=vtex_state, last_sync_attempt_at=now)
        else:
            audit_record(
                action="code.synced",
                target=code,
                brand_id=code.brand_id,
                after={"vtex_state": vtex_state or "absent", "version": version},
            )
    code.refresh_from_db()
    return code


def _push(code: Code) -> str:
    """The VTEX calls for the code's current status; returns VTEX's state afterwards."""
    campaign = code.campaign
    client = VTEXClient.for_brand(code.brand)
    if code.status == Code.Status.ACTIVE:
        if not campaign.utm_source:
            raise VTEXError(
                _(
                    "Campaign %(campaign)s has no utm_source; VTEX links coupons to promotions through it. Fill it in, then sync again."
                )
                % {"campaign": campaign.name},
                code="campaign_no_utm_source",
            )
        if code.vtex_state == Code.VTEXState.ARCHIVED:
            client.coupon_unarchive(code.text)
        client.coupon_upsert(
            code=code.text,
            utm_source=campaign.utm_source,
            utm_campaign=campaign.utm_campaign,
            is_archived=False,
            max_items_per_client=code.max_items_per_client,
            expiration_interval_per_use=code.expiration_interval_per_use,
            max_usage=code.max_usage,
            # VTEX has it already: update it the documented way (get, edit the whole body, post).
            edit=code.vtex_state != Code.VTEXState.ABSENT,
        )
        return Code.VTEXState.ACTIVE
    if code.vtex_state == Code.VTEXState.ABSENT:
        return Code.VTEXState.ABSENT  # never reached VTEX: nothing to archive
    client.coupon_archive(code.text)
    return Code.VTEXState.ARCHIVED


def _sync_failed(*, code: Code, version: int, error: VTEXError, now: datetime) -> Code:
    max_attempts = settings.CODES_SYNC_MAX_ATTEMPTS
    attempts = code.sync_attempts + 1
    final = not error.retryable or attempts >= max_attempts
    message = str(error)[:2000]
    with transaction.atomic():
        updated = (
            Code.objects.filter(pk=code.pk, sync_version=version)
            .exclude(synced_version=F("sync_version"))
            .update(
                sync_status=Code.SyncStatus.FAILED if final else Code.SyncStatus.RETRYING,
                sync_attempts=attempts,
                next_sync_at=None if final else now + _retry_delay(attempts),
                last_sync_attempt_at=now,
                last_sync_error=message,
            )
        )
        if updated:
            audit_record(
                action="code.sync_failed",
                target=code,
                brand_id=code.brand_id,
                after={"attempts": attempts, "final": final, "status": error.status, "error": message[:500]},
            )
            if final and not isinstance(error, VTEXCredentialsMissing):
                _alert_managers(code=code, error=message, attempts=attempts)
    logger.warning("code %s sync failed (attempt %s, final=%s): %s", code.pk, attempts, final, message)
    code.refresh_from_db()
    return code


def _alert_managers(*, code: Code, error: str, attempts: int) -> None:
    managers = User.objects.filter(
        is_active=True, groups__name=MANAGER, brand_access__brand_id=code.brand_id
    ).distinct()
    try:
        admin_url = settings.SITE_URL + reverse("admin:codes_code_change", args=[code.pk])
    except Exception:  # the alert matters more than the link
        admin_url = settings.SITE_URL
    for manager in managers:
        email_send(
            to=[manager.email],
            template="codes_sync_failed",
            language=manager.preferred_language,
            context={
                "code": code.text,
                "campaign": code.campaign.name,
                "brand": code.brand.name,
                "error": error,
                "attempts": attempts,
                "admin_url": admin_url,
            },
        )


def codes_sync_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Beat: queue the syncs whose retry time has come, and pending ones whose task was lost
    (a worker died, the broker was down when the change committed)."""
    from codes.tasks import code_sync_task  # noqa: PLC0415 tasks↔services cycle inside the app

    now = now or timezone.now()
    stale = now - timedelta(minutes=int(settings.CODES_SYNC_STALE_MINUTES))
    due = Code.objects.filter(
        Q(sync_status=Code.SyncStatus.RETRYING, next_sync_at__lte=now)
        | Q(sync_status=Code.SyncStatus.PENDING, updated_at__lte=stale)
    ).order_by("next_sync_at", "pk")
    ids = list(due.values_list("pk", flat=True)[:limit])
    for code_id in ids:
        code_sync_task.delay(code_id=code_id)
    return len(ids)


def code_usage_refresh(*, code_id: int) -> Code:
    """Read how many times VTEX saw the coupon used."""
    code = Code.objects.select_related("brand").get(pk=code_id)
    if code.vtex_state == Code.VTEXState.ABSENT:
        return code
    usage = VTEXClient.for_brand(code.brand).coupon_usage(code.text)
    Code.objects.filter(pk=code.pk).update(usage_count=usage.count, usage_checked_at=timezone.now())
    code.refresh_from_db()
    return code
