"""FEBRABAN CNAB 240 remittance for PIX transfers by key (Brazil).

Spec followed: FEBRABAN "Layout Padrão de Arquivos – 240 posições", version 10 (file layout
103, batch layout 046), Pagamentos service: Header de Arquivo (record 0), Header de Lote
(record 1, Forma de Lançamento 45 = PIX Transferência), one Segmento A + Segmento B pair per
transfer (record 3; Segmento B carries the PIX key, "Forma de Iniciação" G100), Trailer de Lote
(record 5), Trailer de Arquivo (record 9). Every field is listed with its FEBRABAN field code
(01.0, 06.3B…) in `docs/ledger.md` and below; the test parses a file back field by field.

Formatting rules of the spec: every record is exactly 240 characters, records end with CRLF;
numeric fields (N) are right-aligned and zero-filled; alphanumeric fields (A) are
left-aligned, blank-filled, upper case without accents; values are in centavos with two implied
decimals. The PIX key (06.3B/11.3B) and the TX ID are written exactly (case kept) — a key is an
address, not a name.
"""

import unicodedata
from dataclasses import dataclass

from django.utils.translation import gettext as _

from core.errors import ApplicationError
from payments.bank_files import BankFileContext, BankFileRow, identifier_is_exact_safe, refuse_rows, register

RECORD_LENGTH = 240
FILE_LAYOUT_VERSION = "103"
BATCH_LAYOUT_VERSION = "046"
SERVICE_TYPE = "20"  # G025: Pagamento a Fornecedor (influencers are suppliers of the brand)
ENTRY_FORM_PIX = "45"  # G029: PIX Transferência
CLEARING_PIX = "009"  # P001: Câmara Centralizadora – SPI (PIX)
# G100 Forma de Iniciação (Segmento B positions 15–17) by our key type.
INITIATION = {"pix_phone": "01", "pix_email": "02", "pix_cpf": "03", "pix_random": "04"}


@dataclass(frozen=True)
class F:
    """One field: FEBRABAN code, first and last position (1-based, inclusive), kind, value.
    Kinds: N numeric (zero-filled, right), A alphanumeric (blanks, left, upper, no accents),
    K exact (blanks, left, written as is)."""

    code: str
    start: int
    end: int
    kind: str
    value: object = ""

    @property
    def length(self) -> int:
        return self.end - self.start + 1


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def render(field: F) -> str:
    value = "" if field.value is None else str(field.value)
    if field.kind == "N":
        if not value.isdigit() and value != "":
            raise ValueError(f"{field.code}: {value!r} is not numeric")
        if len(value) > field.length:
            raise ValueError(f"{field.code}: {value!r} longer than {field.length}")
        return value.rjust(field.length, "0")
    if field.kind == "A":
        return _ascii(value).upper()[: field.length].ljust(field.length)
    if len(value) > field.length:
        raise ValueError(f"{field.code}: {value!r} longer than {field.length}")
    return value.ljust(field.length)


def record(fields: list[F]) -> str:
    """Concatenate fields, checking they tile positions 1–240 with no gap or overlap."""
    position = 1
    parts = []
    for field in fields:
        if field.start != position:
            raise ValueError(f"{field.code} starts at {field.start}, expected {position}")
        text = render(field)
        assert len(text) == field.length
        parts.append(text)
        position = field.end + 1
    if position != RECORD_LENGTH + 1:
        raise ValueError(f"record ends at {position - 1}, expected {RECORD_LENGTH}")
    return "".join(parts)


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def _inscription(document: str) -> tuple[str, str]:
    """(G005 tipo de inscrição, G006 número): 1 = CPF (11 digits), 2 = CNPJ (14 digits)."""
    digits = _digits(document)
    if len(digits) == 11:
        return "1", digits
    if len(digits) == 14:
        return "2", digits
    return "", ""


class Cnab240PixWriter:
    code = "cnab240_pix"
    extension = "rem"
    content_type = "text/plain; charset=us-ascii"

    def build(self, *, rows: list[BankFileRow], context: BankFileContext) -> bytes:
        options = context.options
        batch = context.batch
        if batch.brand.currency != "BRL":
            raise ApplicationError(
                _("CNAB 240 pays in reais; %(brand)s pays in %(currency)s. Choose another bank file format.")
                % {"brand": batch.brand.name, "currency": batch.brand.currency},
                code="bank_format_currency",
            )
        payer_type, payer_number = _inscription(options.payer_document)
        missing = [
            label
            for label, ok in (
                (_("paying company tax id (CNPJ)"), bool(payer_type)),
                (_("paying bank code"), len(_digits(options.payer_bank_code)) == 3),
                (_("paying branch (agência)"), bool(_digits(options.payer_branch))),
                (_("paying account number"), bool(_digits(options.payer_account))),
                (_("agreement code with the bank (convênio)"), bool(options.payer_agreement.strip())),
            )
            if not ok
        ]
        if missing:
            raise ApplicationError(
                _("Fill in the payout settings of %(brand)s before exporting CNAB 240: %(fields)s.")
                % {"brand": batch.brand.name, "fields": ", ".join(str(m) for m in missing)},
                code="bank_format_settings",
            )
        refuse_rows(
            [r for r in rows if r.account.transfer_key_type not in INITIATION],
            _("%(list)s: CNAB 240 PIX pays PIX keys only; the payout data has none. Use another format."),
            "bank_format_no_pix_key",
        )
        refuse_rows(
            [r for r in rows if not identifier_is_exact_safe(r.account.transfer_key)],
            _("The payout data of %(list)s has characters a bank identifier cannot have; ask for it again."),
            "identifier_invalid",
        )
        refuse_rows(
            [r for r in rows if not _inscription(r.account.document_number or "")[0]],
            _("%(list)s: the bank needs the holder's CPF or CNPJ in the payout data."),
            "bank_format_document",
        )

        bank = _digits(options.payer_bank_code)
        stamp = context.generated_at

        def company(first: int, suffix: str) -> list[F]:
            """The paying company and its account (G005–G013), in both headers."""
            codes = [f"{n:02d}.{suffix}" for n in range(first, first + 9)]
            return [
                F(codes[0], 18, 18, "N", payer_type),
                F(codes[1], 19, 32, "N", payer_number),
                F(codes[2], 33, 52, "A", options.payer_agreement),
                F(codes[3], 53, 57, "N", _digits(options.payer_branch)),
                F(codes[4], 58, 58, "A", options.payer_branch_digit),
                F(codes[5], 59, 70, "N", _digits(options.payer_account)),
                F(codes[6], 71, 71, "A", options.payer_account_digit),
                F(codes[7], 72, 72, "A", ""),
                F(codes[8], 73, 102, "A", options.payer_name or batch.brand.name),
            ]

        lines = [
            record(
                [
                    F("01.0", 1, 3, "N", bank),
                    F("02.0", 4, 7, "N", "0000"),
                    F("03.0", 8, 8, "N", "0"),
                    F("04.0", 9, 17, "A", ""),
                    *company(5, "0"),
                    F("14.0", 103, 132, "A", ""),
                    F("15.0", 133, 142, "A", ""),
                    F("16.0", 143, 143, "N", "1"),
                    F("17.0", 144, 151, "N", stamp.strftime("%d%m%Y")),
                    F("18.0", 152, 157, "N", stamp.strftime("%H%M%S")),
                    F("19.0", 158, 163, "N", str(context.sequence)),
                    F("20.0", 164, 166, "N", FILE_LAYOUT_VERSION),
                    F("21.0", 167, 171, "N", "01600"),
                    F("22.0", 172, 191, "A", ""),
                    F("23.0", 192, 211, "A", f"MGM BATCH {batch.pk}"),
                    F("24.0", 212, 240, "A", ""),
                ]
            ),
            record(
                [
                    F("01.1", 1, 3, "N", bank),
                    F("02.1", 4, 7, "N", "0001"),
                    F("03.1", 8, 8, "N", "1"),
                    F("04.1", 9, 9, "A", "C"),
                    F("05.1", 10, 11, "N", SERVICE_TYPE),
                    F("06.1", 12, 13, "N", ENTRY_FORM_PIX),
                    F("07.1", 14, 16, "N", BATCH_LAYOUT_VERSION),
                    F("08.1", 17, 17, "A", ""),
                    *company(9, "1"),
                    F("18.1", 103, 142, "A", ""),
                    F("19.1", 143, 172, "A", ""),
                    F("20.1", 173, 177, "N", ""),
                    F("21.1", 178, 192, "A", ""),
                    F("22.1", 193, 212, "A", ""),
                    F("23.1", 213, 217, "N", ""),
                    F("24.1", 218, 220, "A", ""),
                    F("25.1", 221, 222, "A", ""),
                    F("26.1", 223, 224, "N", "01"),
                    F("27.1", 225, 230, "A", ""),
                    F("28.1", 231, 240, "A", ""),
                ]
            ),
        ]
        sequence = 0
        total = 0
        for row in rows:
            w, a = row.withdrawal, row.account
            kind, number = _inscription(a.document_number)
            total += w.net_cents
            sequence += 1
            lines.append(
                record(
                    [
                        F("01.3A", 1, 3, "N", bank),
                        F("02.3A", 4, 7, "N", "0001"),
                        F("03.3A", 8, 8, "N", "3"),
                        F("04.3A", 9, 13, "N", str(sequence)),
                        F("05.3A", 14, 14, "A", "A"),
                        F("06.3A", 15, 15, "N", "0"),
                        F("07.3A", 16, 17, "N", "00"),
                        F("08.3A", 18, 20, "N", CLEARING_PIX),
                        F("09.3A", 21, 23, "N", "000"),
                        F("10.3A", 24, 28, "N", ""),
                        F("11.3A", 29, 29, "A", ""),
                        F("12.3A", 30, 41, "N", ""),
                        F("13.3A", 42, 42, "A", ""),
                        F("14.3A", 43, 43, "A", ""),
                        F("15.3A", 44, 73, "A", a.holder_name),
                        F("16.3A", 74, 93, "A", f"MGM-{w.pk}"),
                        F("17.3A", 94, 101, "N", stamp.strftime("%d%m%Y")),
                        F("18.3A", 102, 104, "A", "BRL"),
                        F("19.3A", 105, 119, "N", ""),
                        F("20.3A", 120, 134, "N", str(w.net_cents)),
                        F("21.3A", 135, 154, "A", ""),
                        F("22.3A", 155, 162, "N", ""),
                        F("23.3A", 163, 177, "N", ""),
                        F("24.3A", 178, 217, "A", ""),
                        F("25.3A", 218, 219, "A", ""),
                        F("26.3A", 220, 224, "A", ""),
                        F("27.3A", 225, 226, "A", ""),
                        F("28.3A", 227, 229, "A", ""),
                        F("29.3A", 230, 230, "N", "0"),
                        F("30.3A", 231, 240, "A", ""),
                    ]
                )
            )
            sequence += 1
            lines.append(
                record(
                    [
                        F("01.3B", 1, 3, "N", bank),
                        F("02.3B", 4, 7, "N", "0001"),
                        F("03.3B", 8, 8, "N", "3"),
                        F("04.3B", 9, 13, "N", str(sequence)),
                        F("05.3B", 14, 14, "A", "B"),
                        F("06.3B", 15, 17, "K", INITIATION[a.transfer_key_type]),
                        F("07.3B", 18, 18, "N", kind),
                        F("08.3B", 19, 32, "N", number),
                        F("09.3B", 33, 67, "K", f"MGM{w.pk}"),
                        F("10.3B", 68, 127, "A", f"MGM-{w.pk}"),
                        F("11.3B", 128, 226, "K", a.transfer_key),
                        F("12.3B", 227, 232, "N", ""),
                        F("13.3B", 233, 240, "N", ""),
                    ]
                )
            )
        lines.append(
            record(
                [
                    F("01.5", 1, 3, "N", bank),
                    F("02.5", 4, 7, "N", "0001"),
                    F("03.5", 8, 8, "N", "5"),
                    F("04.5", 9, 17, "A", ""),
                    F("05.5", 18, 23, "N", str(sequence + 2)),
                    F("06.5", 24, 41, "N", str(total)),
                    F("07.5", 42, 59, "N", ""),
                    F("08.5", 60, 65, "N", ""),
                    F("09.5", 66, 230, "A", ""),
                    F("10.5", 231, 240, "A", ""),
                ]
            )
        )
        lines.append(
            record(
                [
                    F("01.9", 1, 3, "N", bank),
                    F("02.9", 4, 7, "N", "9999"),
                    F("03.9", 8, 8, "N", "9"),
                    F("04.9", 9, 17, "A", ""),
                    F("05.9", 18, 23, "N", "1"),
                    F("06.9", 24, 29, "N", str(len(lines) + 1)),
                    F("07.9", 30, 35, "N", ""),
                    F("08.9", 36, 240, "A", ""),
                ]
            )
        )
        return ("\r\n".join(lines) + "\r\n").encode("ascii")


@register("cnab240_pix")
def _factory() -> Cnab240PixWriter:
    return Cnab240PixWriter()
