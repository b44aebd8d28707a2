from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from core.errors import ApplicationError
from payments.models import AccountKind, CommissionPosition, LedgerTransaction, PayoutBatch, PayoutSettings, Withdrawal
from payments.selectors import balances_for, ledger_verify
from payments.services import cutoff as cutoff_module
from payments.services import (
    ledger_commission_accrue,
    ledger_commission_confirm,
    ledger_commission_reverse,
    payout_cutoff_dispatch,
    payout_cutoff_run,
    payout_period_for,
    withdrawal_approve,
    withdrawal_mark_paid,
    withdrawal_request_create,
)
from payments.tasks import payout_cutoff_dispatch_task
from tests.factories import InfluencerFactory, MembershipFactory
from tests.payments.conftest import give_payout_account

pytestmark = pytest.mark.django_db

PERIOD = date(2026, 3, 1)  # closes 2026-03-16 00:00 in America/Bogota = 05:00 UTC
AFTER = datetime(2026, 3, 16, 6, tzinfo=UTC)


def _confirmed(brand, influencer, ref, cents, hold_until):
    ledger_commission_accrue(
        brand=brand,
        influencer=influencer,
        commission_ref=ref,
        amount_cents=cents,
        occurred_at=hold_until - timedelta(days=20),
    )
    ledger_commission_confirm(
        brand=brand,
        influencer=influencer,
        commission_ref=ref,
        hold_until=hold_until,
        occurred_at=hold_until - timedelta(days=15),
    )


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 2, 1), (date(2026, 2, 1), date(2026, 2, 15))),
        (date(2026, 2, 15), (date(2026, 2, 1), date(2026, 2, 15))),
        (date(2026, 2, 16), (date(2026, 2, 16), date(2026, 2, 28))),
        (date(2028, 2, 29), (date(2028, 2, 16), date(2028, 2, 29))),
        (date(2026, 12, 31), (date(2026, 12, 16), date(2026, 12, 31))),
    ],
)
def test_biweekly_periods(day, expected):
    assert payout_period_for(day) == expected


def _influencers(brand, n):
    return [MembershipFactory(brand=brand, influencer=InfluencerFactory()).influencer for _ in range(n)]


def test_cutoff_releases_only_commissions_past_their_hold_and_builds_the_batch(
    brand_a, finance_a, django_capture_on_commit_callbacks
):
    a, b = _influencers(brand_a, 2)
    _confirmed(brand_a, a, "due-1", 1_000, datetime(2026, 3, 10, tzinfo=UTC))
    _confirmed(brand_a, a, "due-2", 500, datetime(2026, 3, 16, 4, 59, tzinfo=UTC))  # 23:59 local on the 15th
    _confirmed(brand_a, b, "later", 700, datetime(2026, 3, 16, 5, 1, tzinfo=UTC))  # after the period's end
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        batch = payout_cutoff_run(brand=brand_a, period_start=PERIOD, now=AFTER)

    assert batch.status == PayoutBatch.Status.READY
    assert (batch.released_count, batch.released_cents) == (2, 1_500)
    assert balances_for(brand=brand_a, influencer=a)[AccountKind.AVAILABLE] == 1_500
    assert balances_for(brand=brand_a, influencer=b)[AccountKind.HOLD] == 700
    assert LedgerTransaction.objects.filter(kind="release").count() == 1
    assert any(finance_a.email in m.to for m in mail.outbox)
    assert ledger_verify() == []


def test_a_second_run_changes_nothing(brand_a):
    (a,) = _influencers(brand_a, 1)
    _confirmed(brand_a, a, "x", 1_000, datetime(2026, 3, 1, tzinfo=UTC))
    first = payout_cutoff_run(brand=brand_a, period_start=PERIOD, now=AFTER)
    second = payout_cutoff_run(brand=brand_a, period_start=date(2026, 3, 9), now=AFTER)
    assert second.pk == first.pk
    assert LedgerTransaction.objects.filter(kind="release").count() == 1
    assert PayoutBatch.objects.count() == 1


def test_an_open_period_is_refused(brand_a):
    with pytest.raises(ApplicationError, match="has not ended"):
        payout_cutoff_run(brand=brand_a, period_start=PERIOD, now=datetime(2026, 3, 16, 4, tzinfo=UTC))
    assert not PayoutBatch.objects.exists()


def _auto_setup(brand, n):
    brand.min_withdrawal_cents = 100
    brand.save(update_fields=["min_withdrawal_cents"])
    PayoutSettings.objects.create(brand=brand, automatic_payouts=True)
    people = _influencers(brand, n)
    for index, person in enumerate(people):
        give_payout_account(person)
        _confirmed(brand, person, f"r{index}-1", 1_000 + index, datetime(2026, 3, 2, tzinfo=UTC))
        _confirmed(brand, person, f"r{index}-2", 50, datetime(2026, 3, 3, tzinfo=UTC))
    below = _influencers(brand, 1)[0]
    give_payout_account(below)
    _confirmed(brand, below, "small", 99, datetime(2026, 3, 2, tzinfo=UTC))
    return people


def _result():
    return (
        sorted(Withdrawal.objects.values_list("influencer_id", "amount_cents", "automatic")),
        sorted(CommissionPosition.objects.values_list("commission_ref", "held_cents", "released_cents")),
        LedgerTransaction.objects.filter(kind__in=["release", "withdrawal_reserve"]).count(),
    )


def test_automatic_payouts_create_one_withdrawal_per_influencer_above_the_minimum(brand_a):
    people = _auto_setup(brand_a, 3)
    batch = payout_cutoff_run(brand=brand_a, period_start=PERIOD, now=AFTER, chunk_size=2)
    withdrawals = Withdrawal.objects.filter(batch=batch)
    assert sorted(w.influencer_id for w in withdrawals) == sorted(p.pk for p in people)
    assert all(w.automatic and w.status == "requested" for w in withdrawals)
    assert balances_for(brand=brand_a, influencer=people[0])[AccountKind.RESERVED] == 1_050
    assert ledger_verify() == []


def test_a_run_after_a_crash_halfway_produces_the_same_batch(brand_a, monkeypatch, django_db_blocker):
    _auto_setup(brand_a, 5)
    # Reference result: a clean run inside a savepoint we roll back.

    with transaction.atomic():
        payout_cutoff_run(brand=brand_a, period_start=PERIOD, now=AFTER, chunk_size=2)
        expected = _result()
        transaction.set_rollback(True)

    calls = {"n": 0}

    def crash(stage, index):
        calls["n"] += 1
        if stage == "automatic" and index == 1:
            raise RuntimeError("worker killed")

    monkeypatch.setattr(cutoff_module, "after_chunk", crash)
    with pytest.raises(RuntimeError):
        payout_cutoff_run(brand=brand_a, period_start=PERIOD, now=AFTER, chunk_size=2)
    batch = PayoutBatch.objects.get()
    assert batch.status == PayoutBatch.Status.FAILED
    assert "worker killed" in batch.last_error

    monkeypatch.setattr(cutoff_module, "after_chunk", lambda stage, index: None)
    batch = payout_cutoff_run(brand=brand_a, period_start=PERIOD, now=AFTER, chunk_size=2)
    assert batch.status == PayoutBatch.Status.READY
    assert batch.runs == 2
    assert _result() == expected
    assert ledger_verify() == []


def test_open_withdrawals_requested_in_the_period_join_the_batch(brand_a, funded):
    withdrawal = withdrawal_request_create(influencer=funded, brand=brand_a, amount="100", requested_by=funded.user)
    start, _end = payout_period_for(withdrawal.requested_at.date())
    end_next = payout_period_for(start)[1] + timedelta(days=2)
    batch = payout_cutoff_run(
        brand=brand_a, period_start=start, now=datetime.combine(end_next, datetime.min.time(), tzinfo=UTC)
    )
    assert Withdrawal.objects.get(pk=withdrawal.pk).batch_id == batch.pk


def test_dispatcher_names_the_period_that_just_ended_in_each_brand_time_zone(brand_a, brand_b):
    brand_b.time_zone = "Asia/Tokyo"
    brand_b.save(update_fields=["time_zone"])
    # 2026-03-16 03:00 UTC: still the 15th in Bogotá, already the 16th in Tokyo.
    due = dict(payout_cutoff_dispatch(now=datetime(2026, 3, 16, 3, tzinfo=UTC)))
    assert due[brand_b.pk] == date(2026, 3, 1)
    assert due[brand_a.pk] == date(2026, 2, 16)
    PayoutBatch.objects.create(
        brand=brand_b, period_start=date(2026, 3, 1), period_end=date(2026, 3, 15), status="ready"
    )
    assert brand_b.pk not in dict(payout_cutoff_dispatch(now=datetime(2026, 3, 16, 3, tzinfo=UTC)))


def test_dispatch_task_runs_due_cutoffs(brand_a, time_machine):
    time_machine.move_to(datetime(2026, 3, 17, 12, tzinfo=UTC))
    result = payout_cutoff_dispatch_task.delay().get()
    assert [brand_a.pk, "2026-03-01"] in result
    assert PayoutBatch.objects.get(brand=brand_a, period_start=date(2026, 3, 1)).status == "ready"


def test_management_command(brand_a, time_machine, capsys):
    time_machine.move_to(datetime(2026, 3, 17, 12, tzinfo=UTC))
    call_command("payout_cutoff", "--brand", brand_a.slug, "--date", "2026-03-10")
    assert "ready" in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command("payout_cutoff", "--brand", "nope", "--date", "2026-03-10")
    with pytest.raises(CommandError, match="has not ended"):
        call_command("payout_cutoff", "--brand", brand_a.slug, "--date", "2026-03-17")


def test_a_refund_after_the_cutoff_lands_as_a_clawback_in_the_next_batch(brand_a, influencer_a, finance_a):
    """Period 1 releases and pays 100.00; the order is refunded (30.00) after that cutoff, so the
    money is clawed back from available (negative); period 2's automatic withdrawal nets it."""

    brand_a.min_withdrawal_cents = 10_00
    brand_a.save(update_fields=["min_withdrawal_cents"])
    PayoutSettings.objects.create(brand=brand_a, automatic_payouts=True, payout_change_cooldown_hours=0)
    give_payout_account(influencer_a)
    t0 = datetime(2026, 3, 2, 12, tzinfo=UTC)

    def earn(ref: str, cents: int, at: datetime) -> None:
        ledger_commission_accrue(
            brand=brand_a, influencer=influencer_a, commission_ref=ref, amount_cents=cents, occurred_at=at
        )
        ledger_commission_confirm(
            brand=brand_a,
            influencer=influencer_a,
            commission_ref=ref,
            occurred_at=at,
            hold_until=at + timedelta(days=3),
        )

    earn("order-1", 100_00, t0)
    first = payout_cutoff_run(brand=brand_a, period_start=date(2026, 3, 1), now=datetime(2026, 3, 16, 6, tzinfo=UTC))
    [paid] = Withdrawal.objects.filter(batch=first, automatic=True)
    assert paid.amount_cents == 100_00
    withdrawal_approve(withdrawal=paid, approver=finance_a)
    withdrawal_mark_paid(
        withdrawal=paid, actor=finance_a, transfer_reference="T-1", proof=SimpleUploadedFile("p.pdf", b"%PDF")
    )

    # The customer returns part of order 1 after the cutoff: a clawback from available.
    refund_at = datetime(2026, 3, 18, 12, tzinfo=UTC)
    clawback = ledger_commission_reverse(
        brand=brand_a,
        influencer=influencer_a,
        commission_ref="order-1",
        reversal_ref="return-1",
        amount_cents=30_00,
        occurred_at=refund_at,
    )
    assert clawback.kind == LedgerTransaction.Kind.CLAWBACK
    assert balances_for(brand=brand_a, influencer=influencer_a)[AccountKind.AVAILABLE] == -30_00

    earn("order-2", 50_00, datetime(2026, 3, 20, 12, tzinfo=UTC))
    second = payout_cutoff_run(brand=brand_a, period_start=date(2026, 3, 16), now=datetime(2026, 4, 1, 6, tzinfo=UTC))
    [netted] = Withdrawal.objects.filter(batch=second, automatic=True)
    assert netted.amount_cents == 50_00 - 30_00  # the clawback is taken in the next batch
    assert second.period_start <= refund_at.date() <= second.period_end
    balances = balances_for(brand=brand_a, influencer=influencer_a)
    assert (balances[AccountKind.AVAILABLE], balances[AccountKind.RESERVED]) == (0, 20_00)
    assert balances[AccountKind.PAID] == 100_00
    assert ledger_verify() == []
