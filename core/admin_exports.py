"""An export action every admin list can offer: the rows the person selected (already scoped to
their brands by the admin's queryset), as CSV, XLSX or JSON, audited. Large selections become a
background export job (reports.exports) with a progress page and an expiring download link.
The admin site (core.admin_site) gives every list that offers one format all three."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.exports import export_response

# Above this many rows an export runs in the worker (reports.exports) with a progress page.
SYNC_EXPORT_MAX_ROWS = 5000


def _cell(obj: Any, field: str) -> Any:
    value: Any = obj
    for part in field.split("__"):
        value = getattr(value, part, None)
        if callable(value):
            value = value()
        if value is None:
            return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat()
    return value if isinstance(value, int | float | str) else str(value)


def _export(fmt: str) -> Callable[..., HttpResponseBase]:
    def action(modeladmin: admin.ModelAdmin[Any], request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponseBase:
        from audit.services import audit_record

        fields = list(getattr(modeladmin, "export_fields", None) or [f.name for f in queryset.model._meta.fields])
        label = queryset.model._meta.model_name
        if queryset.count() > SYNC_EXPORT_MAX_ROWS:
            from reports.exports import export_job_start_for_admin

            return export_job_start_for_admin(request=request, queryset=queryset, fields=fields, fmt=fmt)
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        rows = [[_cell(obj, f) for f in fields] for obj in queryset.order_by("pk")]
        audit_record(
            action="export.downloaded", actor=request.user, after={"model": label, "format": fmt, "rows": len(rows)}
        )
        return export_response(fmt, f"{label}-{stamp}.{fmt}", fields, rows)

    action.__name__ = f"export_{fmt}"
    return action


export_csv = admin.action(description=_("Export selected as CSV"))(_export("csv"))
export_xlsx = admin.action(description=_("Export selected as XLSX"))(_export("xlsx"))
export_json = admin.action(description=_("Export selected as JSON"))(_export("json"))
EXPORT_ACTIONS = (export_csv, export_xlsx, export_json)


def export_cell(obj: Any, field: str) -> Any:
    """One cell of an admin export ("campaign__name" follows relations)."""
    return _cell(obj, field)
