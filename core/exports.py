"""Exports people open in spreadsheets. CSV follows RFC 4180, UTF-8 with a BOM (Excel), and
neutralises cells a spreadsheet would run as a formula (CSV injection). JSON is for programs: a
list of objects keyed by the header, values as they are (nothing to neutralise there)."""

import csv
import io
import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> Any:
    """Prefix a quote to text a spreadsheet would treat as a formula. Numbers pass through, so
    a negative amount stays a number."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return value
    text = str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_rows(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterable[str]:
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield "\ufeff" + writer.writerow([csv_safe(h) for h in header])
    for row in rows:
        yield writer.writerow([csv_safe(cell) for cell in row])


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    return "".join(csv_rows(header, rows)).encode("utf-8")


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    from openpyxl import Workbook  # noqa: PLC0415 heavy optional dependency kept out of start-up (XLSX exports only)

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append([str(h) for h in header])
    for row in rows:
        sheet.append([csv_safe(cell) if isinstance(cell, str) else cell for cell in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def json_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    keys = [str(h) for h in header]
    records = [dict(zip(keys, row, strict=False)) for row in rows]
    return json.dumps(records, ensure_ascii=False, default=_json_default, indent=1).encode("utf-8")


EXPORT_CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json; charset=utf-8",
}


def export_bytes(fmt: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """The whole file in one of the export formats ("csv", "xlsx", "json")."""
    if fmt == "xlsx":
        return xlsx_bytes(header, rows)
    if fmt == "json":
        return json_bytes(header, rows)
    if fmt == "csv":
        return csv_bytes(header, rows)
    raise ValueError(f"unknown export format {fmt!r}")


def export_response(
    fmt: str, filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> HttpResponse | StreamingHttpResponse:
    """A download in one of the export formats: CSV streamed row by row, XLSX and JSON built
    whole. `filename` is used as given (include the extension)."""
    if fmt not in EXPORT_CONTENT_TYPES:
        raise ValueError(f"unknown export format {fmt!r}")
    response: HttpResponse | StreamingHttpResponse
    if fmt == "csv":
        response = StreamingHttpResponse(csv_rows(header, rows), content_type=EXPORT_CONTENT_TYPES[fmt])
    else:
        response = HttpResponse(export_bytes(fmt, header, rows), content_type=EXPORT_CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
