"""Bank file formats, pluggable per brand (`PayoutSettings.bank_file_format`).

A format turns the approved withdrawals of a batch, each with the payout account version finance
approved, into the bytes a bank imports. Each format module registers one `BankFileWriter`;
`bank_file_writer(code)` returns it. Layouts are documented field by field in docs/ledger.md.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from django.utils.translation import gettext as _

from core.errors import ApplicationError
from payments.payout_accounts import PayoutAccount


@dataclass(frozen=True)
class BankFileRow:
    """One transfer: the withdrawal and the decrypted payout account version it pays."""

    withdrawal: Any
    account: PayoutAccount
    version_number: int


@dataclass(frozen=True)
class BankFileContext:
    batch: Any
    options: Any  # PayoutSettings of the batch's brand
    sequence: int  # this export's number for the brand (NSA in CNAB), 1-based
    generated_at: datetime  # in the brand's time zone


@dataclass(frozen=True)
class BankFile:
    filename: str
    content_type: str
    content: bytes


class BankFileWriter(Protocol):
    code: str
    extension: str
    content_type: str

    def build(self, *, rows: list[BankFileRow], context: BankFileContext) -> bytes: ...


_WRITERS: dict[str, Callable[[], BankFileWriter]] = {}


def register(code: str) -> Callable[[Callable[[], BankFileWriter]], Callable[[], BankFileWriter]]:
    def wrap(factory: Callable[[], BankFileWriter]) -> Callable[[], BankFileWriter]:
        _WRITERS[code] = factory
        return factory

    return wrap


def bank_file_writer(code: str) -> BankFileWriter:
    _load()
    factory = _WRITERS.get(code)
    if factory is None:
        raise ApplicationError(_("Unknown bank file format %(code)s.") % {"code": code}, code="bank_format_unknown")
    return factory()


def _load() -> None:
    # Importing the modules registers their writers.
    from payments.bank_files import cnab240, generic_csv  # noqa: F401, PLC0415 formats register on import; importing them at package top is a cycle


# Identifiers (account numbers, keys, documents, bank codes) are written exactly as validated at
# input; this charset cannot form a spreadsheet formula that runs anything (no "=", "|", "!",
# parentheses or quotes), so they need no formula guard, and a PIX phone key keeps its "+".
_IDENTIFIER_RE = re.compile(r"^[0-9A-Za-z+._-][0-9A-Za-z+@._-]*$")


def identifier_is_exact_safe(value: str) -> bool:
    return value == "" or bool(_IDENTIFIER_RE.match(value))


def refuse_rows(rows: list[Any], message: str, code: str) -> None:
    """Raise one ApplicationError naming every withdrawal in `rows` (if any)."""
    if rows:
        raise ApplicationError(message % {"list": ", ".join(str(row.withdrawal) for row in rows)}, code=code)
