"""A stateful property test: any sequence of accruals, confirmations, reversals, clawbacks,
withdrawals (requested, approved, paid, rejected, failed) and cutoffs keeps the ledger's
invariants after every step. On PostgreSQL the balance trigger checks every statement."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule, run_state_machine_as_test

from core.errors import ApplicationError
from payments.models import AccountKind, CommissionPosition, LedgerEntry, PayoutSettings, Withdrawal, WithholdingRule
from payments.selectors import balances_for, ledger_verify
from payments.services import (
    ledger_commission_accrue,
    ledger_commission_confirm,
    ledger_commission_reverse,
    payout_cutoff_run,
    withdrawal_approve,
    withdrawal_mark_failed,
    withdrawal_mark_paid,
    withdrawal_reject,
    withdrawal_request_create,
)
from payments.services.cutoff import previous_period
from payments.services.withdrawals import payout_settings_for
from tests.factories import InfluencerFactory, MembershipFactory
from tests.payments.conftest import give_payout_account

pytestmark = pytest.mark.django_db


class LedgerMachine(RuleBasedStateMachine):
    refs = Bundle("refs")
    withdrawals = Bundle("withdrawals")

    def __init__(self, brand: Any, influencers: list[Any], finance: Any) -> None:
        super().__init__()
        self.brand, self.influencers, self.finance = brand, influencers, finance
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        self.now = timezone.now()
        self.counter = 0
        self.seen_entries: dict[int, tuple[int, str, int]] = {}
        self.paid: dict[int, tuple[Any, ...]] = {}
        self.clawed: set[int] = set()

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def _state(self) -> tuple[int, int]:
        return LedgerEntry.objects.count(), Withdrawal.objects.exclude(status="requested").count()

    @rule(target=refs, who=st.integers(0, 2), cents=st.integers(1, 500_000))
    def accrue(self, who: int, cents: int) -> tuple[int, str]:
        self.counter += 1
        ref = f"c{self.counter}"
        ledger_commission_accrue(
            brand=self.brand,
            influencer=self.influencers[who],
            commission_ref=ref,
            amount_cents=cents,
            occurred_at=self.now,
        )
        return who, ref

    @rule(ref=refs, hold_days=st.integers(0, 40), adjust=st.sampled_from([None, 0.5, 1.2]))
    def confirm(self, ref: tuple[int, str], hold_days: int, adjust: float | None) -> None:
        who, key = ref

        position = CommissionPosition.objects.get(brand=self.brand, commission_ref=key)
        amount = None if adjust is None else max(1, int(position.estimated_cents * adjust))
        try:
            ledger_commission_confirm(
                brand=self.brand,
                influencer=self.influencers[who],
                commission_ref=key,
                amount_cents=amount,
                occurred_at=self.now,
                hold_until=self.now + timedelta(days=hold_days),
            )
        except ApplicationError as exc:
            assert exc.code == "nothing_to_confirm"  # noqa: PT017 - inside a state machine rule

    @rule(ref=refs, fraction=st.floats(0.05, 1.0), tag=st.integers(0, 3))
    def reverse(self, ref: tuple[int, str], fraction: float, tag: int) -> None:
        who, key = ref

        p = CommissionPosition.objects.get(brand=self.brand, commission_ref=key)
        left = p.estimated_cents + p.held_cents + p.released_cents - p.clawed_back_cents
        if left <= 0:
            return
        txn = ledger_commission_reverse(
            brand=self.brand,
            influencer=self.influencers[who],
            commission_ref=key,
            reversal_ref=f"r{tag}",
            amount_cents=max(1, int(left * fraction)),
            occurred_at=self.now,
        )
        if txn.kind == "clawback":
            self.clawed.add(self.influencers[who].pk)

    @rule(days=st.integers(1, 20))
    def cutoff(self, days: int) -> None:
        self.now += timedelta(days=days)
        start, _end = previous_period(timezone.localtime(self.now, self.brand.tz).date())
        payout_cutoff_run(brand=self.brand, period_start=start, now=self.now, chunk_size=2)

    @rule(
        target=withdrawals,
        who=st.integers(0, 2),
        amount=st.one_of(
            st.integers(-5, 2_000_000).map(lambda c: f"{c / 100:.2f}"),
            st.sampled_from(["0", "abc", "1.001", "1e400"]),
        ),
        everything=st.booleans(),
    )
    def withdraw(self, who: int, amount: str, everything: bool) -> int:
        person = self.influencers[who]
        before = self._state()
        try:
            return withdrawal_request_create(
                influencer=person, brand=self.brand, amount=amount, all_available=everything, requested_by=person.user
            ).pk
        except ApplicationError:
            assert self._state() == before
            return 0

    @rule(pk=withdrawals)
    def approve(self, pk: int) -> None:
        w = Withdrawal.objects.filter(pk=pk).first()
        if w and w.status == "requested":
            withdrawal_approve(withdrawal=w, approver=self.finance)

    @rule(pk=consumes(withdrawals), outcome=st.sampled_from(["pay", "reject", "fail"]))
    def settle(self, pk: int, outcome: str) -> None:
        w = Withdrawal.objects.filter(pk=pk).first()
        if w is None or w.status not in ("requested", "approved"):
            return
        if outcome == "reject":
            withdrawal_reject(withdrawal=w, actor=self.finance, reason="no")
        elif w.status == "approved" and outcome == "pay":
            w = withdrawal_mark_paid(
                withdrawal=w,
                actor=self.finance,
                transfer_reference=f"T{pk}",
                proof=SimpleUploadedFile("p.pdf", b"%PDF"),
            )
            self.paid[w.pk] = (w.amount_cents, w.withholding_cents, w.transfer_reference, w.paid_at, w.status)
        elif w.status == "approved":
            withdrawal_mark_failed(withdrawal=w, actor=self.finance, reason="bank said no")

    @invariant()
    def ledger_is_consistent(self) -> None:
        assert ledger_verify(brand=self.brand) == []

    @invariant()
    def entries_are_append_only(self) -> None:
        current = {
            pk: (acc, side, amt)
            for pk, acc, side, amt in LedgerEntry.objects.values_list("pk", "account_id", "side", "amount_cents")
        }
        for pk, row in self.seen_entries.items():
            assert current.get(pk) == row
        self.seen_entries = current

    @invariant()
    def nothing_paid_was_edited(self) -> None:
        for pk, snapshot in self.paid.items():
            w = Withdrawal.objects.get(pk=pk)
            assert (w.amount_cents, w.withholding_cents, w.transfer_reference, w.paid_at, w.status) == snapshot

    @invariant()
    def available_is_negative_only_after_a_clawback(self) -> None:
        for person in self.influencers:
            if person.pk not in self.clawed:
                assert balances_for(brand=self.brand, influencer=person)[AccountKind.AVAILABLE] >= 0


@pytest.mark.parametrize("automatic", [False, True])
def test_ledger_invariants_hold_for_any_sequence_of_events(brand_a, finance_a, automatic):
    brand_a.min_withdrawal_cents = 10_00
    brand_a.save(update_fields=["min_withdrawal_cents"])
    options = payout_settings_for(brand=brand_a)
    PayoutSettings.objects.filter(pk=options.pk).update(
        automatic_payouts=automatic, second_approval_threshold_cents=None
    )
    WithholdingRule.objects.create(
        brand=brand_a,
        name="Retención",
        country="CO",
        rate=Decimal("11"),
        threshold_cents=500_00,
        base=WithholdingRule.Base.EXCESS,
        effective_from=date(2000, 1, 1),
    )
    people = []
    for _ in range(3):
        person = MembershipFactory(brand=brand_a, influencer=InfluencerFactory(country="CO")).influencer
        give_payout_account(person)
        people.append(person)
    run_state_machine_as_test(
        lambda: LedgerMachine(brand_a, people, finance_a),
        settings=settings(
            max_examples=20,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
