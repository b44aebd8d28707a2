"""A campaign's status machine: moves by hand and by date (Beat)."""

import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from campaigns.locks import campaign_lock
from campaigns.models import Campaign
from core import events
from core.errors import ApplicationError, Conflict

logger = logging.getLogger(__name__)
Status = Campaign.Status


def _status_label(status: str) -> str:
    return str(Status(status).label)


def _check_can_run(campaign: Campaign, *, to_status: str, now: datetime) -> None:
    if not campaign.rules.exists():
        raise Conflict(_("Add at least one commission rule before the campaign runs."), code="campaign_no_rules")
    if not campaign.utm_source:
        raise Conflict(
            _("Fill in utm_source (the VTEX promotion's) before the campaign runs: its coupons need it."),
            code="campaign_no_utm_source",
        )
    if campaign.ends_at and campaign.ends_at <= now:
        raise Conflict(_("This campaign's end date has passed; move the end date first."), code="campaign_over")
    if to_status == Status.ACTIVE and campaign.starts_at > now:
        raise Conflict(
            _("This campaign starts on %(start)s; schedule it and it will start by itself.")
            % {"start": timezone.localtime(campaign.starts_at, campaign.brand.tz).strftime("%Y-%m-%d %H:%M")},
            code="campaign_not_started",
        )
    if to_status == Status.SCHEDULED and campaign.starts_at <= now:
        raise Conflict(
            _("This campaign's start is already past; activate it instead of scheduling it."),
            code="campaign_already_started",
        )


def campaign_status_change(
    *, campaign: Campaign, to_status: str, actor: Any = None, now: datetime | None = None
) -> Campaign:
    """Move a campaign along its status machine. Idempotent; refuses illegal moves. Codes follow
    (the `campaign.changed` event): they are active in VTEX only while the campaign is active."""
    now = now or timezone.now()
    if to_status not in Status.values:
        raise ApplicationError(_("Unknown campaign status %(status)s.") % {"status": to_status})
    with transaction.atomic():
        locked = campaign_lock(pk=campaign.pk)
        if locked.status == to_status:
            return locked
        if locked.is_template:
            raise Conflict(_("Templates never run; create a campaign from this template instead."))
        if to_status not in Campaign.ALLOWED_TRANSITIONS[locked.status]:
            raise Conflict(
                _("A campaign that is %(from)s cannot become %(to)s.")
                % {"from": _status_label(locked.status), "to": _status_label(to_status)},
                code="illegal_transition",
            )
        if to_status in (Status.ACTIVE, Status.SCHEDULED):
            _check_can_run(locked, to_status=to_status, now=now)
        previous = locked.status
        locked.status = to_status
        locked.status_changed_at = now
        locked.save(update_fields=["status", "status_changed_at", "updated_at"])
        audit_record(
            action="campaign.status_changed",
            target=locked,
            actor=actor,
            brand_id=locked.brand_id,
            before={"status": previous},
            after={"status": to_status},
        )
        # Codes (a floor up) follow the campaign's status, in this transaction.
        events.publish("campaign.changed", campaign=locked, actor=actor)
    campaign.status, campaign.status_changed_at = locked.status, locked.status_changed_at
    return locked


def campaign_status_sync_by_dates(*, now: datetime | None = None) -> dict[str, int]:
    """Beat: scheduled campaigns whose start has come become active; running campaigns whose end
    has passed become ended. A campaign that cannot start (no rules, say) is left alone and
    logged, so one bad campaign does not stop the others."""
    now = now or timezone.now()
    counts = {"activated": 0, "ended": 0, "skipped": 0}
    to_end = Campaign.objects.filter(
        is_template=False, status__in=[Status.SCHEDULED, Status.ACTIVE, Status.PAUSED], ends_at__lte=now
    )
    for campaign in to_end.order_by("pk"):
        campaign_status_change(campaign=campaign, to_status=Status.ENDED, now=now)
        counts["ended"] += 1
    to_start = Campaign.objects.filter(is_template=False, status=Status.SCHEDULED, starts_at__lte=now).filter(
        _open_end(now)
    )
    for campaign in to_start.order_by("pk"):
        try:
            campaign_status_change(campaign=campaign, to_status=Status.ACTIVE, now=now)
            counts["activated"] += 1
        except ApplicationError as exc:
            logger.warning("campaign %s could not start by date: %s", campaign.pk, exc)
            counts["skipped"] += 1
    return counts


def _open_end(now: datetime) -> Any:
    return Q(ends_at__isnull=True) | Q(ends_at__gt=now)
