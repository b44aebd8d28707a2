"""An influencer's own orders, earnings and statements as CSV or XLSX, in the reader's
language and number format: translated headers, dates as the language writes them, amounts in
major units with the language's decimal mark (CSV: `;` between cells where the decimal mark is
a comma, as spreadsheets in those languages expect; XLSX: real numbers, shown by the
spreadsheet in the reader's format)."""

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.formats import date_format, get_format, number_format
from django.utils.translation import gettext as _

from affiliates.models import Membership
from core.exports import csv_safe
from core.money import CURRENCY_EXPONENT
from payments.selectors import Statement
from portal.selectors import Period, PortalEarning, PortalOrder

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class Money:
    """An amount cell: minor units and currency, written as a number in the file."""

    cents: int
    currency: str

    def major(self) -> Decimal:
        return Decimal(self.cents).scaleb(-CURRENCY_EXPONENT.get(self.currency, 2))


@dataclass
class Sheet:
    name: str
    header: list[str]
    rows: list[list[Any]]


def _when(value: datetime | date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    return date_format(value, "SHORT_DATE_FORMAT")


def orders_sheet(orders: Sequence[PortalOrder], *, currency: str, period: Period) -> Sheet:
    return Sheet(
        name=_("Orders"),
        header=[_("Order"), _("Date"), _("Status"), _("Code"), _("Customer"), _("Sales"), _("Commission"), _("State")],
        rows=[
            [
                o.reference,
                _when(o.placed_at),
                o.status,
                o.code,
                o.customer_masked,
                Money(o.sales_cents, currency),
                Money(o.commission_cents, currency),
                o.commission_state,
            ]
            for o in orders
        ],
    )


def earnings_sheet(lines: Sequence[PortalEarning], *, currency: str) -> Sheet:
    return Sheet(
        name=_("Earnings"),
        header=[_("Date"), _("Movement"), _("Details"), _("Stage"), _("Amount")],
        rows=[
            [_when(line.occurred_at), line.movement, line.description, line.state, Money(line.amount_cents, currency)]
            for line in lines
        ],
    )


def statement_sheet(statement: Statement) -> Sheet:
    cur = statement.currency
    return Sheet(
        name=_("Statement"),
        header=[_("Date"), _("Movement"), _("Details"), _("Amount"), _("Available")],
        rows=[
            [
                _when(line.occurred_at),
                line.label,
                line.description,
                Money(line.amount, cur),
                Money(line.changes.get("available", 0), cur),
            ]
            for line in statement.lines
        ],
    )


def _csv_cell(value: Any) -> Any:
    if isinstance(value, Money):
        # Built here from an integer: a number, never a formula, whatever its sign.
        return number_format(value.major(), decimal_pos=CURRENCY_EXPONENT.get(value.currency, 2), use_l10n=True)
    return csv_safe(value)


def render(sheet: Sheet, fmt: str) -> bytes:
    if fmt == "xlsx":
        return _xlsx(sheet)
    decimal_mark = str(get_format("DECIMAL_SEPARATOR"))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if decimal_mark == "," else ",", lineterminator="\r\n")
    writer.writerow([csv_safe(h) for h in sheet.header])
    for row in sheet.rows:
        writer.writerow([_csv_cell(cell) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _xlsx(sheet: Sheet) -> bytes:
    from openpyxl import Workbook  # noqa: PLC0415 heavy optional dependency kept out of start-up (XLSX exports only)
    from openpyxl.cell import WriteOnlyCell  # noqa: PLC0415 heavy optional dependency kept out of start-up (XLSX exports only)

    workbook = Workbook(write_only=True)
    ws = workbook.create_sheet(title=sheet.name[:31])
    ws.append(list(sheet.header))
    for row in sheet.rows:
        cells = []
        for value in row:
            if isinstance(value, Money):
                cell = WriteOnlyCell(ws, value=value.major())
                cell.number_format = "#,##0.00"
                cells.append(cell)
            else:
                cells.append(csv_safe(value))
        ws.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def filename(*, membership: Membership, kind: str, fmt: str, suffix: str = "") -> str:
    stamp = suffix or timezone.localdate().strftime("%Y%m%d")
    return f"{kind}-{membership.brand.slug}-{stamp}.{fmt}"
