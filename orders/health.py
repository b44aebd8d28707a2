"""Health of the VTEX order flow (core.health): is the hook registered, do notifications still
arrive, are they processed, did the nightly reconciliation run. Thresholds are those of
compose/prometheus/alerts.yml (tests/foundation/test_alerts.py keeps them equal)."""

from datetime import date, datetime, timedelta

from django.db.models import Count, Max, Min
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.health import Finding, Gauge, ProbeResult, State
from orders.models import HookEvent, HookRegistration, ReconciliationRun

HOOK_SILENCE_HOURS = 6  # alert VTEXHookSilent
# Notifications are "expected" when the last week brought at least one per silence window on
# average: a store that sells a few times a week may be quiet for a day without anything wrong.
HOOK_EXPECTED_PER_WEEK = 7 * 24 // HOOK_SILENCE_HOURS
HOOK_PENDING_MAX_SECONDS = 30 * 60  # alert VTEXHookEventsStuck
RECONCILIATION_LOOKBACK_DAYS = 7  # alert ReconciliationDayFailed counts failed days this far back

SILENCE = Gauge("mgm_vtex_hook_silence_seconds", "Seconds since the brand's last VTEX notification", ("brand",))
EXPECTED = Gauge(
    "mgm_vtex_hooks_expected",
    "1 when the brand's last week had at least one VTEX notification per silence window on average",
    ("brand",),
)
WEEK = Gauge("mgm_vtex_hook_events_7d", "VTEX notifications received in the last 7 days", ("brand",))
REGISTERED = Gauge(
    "mgm_vtex_hook_registered",
    "1 when the daily check found (or restored) the hook in VTEX, 0 when it failed",
    ("brand",),
)
RESTORED = Gauge(
    "mgm_vtex_hook_restored_total",
    "Times the daily check found the hook missing or changed in VTEX and restored it",
    ("brand",),
    kind="counter",
)
PENDING_AGE = Gauge(
    "mgm_vtex_hook_events_pending_oldest_seconds", "Age of the oldest VTEX notification not processed yet", ()
)
FAILED_EVENTS = Gauge("mgm_vtex_hook_events_failed", "VTEX notifications whose processing failed", ("brand",))
FAILED_DAYS = Gauge(
    "mgm_reconciliation_failed_days",
    "Days of the last week whose reconciliation failed and was not redone successfully",
    ("brand",),
)


def orders_probe() -> ProbeResult:
    result = ProbeResult()
    now = timezone.now()
    _hooks(result, now)
    _pending(result, now)
    _reconciliation(result, now)
    return result


def _hooks(result: ProbeResult, now: datetime) -> None:
    registrations = list(
        HookRegistration.objects.filter(brand__is_active=True).select_related("brand").order_by("brand__slug")
    )
    week = {
        row["brand_id"]: row
        for row in HookEvent.objects.filter(received_at__gte=now - timedelta(days=7))
        .values("brand_id")
        .annotate(n=Count("id"), last=Max("received_at"))
    }
    for registration in registrations:
        slug = registration.brand.slug
        recent = week.get(registration.brand_id)
        last = recent["last"] if recent else _last_received(registration.brand_id)
        since = last or registration.configured_at or registration.created_at
        silence = max(0.0, (now - since).total_seconds())
        count = recent["n"] if recent else 0
        expected = count >= HOOK_EXPECTED_PER_WEEK
        registered = registration.last_check_result != "error"
        result.read(SILENCE, silence, slug)
        result.read(WEEK, count, slug)
        result.read(EXPECTED, 1 if expected else 0, slug)
        result.read(REGISTERED, 1 if registered else 0, slug)
        result.read(RESTORED, registration.restored_count, slug)
        if expected and silence > HOOK_SILENCE_HOURS * 3600:
            result.find(
                Finding(
                    _("VTEX notifications stopped"),
                    State.CRITICAL,
                    _(
                        "No notification for %(hours)s hours, though the last week brought %(count)s. "
                        "Check the hook in VTEX (Orders → Hook) and the VTEX status page."
                    )
                    % {"hours": int(silence // 3600), "count": count},
                    "VTEXHookSilent",
                    slug,
                )
            )
        if not registered:
            result.find(
                Finding(
                    _("VTEX hook lost"),
                    State.CRITICAL,
                    _("The daily check could not find or restore the hook: %(error)s")
                    % {"error": registration.last_error[:200] or "?"},
                    "VTEXHookLost",
                    slug,
                )
            )
        elif registration.last_check_result == "restored" and registration.last_checked_at:
            result.find(
                Finding(
                    _("VTEX hook restored"),
                    State.WARNING,
                    _(
                        "The hook was missing or changed in VTEX and was restored on %(when)s; the nightly "
                        "reconciliation brings in the orders of the gap."
                    )
                    % {"when": date_format(timezone.localtime(registration.last_checked_at), "SHORT_DATETIME_FORMAT")},
                    "VTEXHookRestored",
                    slug,
                )
            )


def _last_received(brand_id: int) -> datetime | None:
    return (
        HookEvent.objects.filter(brand_id=brand_id)
        .order_by("-received_at")
        .values_list("received_at", flat=True)
        .first()
    )


def _pending(result: ProbeResult, now: datetime) -> None:
    oldest = HookEvent.objects.filter(status=HookEvent.Status.PENDING).aggregate(oldest=Min("received_at"))["oldest"]
    age = max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
    result.read(PENDING_AGE, age)
    if age > HOOK_PENDING_MAX_SECONDS:
        result.find(
            Finding(
                _("VTEX notifications waiting"),
                State.CRITICAL,
                _("The oldest notification has waited %(minutes)s minutes to be processed: are the workers running?")
                % {"minutes": int(age // 60)},
                "VTEXHookEventsStuck",
            )
        )
    failed = (
        HookEvent.objects.filter(status=HookEvent.Status.FAILED, brand__is_active=True)
        .values("brand__slug")
        .annotate(n=Count("id"))
        .order_by("brand__slug")
    )
    for row in failed:
        result.read(FAILED_EVENTS, row["n"], row["brand__slug"])
        result.find(
            Finding(
                _("VTEX notifications failed"),
                State.WARNING,
                ngettext(
                    "%(count)s notification could not be processed; see VTEX notifications in the admin.",
                    "%(count)s notifications could not be processed; see VTEX notifications in the admin.",
                    row["n"],
                )
                % {"count": row["n"]},
                "VTEXHookEventsFailed",
                row["brand__slug"],
            )
        )


def _reconciliation(result: ProbeResult, now: datetime) -> None:
    since = timezone.localdate(now) - timedelta(days=RECONCILIATION_LOOKBACK_DAYS)
    days: dict[tuple[str, date], set[str]] = {}
    runs = ReconciliationRun.objects.filter(day__gte=since, brand__is_active=True).values_list(
        "brand__slug", "day", "status"
    )
    for slug, day, status in runs:
        days.setdefault((slug, day), set()).add(status)
    failed: dict[str, list[date]] = {}
    brands: set[str] = set()
    for (slug, day), statuses in days.items():
        brands.add(slug)
        if ReconciliationRun.Status.FAILED in statuses and ReconciliationRun.Status.DONE not in statuses:
            failed.setdefault(slug, []).append(day)
    for slug in sorted(brands):
        result.read(FAILED_DAYS, len(failed.get(slug, [])), slug)
    for slug, failed_days in sorted(failed.items()):
        result.find(
            Finding(
                _("Reconciliation failed"),
                State.WARNING,
                _("The reconciliation of %(days)s failed and was not run again successfully.")
                % {"days": ", ".join(date_format(day, "SHORT_DATE_FORMAT") for day in sorted(failed_days))},
                "ReconciliationDayFailed",
                slug,
            )
        )
