"""The daily verification of the ledger, recorded for the health panel and the alerts."""

from core.integrity import LEDGER, integrity_check_record
from payments.selectors import ledger_verify


def ledger_integrity_run() -> list[str]:
    """Every ledger invariant (`ledger_verify`), its outcome recorded
    (`mgm_integrity_check_ok{check="ledger"}`, alert LedgerBroken). Returns the problems."""
    problems = ledger_verify()
    integrity_check_record(name=LEDGER, problems=problems)
    return problems
