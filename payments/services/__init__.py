"""Writes of the payments context. The ledger posting API (`ledger_commission_*`) is what the
commissions engine calls; see docs/ledger.md for the account chart and every posting."""

from payments.services.cutoff import payout_cutoff_dispatch, payout_cutoff_run, payout_period_for
from payments.services.ledger import (
    Confirmation,
    ledger_commission_accrue,
    ledger_commission_accrue_each,
    ledger_commission_accrue_many,
    ledger_commission_confirm,
    ledger_commission_confirm_each,
    ledger_commission_confirm_many,
    ledger_commission_reverse,
)
from payments.services.withdrawals import (
    bank_export_build,
    withdrawal_approve,
    withdrawal_mark_failed,
    withdrawal_mark_paid,
    withdrawal_reject,
    withdrawal_request_create,
)

__all__ = [
    "Confirmation",
    "bank_export_build",
    "ledger_commission_accrue",
    "ledger_commission_accrue_each",
    "ledger_commission_accrue_many",
    "ledger_commission_confirm",
    "ledger_commission_confirm_each",
    "ledger_commission_confirm_many",
    "ledger_commission_reverse",
    "payout_cutoff_dispatch",
    "payout_cutoff_run",
    "payout_period_for",
    "withdrawal_approve",
    "withdrawal_mark_failed",
    "withdrawal_mark_paid",
    "withdrawal_reject",
    "withdrawal_request_create",
]
