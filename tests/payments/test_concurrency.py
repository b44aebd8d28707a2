"""Real concurrent PostgreSQL connections (threads, each with its own connection)."""

import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections

from audit.models import AuditEvent
from core.errors import ApplicationError
from payments.models import AccountKind, LedgerEntry, PayoutBatch, PayoutSettings, Withdrawal, WithdrawalApproval
from payments.selectors import balances_for, ledger_verify
from payments.services import cutoff as cutoff_module
from payments.services import (
    ledger_commission_accrue,
    ledger_commission_confirm,
    payout_cutoff_run,
    withdrawal_approve,
    withdrawal_mark_paid,
    withdrawal_request_create,
)
from tests.factories import InfluencerFactory, MembershipFactory
from tests.payments.conftest import give_payout_account

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(n: int, work: Callable[[int], Any]) -> list[tuple[str, Any]]:
    barrier = threading.Barrier(n)
    results: list[tuple[str, Any]] = []
    lock = threading.Lock()

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            outcome: tuple[str, Any] = ("ok", work(index))
        except ApplicationError as exc:
            outcome = ("refused", exc.code)
        except Exception as exc:
            outcome = ("error", repr(exc))
        finally:
            connections.close_all()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _running_balances_never_negative(account_id: int) -> bool:
    running = 0
    for side, amount in (
        LedgerEntry.objects.filter(account_id=account_id).order_by("id").values_list("side", "amount_cents")
    ):
        running += amount if side == "C" else -amount
        if running < 0:
            return False
    return True


def test_fifty_concurrent_withdrawals_of_60_percent_one_succeeds(brand_a, funded):
    results = _race(
        50,
        lambda i: (
            withdrawal_request_create(influencer=funded, brand=brand_a, amount="600.00", requested_by=funded.user).pk
        ),
    )
    assert [r for r in results if r[0] == "error"] == []
    assert len([r for r in results if r[0] == "ok"]) == 1
    # Whoever comes after the first finds it open (or, had it been refused, the balance short).
    assert {r[1] for r in results if r[0] == "refused"} <= {"above_available", "withdrawal_open"}
    balances = balances_for(brand=brand_a, influencer=funded)
    assert balances[AccountKind.AVAILABLE] == 400_00
    assert balances[AccountKind.RESERVED] == 600_00
    assert Withdrawal.objects.count() == 1
    available = LedgerEntry.objects.filter(account__kind="available", account__influencer=funded).first().account_id
    assert _running_balances_never_negative(available)
    assert ledger_verify() == []


def test_two_finance_users_approving_at_once_have_one_effect(brand_a, funded, finance_a, finance_a2):
    withdrawal = withdrawal_request_create(influencer=funded, brand=brand_a, amount="100", requested_by=funded.user)
    approvers = [finance_a, finance_a2]
    results = _race(2, lambda i: withdrawal_approve(withdrawal=withdrawal, approver=approvers[i]).status)
    assert [r for r in results if r[0] != "ok"] == []
    assert Withdrawal.objects.get(pk=withdrawal.pk).status == Withdrawal.Status.APPROVED
    assert WithdrawalApproval.objects.filter(withdrawal=withdrawal).count() == 1
    assert AuditEvent.objects.filter(action="withdrawal.approved", target_id=str(withdrawal.pk)).count() == 1


def _six_influencers_due(brand_a: Any) -> None:
    brand_a.min_withdrawal_cents = 100
    brand_a.save(update_fields=["min_withdrawal_cents"])
    PayoutSettings.objects.create(brand=brand_a, automatic_payouts=True)
    hold = datetime(2026, 3, 5, tzinfo=UTC)
    for index in range(6):
        person = MembershipFactory(brand=brand_a, influencer=InfluencerFactory()).influencer
        give_payout_account(person)
        ledger_commission_accrue(
            brand=brand_a,
            influencer=person,
            commission_ref=f"r{index}",
            amount_cents=5_000,
            occurred_at=hold - timedelta(days=20),
        )
        ledger_commission_confirm(
            brand=brand_a,
            influencer=person,
            commission_ref=f"r{index}",
            hold_until=hold,
            occurred_at=hold - timedelta(days=10),
        )


def test_concurrent_cutoff_runs_build_one_batch(brand_a):
    _six_influencers_due(brand_a)
    now = datetime(2026, 3, 16, 6, tzinfo=UTC)
    results = _race(
        3, lambda i: payout_cutoff_run(brand=brand_a, period_start=date(2026, 3, 1), now=now, chunk_size=2).pk
    )
    assert [r for r in results if r[0] != "ok"] == []
    assert len({r[1] for r in results}) == 1
    assert PayoutBatch.objects.count() == 1
    assert Withdrawal.objects.filter(automatic=True).count() == 6
    assert LedgerEntry.objects.filter(transaction__kind="release").count() == 12
    assert ledger_verify() == []


def test_concurrent_mark_paid_posts_one_payout(brand_a, funded, finance_a, finance_a2):
    withdrawal = withdrawal_request_create(influencer=funded, brand=brand_a, amount="100", requested_by=funded.user)
    withdrawal_approve(withdrawal=withdrawal, approver=finance_a)
    payers = [finance_a, finance_a2, finance_a, finance_a2]
    results = _race(
        4,
        lambda i: (
            withdrawal_mark_paid(
                withdrawal=withdrawal,
                actor=payers[i],
                transfer_reference=f"T-{i}",
                proof=SimpleUploadedFile(f"p{i}.pdf", b"%PDF"),
            ).status
        ),
    )
    assert [r for r in results if r[0] != "ok"] == []
    assert {r[1] for r in results} == {Withdrawal.Status.PAID}
    assert LedgerEntry.objects.filter(transaction__kind="payout").values("transaction_id").distinct().count() == 1
    assert AuditEvent.objects.filter(action="withdrawal.paid", target_id=str(withdrawal.pk)).count() == 1
    balances = balances_for(brand=brand_a, influencer=funded)
    assert balances[AccountKind.PAID] == 100_00
    assert balances[AccountKind.RESERVED] == 0
    assert ledger_verify() == []


def test_a_second_cutoff_waits_for_the_running_one(brand_a, monkeypatch):
    """The advisory lock is what serialises runs: the money is guarded by constraints either
    way, but without the lock a second run overtakes a paused first one and the batch's own
    record (runs, released totals) comes out wrong. Remove the lock and this test fails."""

    _six_influencers_due(brand_a)
    now = datetime(2026, 3, 16, 6, tzinfo=UTC)
    paused = threading.Event()

    def pause(stage: str, index: int) -> None:
        if threading.current_thread().name == "first" and stage == "release" and index == 0:
            paused.set()
            time.sleep(3)  # the second run has every chance to run now

    monkeypatch.setattr(cutoff_module, "after_chunk", pause)
    finished: dict[str, float] = {}
    errors: list[BaseException] = []

    def run(name: str) -> None:
        try:
            payout_cutoff_run(brand=brand_a, period_start=date(2026, 3, 1), now=now, chunk_size=2)
            finished[name] = time.monotonic()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    first = threading.Thread(target=run, args=("first",), name="first")
    first.start()
    assert paused.wait(60)
    second = threading.Thread(target=run, args=("second",), name="second")
    second.start()
    first.join(120)
    second.join(120)
    assert errors == []
    assert finished["second"] >= finished["first"]
    batch = PayoutBatch.objects.get()
    assert batch.runs == 1  # the second found it ready
    assert (batch.released_count, batch.released_cents) == (6, 6 * 5_000)
    assert Withdrawal.objects.filter(automatic=True).count() == 6
    assert ledger_verify() == []
