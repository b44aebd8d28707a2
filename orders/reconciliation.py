"""Daily reconciliation of a brand's orders against VTEX (flow 7).

For one day in the brand's time zone: list the orders VTEX created that day (`f_creationDate`,
100 per page; a window over 30 pages is split in halves) and the orders with return invoices
(`f_hasInputInvoice=true`, over a look-back period, because a return comes weeks after the
sale); fetch every order that differs from ours (missing, other status, other value) and every
order with returns, and reconcile it with the same service the hook uses; fetch ours that VTEX
did not list. Everything found is stored on the run as a discrepancy, resolved or not; managers
get an email when something is left unresolved. Running it again changes nothing: the second
run finds nothing different, and re-applying an unchanged order is a no-op.

An order that cannot be reconciled (VTEX refuses it, its document does not parse, the ledger
refuses a posting: any `ApplicationError`) is a FETCH_FAILED discrepancy and the run goes on.
Anything else ends the run as FAILED (never left RUNNING), managers are told, and the error is
raised again; the scheduler runs a day whose scheduled run failed again.
"""

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import MANAGER
from brands.models import Brand
from core.errors import ApplicationError
from integrations.email import email_send
from integrations.vtex.client import LIST_ORDERS_MAX_PAGE, LIST_ORDERS_MAX_PER_PAGE, VTEXClient
from integrations.vtex.errors import VTEXError
from integrations.vtex.types import OrderSummary
from orders.models import Discrepancy, Order, ReconciliationRun
from orders.services import OrderNotInVTEX, SyncResult, order_sync

logger = logging.getLogger(__name__)

WINDOW_CAPACITY = LIST_ORDERS_MAX_PAGE * LIST_ORDERS_MAX_PER_PAGE  # 3000 orders per query
MIN_WINDOW = timedelta(seconds=1)


def day_window(*, brand: Brand, day: date) -> tuple[datetime, datetime]:
    """[start, end) of `day` in the brand's time zone, in UTC."""
    start = datetime.combine(day, time.min, tzinfo=brand.tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=brand.tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def orders_list_window(
    *, client: VTEXClient, start: datetime, end: datetime, extra: dict[str, str] | None = None
) -> Iterator[OrderSummary]:
    """Every order VTEX lists as created in [start, end), splitting the window in halves while
    it holds more than 30 pages of 100."""
    last = end - timedelta(milliseconds=1)
    first_page = client.orders_list(
        created_from=start, created_to=last, page=1, per_page=LIST_ORDERS_MAX_PER_PAGE, extra=extra
    )
    if first_page.total > WINDOW_CAPACITY and end - start > MIN_WINDOW:
        middle = start + (end - start) / 2
        yield from orders_list_window(client=client, start=start, end=middle, extra=extra)
        yield from orders_list_window(client=client, start=middle, end=end, extra=extra)
        return
    yield from first_page.orders
    pages = min(first_page.pages, LIST_ORDERS_MAX_PAGE)
    for page in range(2, pages + 1):
        result = client.orders_list(
            created_from=start, created_to=last, page=page, per_page=LIST_ORDERS_MAX_PER_PAGE, extra=extra
        )
        if not result.orders:
            return
        yield from result.orders


@dataclass
class _Counts:
    fetched: int = 0
    missing: int = 0
    mismatched: int = 0
    orphaned: int = 0
    unresolved: int = 0


def reconciliation_run(
    *,
    brand: Brand,
    day: date,
    trigger: str = ReconciliationRun.Trigger.MANUAL,
    progress: Callable[[ReconciliationRun], None] | None = None,
) -> ReconciliationRun | None:
    """Reconcile `day` (brand time zone). A scheduled run happens once per brand and day
    (returns None when it already ran); manual runs can be repeated."""
    try:
        with transaction.atomic():
            run = ReconciliationRun.objects.create(
                brand=brand,
                day=day,
                trigger=trigger,
                status=ReconciliationRun.Status.RUNNING,
                started_at=timezone.now(),
            )
    except IntegrityError:
        return None
    counts = _Counts()
    try:
        _reconcile(run=run, counts=counts, progress=progress)
    except VTEXError as exc:
        # Listing the day failed (VTEX down, credentials revoked): nothing to reconcile with.
        logger.error("reconciliation of %s %s failed: %s", brand.slug, day, exc)
        _finish(run, counts, status=ReconciliationRun.Status.FAILED, error=str(exc))
    except Exception as exc:
        # A bug or an infrastructure error (database, time limit): never leave the run
        # RUNNING, so the day can be reconciled again, and let the worker see the error.
        logger.exception("reconciliation of %s %s crashed", brand.slug, day)
        _finish(run, counts, status=ReconciliationRun.Status.FAILED, error=f"{type(exc).__name__}: {exc}")
        raise
    else:
        _finish(run, counts, status=ReconciliationRun.Status.DONE)
        reconciliation_recheck_after_lag(run)
    return run


def reconciliation_recheck_seconds(run: ReconciliationRun) -> float | None:
    """Seconds until VTEX's order list surely shows every order of the run's day, when the run
    listed the day before that (VTEX's List orders is an index that lags by a few minutes:
    orders created just before midnight may be missing from it); None when it listed late enough."""
    _start, end = day_window(brand=run.brand, day=run.day)
    settled = end + timedelta(seconds=settings.VTEX_ORDERS_LIST_LAG_SECONDS)
    started = run.started_at or timezone.now()
    if started >= settled:
        return None
    return (settled - started).total_seconds()


def reconciliation_recheck_after_lag(run: ReconciliationRun) -> bool:
    """Reconcile the run's day once more after the list's lag has passed, if the run came
    too early to see the whole day. Queued by name: orders.tasks imports this module."""
    wait = reconciliation_recheck_seconds(run)
    if wait is None:
        return False
    current_app.send_task(
        "orders.tasks.reconcile_brand_task",
        kwargs={"brand_id": run.brand_id, "day": run.day.isoformat(), "trigger": ReconciliationRun.Trigger.MANUAL},
        countdown=wait,
    )
    logger.info("reconciliation of %s %s runs again in %.0f s (VTEX's list lags)", run.brand.slug, run.day, wait)
    return True


def _finish(run: ReconciliationRun, counts: _Counts, *, status: str, error: str = "") -> None:
    run.status = status
    run.error = error[:2000]
    run.fetched = counts.fetched
    run.missing = counts.missing
    run.mismatched = counts.mismatched
    run.orphaned = counts.orphaned
    run.unresolved = counts.unresolved
    run.finished_at = timezone.now()
    run.save()
    if run.unresolved or run.status == ReconciliationRun.Status.FAILED:
        _notify_managers(run)


def _reconcile(
    *, run: ReconciliationRun, counts: _Counts, progress: Callable[[ReconciliationRun], None] | None
) -> None:
    brand = run.brand
    # One client for the whole run: every Get order reuses it (and its pooled session).
    client = VTEXClient.for_brand(brand)
    start, end = day_window(brand=brand, day=run.day)
    listed = {summary.order_id: summary for summary in orders_list_window(client=client, start=start, end=end)}
    lookback = timedelta(days=settings.ORDERS_RETURNS_LOOKBACK_DAYS)
    with_returns = [
        summary.order_id
        for summary in orders_list_window(
            client=client, start=start - lookback, end=end, extra={"f_hasInputInvoice": "true"}
        )
    ]
    ours = {
        row[0]: row[1:]
        for row in Order.objects.filter(brand=brand, created_in_vtex_at__gte=start, created_in_vtex_at__lt=end)
        .exclude(snapshot_hash="")
        .values_list("vtex_order_id", "status", "value_cents")
    }
    orphans = [order_id for order_id in ours if order_id not in listed]
    run.listed = len(listed)
    run.progress_total = len(listed) + len(with_returns) + len(orphans)
    _progress(run, progress)

    step = 0
    for order_id, summary in listed.items():
        step += 1
        mine = ours.get(order_id)
        if mine is None:
            kind = Discrepancy.Kind.MISSING
        elif mine[0] != summary.status:
            kind = Discrepancy.Kind.STATUS
        elif mine[1] != summary.total_value_cents:
            kind = Discrepancy.Kind.VALUE
        else:
            kind = None
        if kind is not None:
            theirs = {"status": summary.status, "value_cents": summary.total_value_cents}
            ours_json = {"status": mine[0], "value_cents": mine[1]} if mine else {}
            _fix(run=run, client=client, counts=counts, order_id=order_id, kind=kind, ours=ours_json, theirs=theirs)
        if step % 50 == 0:
            _progress(run, progress, done=step)

    for order_id in dict.fromkeys(with_returns):
        step += 1
        try:
            result = _sync(run=run, client=client, counts=counts, order_id=order_id)
        except ApplicationError as exc:
            _discrepancy(run, counts, order_id, Discrepancy.Kind.FETCH_FAILED, resolved=False, note=str(exc))
            continue
        if result.changed:
            # We had missed the return (hooks do not fire for them): now applied.
            _discrepancy(run, counts, order_id, Discrepancy.Kind.RETURN, resolved=True, note="return applied")
            counts.mismatched += 1
        if step % 50 == 0:
            _progress(run, progress, done=step)

    for order_id in orphans:
        step += 1
        try:
            _sync(run=run, client=client, counts=counts, order_id=order_id)
        except OrderNotInVTEX:
            counts.orphaned += 1
            _discrepancy(
                run,
                counts,
                order_id,
                Discrepancy.Kind.ORPHAN,
                resolved=False,
                ours={"status": ours[order_id][0], "value_cents": ours[order_id][1]},
                note="VTEX does not know this order",
            )
            continue
        except ApplicationError as exc:
            _discrepancy(run, counts, order_id, Discrepancy.Kind.FETCH_FAILED, resolved=False, note=str(exc))
            continue
        counts.orphaned += 1
        _discrepancy(
            run,
            counts,
            order_id,
            Discrepancy.Kind.ORPHAN,
            resolved=True,
            ours={"status": ours[order_id][0], "value_cents": ours[order_id][1]},
            note="not in VTEX's list (its index lags); Get order found it and we reconciled",
        )
    _progress(run, progress, done=step)


def _sync(*, run: ReconciliationRun, client: VTEXClient, counts: _Counts, order_id: str) -> SyncResult:
    """Fetch and reconcile one order. Raises the `ApplicationError` that refused it (VTEX, a
    document that does not parse, the ledger); callers record it as a discrepancy."""
    result = order_sync(brand=run.brand, vtex_order_id=order_id, source="reconcile", client=client)
    counts.fetched += 1
    return result


def _fix(
    *,
    run: ReconciliationRun,
    client: VTEXClient,
    counts: _Counts,
    order_id: str,
    kind: str,
    ours: dict[str, Any],
    theirs: dict[str, Any],
) -> None:
    try:
        result = _sync(run=run, client=client, counts=counts, order_id=order_id)
    except ApplicationError as exc:
        _discrepancy(run, counts, order_id, Discrepancy.Kind.FETCH_FAILED, resolved=False, note=str(exc), theirs=theirs)
        return
    if kind == Discrepancy.Kind.MISSING:
        counts.missing += 1
    else:
        counts.mismatched += 1
    order: dict[str, Any] = dict(Order.objects.filter(pk=result.order_id).values("status", "value_cents").first() or {})
    # The list is an index that lags; Get order is the truth. When the list still says
    # otherwise after we reconciled to Get order, a person should look.
    resolved = order.get("status") == theirs["status"] and order.get("value_cents") == theirs["value_cents"]
    note = "reconciled from Get order" if resolved else "Get order differs from VTEX's list; check in VTEX"
    _discrepancy(
        run, counts, order_id, kind, resolved=resolved, ours=ours, theirs={**theirs, "now_ours": order}, note=note
    )


def _discrepancy(
    run: ReconciliationRun,
    counts: _Counts,
    order_id: str,
    kind: str,
    *,
    resolved: bool,
    note: str = "",
    ours: dict[str, Any] | None = None,
    theirs: dict[str, Any] | None = None,
) -> None:
    Discrepancy.objects.update_or_create(
        run=run,
        vtex_order_id=order_id,
        kind=kind,
        defaults={"resolved": resolved, "note": note[:300], "ours": ours or {}, "theirs": theirs or {}},
    )
    if not resolved:
        counts.unresolved += 1


def _progress(
    run: ReconciliationRun, callback: Callable[[ReconciliationRun], None] | None, done: int | None = None
) -> None:
    if done is not None:
        run.progress_done = done
    ReconciliationRun.objects.filter(pk=run.pk).update(
        progress_done=run.progress_done, progress_total=run.progress_total, listed=run.listed
    )
    if callback is not None:
        callback(run)


def _notify_managers(run: ReconciliationRun) -> None:
    recipients = list(
        User.objects.filter(is_active=True, is_staff=True, groups__name=MANAGER, brand_access__brand=run.brand)
        .values_list("email", flat=True)
        .distinct()
    )
    email_send(
        to=recipients,
        template="orders_reconciliation",
        context={
            "brand": run.brand.name,
            "day": run.day.isoformat(),
            "status": run.status,
            "unresolved": run.unresolved,
            "missing": run.missing,
            "mismatched": run.mismatched,
            "orphaned": run.orphaned,
            "error": run.error,
            "run_id": run.pk,
        },
    )


def reconciliation_due_brands(*, now: datetime) -> list[tuple[int, date]]:
    """Brands where it is now the reconciliation hour (local), with the local yesterday, that
    have not had their scheduled run for that day. A scheduled run that FAILED does not count:
    later in the same local day the dispatcher starts it again, up to
    ORDERS_RECONCILE_MAX_ATTEMPTS scheduled runs per day (failures mail managers each time)."""
    hour = settings.ORDERS_RECONCILE_LOCAL_HOUR
    max_attempts = settings.ORDERS_RECONCILE_MAX_ATTEMPTS
    due = []
    for brand in Brand.objects.filter(is_active=True).order_by("pk"):
        local = now.astimezone(brand.tz)
        if local.hour < hour:
            continue
        day = local.date() - timedelta(days=1)
        scheduled = ReconciliationRun.objects.filter(brand=brand, day=day, trigger=ReconciliationRun.Trigger.SCHEDULE)
        if scheduled.exclude(status=ReconciliationRun.Status.FAILED).exists():
            continue
        failed = scheduled.count()
        if (local.hour == hour and failed == 0) or 0 < failed < max_attempts:
            due.append((brand.pk, day))
    return due
