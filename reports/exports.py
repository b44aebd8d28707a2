"""Large exports in the worker: an `ExportJob` row records what to export, progress, and the
file written to private storage; the person who asked downloads it through a signed link that
expires (`django.core.signing.TimestampSigner`), served by a view that checks it is theirs.

Admin lists pass the selected primary keys (at most `ADMIN_EXPORT_MAX_ROWS`); when the job
runs, the queryset is scoped again to the requester's brands *now*, so access revoked in the
meantime is honoured. Reports pass their spec; the spec's brand is checked the same way."""

import logging
from dataclasses import replace
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from brands.scoping import brand_ids_for_user, scope_queryset
from core.admin_exports import export_header, export_row
from core.admin_money import annotate_currency
from core.errors import ApplicationError, NotFound, PermissionRefused
from core.exports import export_bytes
from core.storage import private_storage
from reports.builder import report_run, spec_from_input
from reports.models import ExportJob

logger = logging.getLogger(__name__)

ADMIN_EXPORT_MAX_ROWS = 1_000_000
# A report export job's own row limit, in place of the builder's MAX_ROWS.
EXPORT_JOB_MAX_ROWS = 1_000_000
PROGRESS_EVERY = 1000
_SALT = "reports.export.download"


def link_max_age() -> int:
    return int(settings.REPORTS_EXPORT_LINK_SECONDS)


class ExportRefused(ApplicationError):
    default_code = "export_refused"


def export_job_create(
    *,
    user: Any,
    source: str,
    fmt: str,
    label: str,
    params: dict[str, Any],
    brand: Any = None,
) -> ExportJob:
    """Record the job and hand it to the worker after commit."""
    from reports.tasks import export_job_run_task  # noqa: PLC0415 tasks↔services cycle inside the app

    if fmt not in ("csv", "xlsx", "json"):
        raise ExportRefused(_("Choose CSV, XLSX or JSON."), code="bad_format")
    with transaction.atomic():
        job = ExportJob.objects.create(
            brand=brand, requested_by=user, source=source, format=fmt, label=label[:120], params=params
        )
        audit_record(
            action="export.requested",
            target=job,
            actor=user,
            brand_id=getattr(brand, "pk", None),
            after={"label": job.label, "format": fmt, "source": source},
        )
        transaction.on_commit(lambda: export_job_run_task.delay(job_id=job.pk))
    return job


def export_job_start_for_admin(*, request: HttpRequest, queryset: QuerySet[Any], fields: list[str], fmt: str) -> Any:
    """The admin action's path for big selections: queue the job, show its progress page."""
    meta = queryset.model._meta
    pks = list(queryset.order_by("pk").values_list("pk", flat=True)[: ADMIN_EXPORT_MAX_ROWS + 1])
    if len(pks) > ADMIN_EXPORT_MAX_ROWS:
        messages.error(
            request,
            _("That is more than %(n)s rows; narrow the list with filters first.") % {"n": ADMIN_EXPORT_MAX_ROWS},
        )
        return None
    job = export_job_create(
        user=request.user,
        source=ExportJob.Source.ADMIN,
        fmt=fmt,
        label=str(meta.verbose_name_plural),
        params={"model": meta.label_lower, "fields": fields, "pks": pks},
    )
    messages.info(request, _("The export runs in the background; this page shows when it is ready."))
    return HttpResponseRedirect(reverse("admin:reports_exportjob_progress", args=[job.pk]))


def _progress(job: ExportJob, done: int) -> None:
    ExportJob.objects.filter(pk=job.pk).update(progress_done=done)


def _admin_rows(job: ExportJob) -> tuple[list[str], Any, int]:
    model = apps.get_model(job.params["model"])
    brand_field = getattr(model, "BRAND_FIELD", None)
    allowed = brand_ids_for_user(job.requested_by)
    if brand_field is None and allowed is not None:
        raise PermissionRefused(_("Only superusers can export this list."))
    qs = annotate_currency(model._default_manager.filter(pk__in=job.params["pks"]).order_by("pk"))
    if brand_field is not None:
        qs = scope_queryset(qs, allowed, brand_field=brand_field)
    fields = list(job.params["fields"])
    total = qs.count()

    def rows() -> Any:
        for i, obj in enumerate(qs.iterator(chunk_size=2000), start=1):
            if i % PROGRESS_EVERY == 0:
                _progress(job, i)
            yield export_row(obj, fields)

    return export_header(model, fields), rows(), total


def _report_rows(job: ExportJob) -> tuple[list[str], Any, int]:
    brand_id = int(job.params["brand_id"])
    allowed = brand_ids_for_user(job.requested_by)
    if allowed is not None and brand_id not in allowed:
        raise PermissionRefused(_("You no longer have access to this brand."))
    # The builder caps a spec at MAX_ROWS (what a page or a direct download may hold); the job
    # exists for reports past that cap, so it runs the same spec up to EXPORT_JOB_MAX_ROWS.
    spec = replace(spec_from_input(data=job.params["spec"], brand_id=brand_id), limit=EXPORT_JOB_MAX_ROWS)
    result = report_run(spec=spec)
    header, body = result.table()
    return header, iter(body), len(body)


def export_job_run(*, job_id: int) -> ExportJob:
    """Write the file (idempotent: a finished job is left alone)."""
    job = ExportJob.objects.select_related("requested_by").get(pk=job_id)
    if job.status == ExportJob.Status.DONE:
        return job
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING, progress_done=0)
    try:
        header, rows, total = _admin_rows(job) if job.source == ExportJob.Source.ADMIN else _report_rows(job)
        ExportJob.objects.filter(pk=job.pk).update(progress_total=total)
        content = export_bytes(job.format, header, rows)
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        name = private_storage().save(f"exports/{job.pk}/{job.label[:40]}-{stamp}.{job.format}", ContentFile(content))
    except Exception as exc:
        logger.exception("export job %s failed", job.pk)
        message = str(exc) if isinstance(exc, ApplicationError) else _("The export failed; try again or ask support.")
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.FAILED, error=message[:1000], finished_at=timezone.now()
        )
        job.refresh_from_db()
        return job
    now = timezone.now()
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportJob.Status.DONE,
        progress_done=total,
        file_name=name,
        finished_at=now,
        expires_at=now + timedelta(seconds=link_max_age()),
    )
    job.refresh_from_db()
    return job


def export_download_token(*, job: ExportJob) -> str:
    return signing.TimestampSigner(salt=_SALT).sign(f"{job.pk}:{job.requested_by_id}")


def export_download_resolve(*, token: str, user: Any) -> ExportJob:
    """The job behind a download link, if the link is genuine, unexpired and the user's own."""
    try:
        value = signing.TimestampSigner(salt=_SALT).unsign(token, max_age=link_max_age())
    except signing.SignatureExpired:
        raise PermissionRefused(_("This download link expired; export again.")) from None
    except signing.BadSignature:
        raise NotFound(_("This download link is not valid.")) from None
    job_id, _sep, user_id = value.partition(":")
    if str(getattr(user, "pk", "")) != user_id:
        raise NotFound(_("This download link is not valid."))
    job = ExportJob.objects.filter(pk=int(job_id), requested_by=user, status=ExportJob.Status.DONE).first()
    if job is None or not job.file_name:
        raise NotFound(_("This export is not available."))
    return job
