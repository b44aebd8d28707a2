"""The generic CSV every bank portal can map (docs/ledger.md, "Bank file: generic CSV").

Free-text columns (names, bank names) go through the spreadsheet formula guard; identifiers are
written exactly as validated at input (a PIX phone key `+5511987654321` stays that), and the
export refuses an identifier outside the safe charset instead of altering it."""

import csv
import io

from django.utils.translation import gettext as _

from core.exports import csv_safe
from core.money import format_plain
from payments.bank_files import BankFileContext, BankFileRow, identifier_is_exact_safe, refuse_rows, register

COLUMNS = [
    "batch_id",
    "period_start",
    "period_end",
    "withdrawal_id",
    "payment_reference",
    "beneficiary_name",
    "document_type",
    "document_number",
    "bank_code",
    "bank_name",
    "account_type",
    "account_number",
    "transfer_key_type",
    "transfer_key",
    "currency",
    "gross_amount",
    "withholding_amount",
    "net_amount",
    "payout_account_version",
]
FREE_TEXT = frozenset({"beneficiary_name", "bank_name"})
IDENTIFIERS = ("document_number", "bank_code", "account_number", "transfer_key")


class GenericCsvWriter:
    code = "generic_csv"
    extension = "csv"
    content_type = "text/csv; charset=utf-8"

    def build(self, *, rows: list[BankFileRow], context: BankFileContext) -> bytes:
        refuse_rows(
            [r for r in rows if not all(identifier_is_exact_safe(getattr(r.account, f)) for f in IDENTIFIERS)],
            _("The payout data of %(list)s has characters a bank identifier cannot have; ask for it again."),
            "identifier_invalid",
        )
        batch = context.batch
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for row in rows:
            w, a = row.withdrawal, row.account
            values = {
                "batch_id": batch.pk,
                "period_start": batch.period_start.isoformat(),
                "period_end": batch.period_end.isoformat(),
                "withdrawal_id": w.pk,
                "payment_reference": f"MGM-{w.pk}",
                "beneficiary_name": a.holder_name,
                "document_type": a.document_type,
                "document_number": a.document_number,
                "bank_code": a.bank_code,
                "bank_name": a.bank_name,
                "account_type": a.account_type,
                "account_number": a.account_number,
                "transfer_key_type": a.transfer_key_type,
                "transfer_key": a.transfer_key,
                "currency": w.currency,
                "gross_amount": format_plain(w.amount_cents, w.currency),
                "withholding_amount": format_plain(w.withholding_cents, w.currency),
                "net_amount": format_plain(w.net_cents, w.currency),
                "payout_account_version": row.version_number,
            }
            writer.writerow([csv_safe(values[c]) if c in FREE_TEXT else values[c] for c in COLUMNS])
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")


@register("generic_csv")
def _factory() -> GenericCsvWriter:
    return GenericCsvWriter()
