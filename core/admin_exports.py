"""An export action every admin list can offer: the rows the person selected (already scoped to
their brands by the admin's queryset), as CSV, XLSX or JSON, audited. Large selections become a
background export job with a progress page and an expiring download link: core cannot know how
(it imports no app), so the app that runs export jobs registers its starter here in its
`AppConfig.ready()` (`large_export_register`, filled in by reports). The download is announced
as the `export.downloaded` event, which audit records. The admin site (backoffice.admin_site)
gives every list that offers one format all three."""

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import events
from core.admin_money import (
    MONEY_SUFFIX,
    annotate_currency,
    conditional_money_fields,
    holds_money,
    major_name,
    money_export_value,
    money_fields,
    row_currency,
)
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
    owner: Any = obj
    parts = field.split("__")
    for part in parts:
        owner = value
        value = getattr(value, part, None)
        if callable(value):
            value = value()
        if value is None:
            return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat()
    if _is_money(owner, parts[-1], value):
        # Major units, exact, with the currency's digits: "1500.00", never 150000 (cents).
        return money_export_value(value, row_currency(owner))
    return value if isinstance(value, int | float | str | Decimal) else str(value)


def _is_money(owner: Any, name: str, value: Any) -> bool:
    if not isinstance(value, int) or isinstance(value, bool) or not isinstance(owner, Model):
        return False
    if name in money_fields(type(owner)) or name.endswith(MONEY_SUFFIX):
        # A model field, or a property/annotation named like one (net_cents): minor units.
        return True
    test = conditional_money_fields(type(owner)).get(name)
    return test is not None and holds_money(owner, test)


def export_header(model: type[Model], fields: list[str]) -> list[str]:
    """Column names of an admin export: the field paths, money ones without "_cents" (their
    values are major units), and a currency column when the rows carry amounts but not it."""
    header = [major_name(f) for f in fields]
    if _money_columns(model, fields) and not any(f == "currency" or f.endswith("__currency") for f in fields):
        header.append("currency")
    return header


def export_row(obj: Any, fields: list[str]) -> list[Any]:
    row = [_cell(obj, f) for f in fields]
    if _money_columns(type(obj), fields) and not any(f == "currency" or f.endswith("__currency") for f in fields):
        row.append(row_currency(obj) or "")
    return row


def _money_columns(model: type[Model], fields: list[str]) -> bool:
    names = set(money_fields(model)) | set(conditional_money_fields(model))
    return any(f in names or f.endswith(MONEY_SUFFIX) for f in fields)


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
        rows = [export_row(obj, fields) for obj in annotate_currency(queryset).order_by("pk")]
        events.publish("export.downloaded", actor=request.user, model=label, fmt=fmt, rows=len(rows))
        return export_response(fmt, f"{label}-{stamp}.{fmt}", export_header(queryset.model, fields), rows)

    action.__name__ = f"export_{fmt}"
    return action


export_csv = admin.action(description=_("Export selected as CSV"))(_export("csv"))
export_xlsx = admin.action(description=_("Export selected as XLSX"))(_export("xlsx"))
export_json = admin.action(description=_("Export selected as JSON"))(_export("json"))
EXPORT_ACTIONS = (export_csv, export_xlsx, export_json)


def export_cell(obj: Any, field: str) -> Any:
    """One cell of an admin export ("campaign__name" follows relations; money in major units)."""
    return _cell(obj, field)
