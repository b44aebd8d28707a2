"""An export action every admin list can offer: the rows the person selected (already scoped to
their brands by the admin's queryset), as CSV, XLSX or JSON, audited. Large selections become a
background export job with a progress page and an expiring download link: core cannot know how
(it imports no app), so the app that runs export jobs registers its starter here in its
`AppConfig.ready()` (`large_export_register`, filled in by reports). The download is announced
as the `export.downloaded` event, which audit records. The admin site (backoffice.admin_site)
gives every list that offers one format all three."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import events
from core.exports import export_response

# Above this many rows an export runs in the worker (the registered starter) with a progress page.
SYNC_EXPORT_MAX_ROWS = 5000

# Starts a background export of `queryset` and answers the admin action (a progress page, or
# None to stay on the list with a message). Called as starter(request=, queryset=, fields=, fmt=).
LargeExportStarter = Callable[..., HttpResponseBase | None]
_large_export: list[LargeExportStarter] = []


def large_export_register(starter: LargeExportStarter) -> None:
    """Make `starter` the way selections above SYNC_EXPORT_MAX_ROWS are exported. Idempotent:
    `ready()` may run more than once in tests; the last registration wins."""
    _large_export[:] = [starter]


def large_export_starter() -> LargeExportStarter | None:
    return _large_export[0] if _large_export else None


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


def _export(fmt: str) -> Callable[..., HttpResponseBase | None]:
    def action(
        modeladmin: admin.ModelAdmin[Any], request: HttpRequest, queryset: QuerySet[Any]
    ) -> HttpResponseBase | None:
        fields = list(getattr(modeladmin, "export_fields", None) or [f.name for f in queryset.model._meta.fields])
        label = queryset.model._meta.model_name
        starter = large_export_starter()
        # Without a background runner installed the export is built here, however large: slower,
        # never refused.
        if starter is not None and queryset.count() > SYNC_EXPORT_MAX_ROWS:
            return starter(request=request, queryset=queryset, fields=fields, fmt=fmt)
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        rows = [[_cell(obj, f) for f in fields] for obj in queryset.order_by("pk")]
        events.publish("export.downloaded", actor=request.user, model=label, fmt=fmt, rows=len(rows))
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
