"""Writes of the reports context: saved reports, schedules, and sending a scheduled report once
per period. Rollup maintenance lives in reports.rollups, exports in reports.exports."""

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from brands.scoping import brand_ids_for_user
from core.errors import ApplicationError, NotFound, PermissionRefused
from core.exports import EXPORT_CONTENT_TYPES, export_bytes
from integrations.email import email_deliver
from reports.builder import report_run, spec_from_input
from reports.locks import saved_report_lock
from reports.models import ReportDelivery, ReportFormat, SavedReport, ScheduledReport

logger = logging.getLogger(__name__)

MAX_RECIPIENTS = 20


class ScheduleInvalid(ApplicationError):
    default_code = "schedule_invalid"


def _check_brand(user: Any, brand_id: int) -> None:
    allowed = brand_ids_for_user(user)
    if allowed is not None and brand_id not in allowed:
        raise PermissionRefused(_("You do not have access to this brand."))


def saved_report_save(
    *,
    user: Any,
    brand: Any,
    name: str,
    spec_data: dict[str, Any],
    is_shared: bool = False,
    report: SavedReport | None = None,
) -> SavedReport:
    """Create or update a saved report after validating its query. Only the owner (or a
    superuser) changes a report; others may only open shared ones."""
    _check_brand(user, brand.pk)
    name = (name or "").strip()
    if not name:
        raise ApplicationError(_("Give the report a name."), code="name_required")
    spec = spec_from_input(data=spec_data, brand_id=brand.pk)
    with transaction.atomic():
        if report is None:
            report = SavedReport(brand=brand, owner=user)
            before = None
        else:
            report = saved_report_lock(pk=report.pk)
            if report.owner_id != user.pk and not user.is_superuser:
                raise PermissionRefused(_("Only the owner can change this report."))
            if report.brand_id != brand.pk:
                raise ApplicationError(_("A saved report stays in its brand."), code="brand_change")
            before = {"name": report.name, "spec": report.spec, "is_shared": report.is_shared}
        report.name = name[:120]
        report.spec = spec.as_json()
        report.is_shared = bool(is_shared)
        report.save()
        audit_record(
            action="report.saved",
            target=report,
            actor=user,
            brand_id=brand.pk,
            before=before,
            after={"name": report.name, "spec": report.spec, "is_shared": report.is_shared},
        )
    return report


def _recipients(value: Any) -> list[str]:
    raw = value.replace(";", ",").replace("\n", ",").split(",") if isinstance(value, str) else list(value or [])
    emails = list(dict.fromkeys(str(v).strip().lower() for v in raw if str(v).strip()))
    if not emails:
        raise ScheduleInvalid(_("Add at least one recipient."), code="no_recipients")
    if len(emails) > MAX_RECIPIENTS:
        raise ScheduleInvalid(_("At most %(n)s recipients.") % {"n": MAX_RECIPIENTS}, code="too_many_recipients")
    for email in emails:
        try:
            validate_email(email)
        except ValidationError:
            raise ScheduleInvalid(
                _("%(email)s is not an email address.") % {"email": email[:80]}, code="bad_recipient"
            ) from None
    return emails


def scheduled_report_create(
    *, user: Any, report: SavedReport, fmt: str, recipients: Any, cadence: str, send_hour: int = 7
) -> ScheduledReport:
    _check_brand(user, report.brand_id)
    if report.owner_id != user.pk and not report.is_shared and not user.is_superuser:
        raise NotFound(_("This report does not exist."))
    if fmt not in ReportFormat.values:
        raise ScheduleInvalid(_("Choose CSV, XLSX or JSON."), code="bad_format")
    if cadence not in ScheduledReport.Cadence.values:
        raise ScheduleInvalid(_("Choose daily, weekly or monthly."), code="bad_cadence")
    if not isinstance(send_hour, int) or not 0 <= send_hour <= 23:
        raise ScheduleInvalid(_("Choose an hour from 0 to 23."), code="bad_hour")
    emails = _recipients(recipients)
    with transaction.atomic():
        schedule = ScheduledReport.objects.create(
            report=report, created_by=user, format=fmt, recipients=emails, cadence=cadence, send_hour=send_hour
        )
        audit_record(
            action="report.scheduled",
            target=schedule,
            actor=user,
            brand_id=report.brand_id,
            after={"report": report.pk, "format": fmt, "recipients": emails, "cadence": cadence},
        )
    return schedule


# --- Periods ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DuePeriod:
    key: str
    start: date
    end: date


def last_complete_period(*, cadence: str, today: date) -> DuePeriod:
    """The most recent period that ended before `today` (a local date of the brand)."""
    if cadence == ScheduledReport.Cadence.DAILY:
        day = today - timedelta(days=1)
        return DuePeriod(day.isoformat(), day, day)
    if cadence == ScheduledReport.Cadence.WEEKLY:
        end = today - timedelta(days=today.weekday() + 1)
        start = end - timedelta(days=6)
        year, week, _weekday = start.isocalendar()
        return DuePeriod(f"{year}-W{week:02d}", start, end)
    end = today.replace(day=1) - timedelta(days=1)
    return DuePeriod(end.strftime("%Y-%m"), end.replace(day=1), end)


def schedule_due_period(*, schedule: ScheduledReport, now: datetime) -> DuePeriod | None:
    """The period to send now, or None: the last complete period in the brand's time zone,
    once the local clock passed the schedule's hour on the day after it ended."""
    tz = schedule.report.brand.tz
    local = timezone.localtime(now, tz)
    period = last_complete_period(cadence=schedule.cadence, today=local.date())
    send_from = datetime.combine(period.end + timedelta(days=1), time(hour=schedule.send_hour), tzinfo=tz)
    if local < send_from or schedule.last_sent_period == period.key:
        return None
    return period


def scheduled_reports_due(*, now: datetime | None = None) -> list[tuple[int, str]]:
    """(schedule id, period key) pairs that still have to be sent."""
    now = now or timezone.now()
    due = []
    for schedule in ScheduledReport.objects.filter(is_active=True).select_related("report__brand"):
        period = schedule_due_period(schedule=schedule, now=now)
        if period is None:
            continue
        if ReportDelivery.objects.filter(
            schedule=schedule, period=period.key, status=ReportDelivery.Status.SENT
        ).exists():
            continue
        due.append((schedule.pk, period.key))
    return due


def _period_from_key(*, cadence: str, key: str) -> DuePeriod:
    if cadence == ScheduledReport.Cadence.DAILY:
        day = date.fromisoformat(key)
        return DuePeriod(key, day, day)
    if cadence == ScheduledReport.Cadence.WEEKLY:
        year, week = key.split("-W")
        start = date.fromisocalendar(int(year), int(week), 1)
        return DuePeriod(key, start, start + timedelta(days=6))
    start = date.fromisoformat(f"{key}-01")
    end = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return DuePeriod(key, start, end)


def _check_schedule_still_allowed(schedule: ScheduledReport) -> None:
    """Refuse a schedule whose report its owner or its creator may no longer send: both must
    still see the brand, and a creator other than the owner only while the report is shared
    (the rule `scheduled_report_create` applied when the schedule was made)."""
    report = schedule.report
    creator = schedule.created_by
    # The owner must still see the brand: a revoked manager's schedule stops working.
    _check_brand(report.owner, report.brand_id)
    if creator is None:
        raise PermissionRefused(_("The person who scheduled this report no longer exists."))
    _check_brand(creator, report.brand_id)
    if creator.pk != report.owner_id and not report.is_shared and not creator.is_superuser:
        raise PermissionRefused(_("This report is no longer shared with the person who scheduled it."))


def scheduled_report_send(*, schedule_id: int, period_key: str) -> ReportDelivery | None:
    """Send one period of a schedule, exactly once: the (schedule, period) delivery row is
    claimed first; a period already sent is skipped, a failed one is retried. Runs in the
    worker; the email is sent synchronously so `sent` means sent."""

    schedule = ScheduledReport.objects.select_related("report__brand", "report__owner", "created_by").get(
        pk=schedule_id
    )
    if not schedule.is_active:
        return None
    try:
        with transaction.atomic():
            delivery, created = ReportDelivery.objects.get_or_create(schedule=schedule, period=period_key)
    except IntegrityError:
        return None  # another worker claimed it this instant
    if not created:
        claimed = ReportDelivery.objects.filter(pk=delivery.pk, status=ReportDelivery.Status.FAILED).update(
            status=ReportDelivery.Status.SENDING, error=""
        )
        if not claimed:
            return delivery  # sent, or being sent by someone else
    report = schedule.report
    brand = report.brand
    period = _period_from_key(cadence=schedule.cadence, key=period_key)
    try:
        _check_schedule_still_allowed(schedule)
        spec = spec_from_input(data=report.spec, brand_id=brand.pk).with_dates(
            date_from=period.start, date_to=period.end
        )
        result = report_run(spec=spec)
        header, body = result.table(currency=brand.currency)
        content = export_bytes(schedule.format, header, body)
        filename = f"{brand.slug}-{report.name[:40]}-{period_key}.{schedule.format}".replace(" ", "_").replace("/", "-")
        email_deliver(
            to=list(schedule.recipients),
            template="reports_scheduled",
            context={
                "report": report.name,
                "brand": brand.name,
                "period": period_key,
                "date_from": period.start.isoformat(),
                "date_to": period.end.isoformat(),
                "time_zone": brand.time_zone,
                "rows": len(body),
                "format": schedule.format.upper(),
                "owner": str(report.owner),
                "cadence": str(schedule.get_cadence_display()),
            },
            language=getattr(report.owner, "preferred_language", None) or "es",
            attachments=[(filename, content, EXPORT_CONTENT_TYPES[schedule.format].split(";")[0])],
        )
    except Exception as exc:
        logger.exception("scheduled report %s period %s failed", schedule.pk, period_key)
        ReportDelivery.objects.filter(pk=delivery.pk).update(status=ReportDelivery.Status.FAILED, error=str(exc)[:2000])
        delivery.refresh_from_db()
        return delivery
    now = timezone.now()
    with transaction.atomic():
        ReportDelivery.objects.filter(pk=delivery.pk).update(
            status=ReportDelivery.Status.SENT, sent_at=now, rows=len(body)
        )
        ScheduledReport.objects.filter(pk=schedule.pk).update(last_sent_period=period_key)
        audit_record(
            action="report.delivered",
            target=schedule,
            brand_id=brand.pk,
            after={"period": period_key, "recipients": list(schedule.recipients), "rows": len(body)},
        )
    delivery.refresh_from_db()
    return delivery
