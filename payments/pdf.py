"""The payout statement as PDF (fpdf2, pure Python). Built from the same `Statement` the HTML
page renders, so both always show the same figures."""

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.money import format_minor
from payments.models import AccountKind

STAGES = [
    (AccountKind.ESTIMATED, gettext_lazy("Estimated")),
    (AccountKind.HOLD, gettext_lazy("On hold")),
    (AccountKind.AVAILABLE, gettext_lazy("Available")),
    (AccountKind.RESERVED, gettext_lazy("Reserved")),
    (AccountKind.PAID, gettext_lazy("Paid")),
    (AccountKind.WITHHOLDING, gettext_lazy("Withheld")),
]


def _t(value: Any) -> str:
    # The PDF core fonts speak Latin-1, which covers Spanish and Portuguese; anything else
    # (emoji in a display name, say) degrades to "?" instead of failing the download.
    return (
        str(value).replace("•", "*").replace("–", "-").replace("—", "-").encode("latin-1", "replace").decode("latin-1")
    )


def statement_pdf(statement: Any) -> bytes:
    # Imported here, not at the top: fpdf2 and fontTools take ~1 s to import, and every web
    # process imports this module with the portal's URLconf, while few requests ask for a PDF.
    from fpdf import FPDF  # noqa: PLC0415 heavy, and only this download needs it

    currency = statement.currency
    money = lambda cents: format_minor(cents, currency)  # noqa: E731
    pdf = FPDF(format="A4")
    pdf.set_title(_t(_("Payout statement")))
    pdf.set_author("MGM")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _t(_("Payout statement")), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    for line in (
        f"{statement.brand.name} - {statement.influencer.display_name}",
        _("Period: %(start)s to %(end)s") % {"start": statement.period_start, "end": statement.period_end},
        _("Issued: %(when)s")
        % {"when": timezone.localtime(timezone.now(), statement.brand.tz).strftime("%Y-%m-%d %H:%M")},
    ):
        pdf.cell(0, 6, _t(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 8, _t(_("Balances")), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    with pdf.table(col_widths=(50, 45, 45), text_align=("LEFT", "RIGHT", "RIGHT")) as table:
        table.row([_t(_("Stage")), _t(_("Opening")), _t(_("Closing"))])
        for kind, label in STAGES:
            table.row([_t(label), _t(money(statement.opening[kind])), _t(money(statement.closing[kind]))])
    pdf.ln(4)

    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 8, _t(_("Payouts")), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    if statement.payouts:
        with pdf.table(
            col_widths=(25, 35, 40, 35, 40), text_align=("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT")
        ) as table:
            table.row([_t(_("Withdrawal")), _t(_("Paid on")), _t(_("Gross")), _t(_("Withheld")), _t(_("Net"))])
            for w in statement.payouts:
                table.row(
                    [
                        _t(w),
                        _t(timezone.localtime(w.paid_at, statement.brand.tz).strftime("%Y-%m-%d")),
                        _t(money(w.amount_cents)),
                        _t(money(w.withholding_cents)),
                        _t(money(w.net_cents)),
                    ]
                )
            table.row(
                [
                    "",
                    _t(_("Total")),
                    _t(money(statement.paid_gross)),
                    _t(money(statement.withheld)),
                    _t(money(statement.paid_net)),
                ]
            )
    else:
        pdf.cell(0, 6, _t(_("No payouts in this period.")), new_x="LMARGIN", new_y="NEXT")
    if statement.withholdings:
        pdf.ln(2)
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(0, 7, _t(_("Withholdings")), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=9)
        for name, cents in statement.withholdings:
            pdf.cell(120, 6, _t(name))
            pdf.cell(0, 6, _t(money(cents)), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 8, _t(_("Movements")), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=8)
    if statement.lines:
        with pdf.table(col_widths=(28, 40, 62, 30, 30), text_align=("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT")) as table:
            table.row([_t(_("Date")), _t(_("Movement")), _t(_("Details")), _t(_("Amount")), _t(_("Available"))])
            for line in statement.lines:
                table.row(
                    [
                        _t(timezone.localtime(line.occurred_at, statement.brand.tz).strftime("%Y-%m-%d")),
                        _t(line.label),
                        _t(line.description[:60]),
                        _t(money(line.amount)),
                        _t(money(line.changes[AccountKind.AVAILABLE])),
                    ]
                )
    else:
        pdf.cell(0, 6, _t(_("No movements in this period.")), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
