"""The sync of codes to VTEX coupons: queued after commit, run by the worker, retried with backoff
by Beat; managers are emailed when a sync gives up."""

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import MANAGER
from audit.services import audit_record
from codes.locks import codes_lock
from codes.models import Code
from core.backoff import backoff_seconds
from integrations.email import email_send
from integrations.vtex import VTEXClient, VTEXCredentialsMissing, VTEXError

logger = logging.getLogger(__name__)


def code_sync_mark(code: Code) -> None:
    code.sync_version = (code.sync_version or 0) + 1
    code.sync_status = Code.SyncStatus.PENDING
    code.sync_attempts = 0
    code.next_sync_at = None


def code_sync_queue(code: Code) -> None:
    from codes.tasks import code_sync_task  # noqa: PLC0415 tasks↔services cycle inside the app

    code_id = code.pk
    transaction.on_commit(lambda: code_sync_task.delay(code_id=code_id))


def code_sync_request(*, code: Code, actor: Any = None) -> Code:
    """ "Sync again": start over with a fresh set of attempts."""
    with transaction.atomic():
        locked = codes_lock(pk=code.pk)[0]
        code_sync_mark(locked)
        locked.save(update_fields=["sync_version", "sync_status", "sync_attempts", "next_sync_at", "updated_at"])
        audit_record(action="code.sync_requested", target=locked, actor=actor, brand_id=locked.brand_id)
        code_sync_queue(locked)
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
