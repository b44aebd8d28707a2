"""An export action every admin list can offer: the rows the person selected (already scoped to
their brands by the admin's queryset), as CSV or XLSX, audited."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.exports import csv_response, xlsx_response


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
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        rows = [[_cell(obj, f) for f in fields] for obj in queryset.order_by("pk")]
        audit_record(
            action="export.downloaded", actor=request.user, after={"model": label, "format": fmt, "rows": len(rows)}
        )
        if fmt == "xlsx":
            return xlsx_response(f"{label}-{stamp}.xlsx", fields, rows)
        return csv_response(f"{label}-{stamp}.csv", fields, rows)

    action.__name__ = f"export_{fmt}"
    return action


export_csv = admin.action(description=_("Export selected as CSV"))(_export("csv"))
export_xlsx = admin.action(description=_("Export selected as XLSX"))(_export("xlsx"))
