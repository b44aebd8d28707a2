"""Operator jobs: what used to need `manage.py`, started from the back office and run by a
worker (backoffice.tasks) through the owning context's services, with progress and a result.

Results are lists of lines people read on the job's page, kept as data ({"text", "args"}) and
translated when shown, so they follow the reader's language."""

from datetime import date
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from audit.services import audit_record
from backoffice.locks import operator_job_lock
from backoffice.models import OperatorJob
from brands.models import Brand
from core.errors import ApplicationError
from orders.hook_config import hook_config_ensure, hook_config_register
from orders.models import HookEvent, HookRegistration, ReconciliationRun
from orders.reconciliation import reconciliation_run
from orders.services import orders_reprocess_plan
from payments.integrity import ledger_integrity_run
from payments.selectors import ledger_verify
from reports.rollups import rollups_rebuild

# The longest period one rebuild covers: a year of days, chunked by reports.rollups.
ROLLUPS_MAX_DAYS = 366


def _line(text: str, **args: Any) -> dict[str, Any]:
    return {"text": text, "args": {k: str(v) for k, v in args.items()}}


def hook_url_default(*, brand: Brand) -> str:
    """Where VTEX should send the brand's order notifications: our public hook endpoint."""
    return f"{settings.SITE_URL}{reverse('api:vtex-order-hook', kwargs={'brand_slug': brand.slug})}"


def operator_job_start(*, kind: str, actor: Any, brand: Brand | None = None, params: dict[str, Any]) -> OperatorJob:
    """Queue one job (audited); a worker runs it after commit. The caller checked that `actor`
    may start `kind` for `brand` (backoffice.models.KIND_PERMISSIONS, brand scoping)."""
    if kind != OperatorJob.Kind.LEDGER_VERIFY and brand is None:
        raise ApplicationError(gettext("Choose a brand."))
    from backoffice.tasks import operator_job_task  # noqa: PLC0415 tasks↔services cycle inside the app

    with transaction.atomic():
        job = OperatorJob.objects.create(kind=kind, brand=brand, params=params, requested_by=actor)
        audit_record(
            action="backoffice.job_started",
            target=job,
            actor=actor,
            brand_id=brand.pk if brand else None,
            after={"kind": kind, "params": params},
        )
        transaction.on_commit(lambda: operator_job_task.delay(job_id=job.pk))
    return job


def _progress(job: OperatorJob, done: int, total: int) -> None:
    OperatorJob.objects.filter(pk=job.pk).update(progress_done=done, progress_total=total)


def _hook_check(job: OperatorJob) -> list[dict[str, Any]]:
    assert job.brand is not None
    registration = HookRegistration.objects.select_related("brand").filter(brand=job.brand).first()
    last = HookEvent.objects.filter(brand=job.brand).aggregate(at=Max("received_at"))["at"]
    lines = []
    if registration is None:
        lines.append(_line(gettext_noop("No hook is registered for this brand yet: register it first.")))
    else:
        outcome = hook_config_ensure(registration=registration)
        registration.refresh_from_db()
        messages = {
            "ok": gettext_noop("VTEX has our hook, as registered (%(url)s)."),
            "restored": gettext_noop("The hook was missing or changed in VTEX; it was registered again (%(url)s)."),
            "error": gettext_noop("VTEX could not be asked: %(error)s"),
        }
        lines.append(_line(messages[outcome], url=registration.url, error=registration.last_error))
        if outcome == "error":
            raise _JobFailed(lines)
    lines.append(
        _line(
            gettext_noop("Last notification received: %(at)s."), at=timezone.localtime(last, job.brand.tz).isoformat()
        )
        if last
        else _line(gettext_noop("No notification received from VTEX yet."))
    )
    return lines


def _hook_register(job: OperatorJob) -> list[dict[str, Any]]:
    assert job.brand is not None
    url = job.params.get("url") or hook_url_default(brand=job.brand)
    registration = hook_config_register(brand=job.brand, url=url, actor=job.requested_by)
    return [_line(gettext_noop("VTEX now sends this brand's orders to %(url)s."), url=registration.url)]


def _reconcile_day(job: OperatorJob) -> list[dict[str, Any]]:
    assert job.brand is not None
    day = date.fromisoformat(job.params["day"])

    def progress(run: ReconciliationRun) -> None:
        _progress(job, run.progress_done, run.progress_total)

    run = reconciliation_run(brand=job.brand, day=day, trigger=ReconciliationRun.Trigger.MANUAL, progress=progress)
    assert run is not None  # manual runs always run
    run.refresh_from_db()
    lines = [
        _line(
            gettext_noop(
                "%(listed)s orders listed by VTEX; %(missing)s missed, %(mismatched)s different, "
                "%(unresolved)s left for a person."
            ),
            listed=run.listed,
            missing=run.missing,
            mismatched=run.mismatched,
            unresolved=run.unresolved,
        )
    ]
    if run.status == ReconciliationRun.Status.FAILED:
        lines.append(_line(gettext_noop("VTEX could not be asked: %(error)s"), error=run.error))
        raise _JobFailed(lines)
    return lines


def _ledger_verify(job: OperatorJob) -> list[dict[str, Any]]:
    # Every brand: the same check as the nightly one, recorded for the health panel; one brand:
    # that brand's invariants only.
    problems = ledger_integrity_run() if job.brand is None else ledger_verify(brand=job.brand)
    _progress(job, 1, 1)
    if problems:
        raise _JobFailed(
            [_line(gettext_noop("%(n)s problems found in the ledger:"), n=len(problems))]
            + [_line("%(problem)s", problem=p) for p in problems[:50]]
        )
    return [_line(gettext_noop("The ledger balances: every invariant holds."))]


def _rollups_rebuild(job: OperatorJob) -> list[dict[str, Any]]:
    assert job.brand is not None
    start, end = date.fromisoformat(job.params["date_from"]), date.fromisoformat(job.params["date_to"])
    written = rollups_rebuild(
        brand=job.brand, date_from=start, date_to=end, progress=lambda done, total: _progress(job, done, total)
    )
    return [
        _line(
            gettext_noop("Reports rebuilt from %(start)s to %(end)s: %(rows)s rows written."),
            start=start.isoformat(),
            end=end.isoformat(),
            rows=written,
        )
    ]


#: Stored orders re-applied by one worker task (a batch of one lane: orders.services.batch).
REPROCESS_CHUNK_SIZE = 200


def _reprocess_orders(job: OperatorJob) -> list[dict[str, Any]]:
    """Check the brand's stored orders against their stored VTEX documents; fan those that
    differ out to the workers in chunks of one lane each (`operator_job_chunk_task`), which
    report back through `operator_job_chunk_done`. Nothing differs: finished at once."""
    assert job.brand is not None
    report, chunks = orders_reprocess_plan(brand=job.brand, chunk_size=REPROCESS_CHUNK_SIZE)
    if not chunks:
        _progress(job, report.checked, report.checked)
        return [
            _line(
                gettext_noop("%(checked)s orders checked: every one matches its VTEX document."), checked=report.checked
            )
        ]
    from backoffice.tasks import operator_job_chunk_task  # noqa: PLC0415 tasks↔services cycle inside the app

    with transaction.atomic():
        OperatorJob.objects.filter(pk=job.pk).update(
            progress_done=0,
            progress_total=report.differing,
            params={
                **job.params,
                "checked": report.checked,
                "chunks": len(chunks),
                "done_chunks": [],
                "reapplied": 0,
                "failed": 0,
            },
        )
        for index, chunk in enumerate(chunks):
            transaction.on_commit(
                lambda index=index, chunk=chunk: operator_job_chunk_task.delay(  # type: ignore[misc]
                    job_id=job.pk, chunk=index, lane=chunk.lane, order_ids=chunk.order_ids
                )
            )
    raise _JobContinues


def operator_job_chunk_done(*, job_id: int, chunk: int, orders: int, reapplied: int, failed: int) -> OperatorJob:
    """One chunk of a fanned-out job is done: count it once (a redelivered task's second report
    is ignored), and finish the job with the last one."""
    with transaction.atomic():
        job = operator_job_lock(pk=job_id)
        done_chunks = list(job.params.get("done_chunks") or [])
        if job.status != OperatorJob.Status.RUNNING or chunk in done_chunks:
            return job
        done_chunks.append(chunk)
        counts = {
            "reapplied": int(job.params.get("reapplied") or 0) + reapplied,
            "failed": int(job.params.get("failed") or 0) + failed,
        }
        job.params = {**job.params, **counts, "done_chunks": done_chunks}
        job.progress_done = min(job.progress_total, job.progress_done + orders)
        if len(done_chunks) < int(job.params.get("chunks") or 0):
            job.save(update_fields=["params", "progress_done"])
            return job
        lines = [
            _line(
                gettext_noop(
                    "%(checked)s orders checked, %(differing)s differed from their VTEX document: "
                    "%(reapplied)s re-applied, %(failed)s failed."
                ),
                checked=job.params.get("checked", 0),
                differing=job.progress_total,
                reapplied=counts["reapplied"],
                failed=counts["failed"],
            )
        ]
        if counts["failed"]:
            lines.append(
                _line(
                    gettext_noop("The orders that failed are in the worker's log; running the job again retries them.")
                )
            )
        job.status = OperatorJob.Status.FAILED if counts["failed"] else OperatorJob.Status.DONE
        job.progress_done = job.progress_total
        job.result = lines
        job.finished_at = timezone.now()
        job.save(update_fields=["params", "progress_done", "status", "result", "finished_at"])
        _audit_finished(job, lines=lines, error="")
    return job


class _JobContinues(Exception):
    """The job goes on in tasks of its own (a fanned-out job): leave it running."""


class _JobFailed(Exception):
    def __init__(self, lines: list[dict[str, Any]]) -> None:
        super().__init__("job failed")
        self.lines = lines


_RUNNERS = {
    OperatorJob.Kind.HOOK_CHECK: _hook_check,
    OperatorJob.Kind.HOOK_REGISTER: _hook_register,
    OperatorJob.Kind.RECONCILE_DAY: _reconcile_day,
    OperatorJob.Kind.LEDGER_VERIFY: _ledger_verify,
    OperatorJob.Kind.ROLLUPS_REBUILD: _rollups_rebuild,
    OperatorJob.Kind.REPROCESS_ORDERS: _reprocess_orders,
}


def operator_job_run(*, job_id: int) -> OperatorJob:
    """Run a queued job once (a retried task finds it running or finished and leaves it)."""
    claimed = OperatorJob.objects.filter(pk=job_id, status=OperatorJob.Status.QUEUED).update(
        status=OperatorJob.Status.RUNNING
    )
    job = OperatorJob.objects.select_related("brand", "requested_by").get(pk=job_id)
    if not claimed:
        return job
    status, error = OperatorJob.Status.DONE, ""
    try:
        lines = _RUNNERS[OperatorJob.Kind(job.kind)](job)
    except _JobContinues:
        job.refresh_from_db()
        return job
    except _JobFailed as failed:
        status, lines = OperatorJob.Status.FAILED, failed.lines
    except ApplicationError as exc:
        status, lines, error = OperatorJob.Status.FAILED, [], str(exc.message)
    except Exception as exc:
        # A bug or an outage: the job must not stay "running" forever; the worker logs it too.
        OperatorJob.objects.filter(pk=job.pk).update(
            status=OperatorJob.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=timezone.now()
        )
        raise
    with transaction.atomic():
        OperatorJob.objects.filter(pk=job.pk).update(
            status=status, result=lines, error=error, finished_at=timezone.now()
        )
        job.refresh_from_db()
        _audit_finished(job, lines=lines, error=error)
    return job


def _audit_finished(job: OperatorJob, *, lines: list[dict[str, Any]], error: str) -> None:
    audit_record(
        action="backoffice.job_finished",
        target=job,
        actor=job.requested_by,
        brand_id=job.brand_id,
        after={"kind": job.kind, "status": job.status, "lines": len(lines), "error": error},
    )
