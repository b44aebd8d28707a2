from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEvent
from core.errors import ApplicationError, Conflict, NotFound
from payments.models import AccountKind, CommissionPosition, LedgerEntry, LedgerTransaction
from payments.selectors import balances_for, ledger_verify
from payments.services import (
    Confirmation,
    ledger_commission_accrue,
    ledger_commission_accrue_each,
    ledger_commission_accrue_many,
    ledger_commission_confirm,
    ledger_commission_confirm_each,
    ledger_commission_confirm_many,
    ledger_commission_reverse,
)
from payments.services.ledger import Posting, UnbalancedTransaction, accounts_lock, post
from tests.factories import InfluencerFactory, MembershipFactory
from tests.payments.conftest import make_available

pytestmark = pytest.mark.django_db


def _balances(brand, influencer):
    return balances_for(brand=brand, influencer=influencer)


def test_accrual_credits_estimated_and_is_posted_once(brand_a, influencer_a):
    first = ledger_commission_accrue(
        brand=brand_a, influencer=influencer_a, commission_ref="o1-l1", amount_cents=12_345
    )
    again = ledger_commission_accrue(
        brand=brand_a, influencer=influencer_a, commission_ref="o1-l1", amount_cents=12_345
    )

    assert again.pk == first.pk
    assert LedgerTransaction.objects.filter(kind="accrue").count() == 1
    assert _balances(brand_a, influencer_a)[AccountKind.ESTIMATED] == 12_345
    assert AuditEvent.objects.filter(action="ledger.commission_accrued").count() == 1
    assert ledger_verify() == []


def test_accrual_repeated_with_another_amount_is_refused_and_changes_nothing(brand_a, influencer_a):
    ledger_commission_accrue(brand=brand_a, influencer=influencer_a, commission_ref="o1", amount_cents=100)
    with pytest.raises(Conflict):
        ledger_commission_accrue(brand=brand_a, influencer=influencer_a, commission_ref="o1", amount_cents=200)
    assert _balances(brand_a, influencer_a)[AccountKind.ESTIMATED] == 100
    assert LedgerEntry.objects.count() == 2


def test_confirmation_moves_money_on_hold_and_settles_a_lower_final_amount(brand_a, influencer_a):
    ledger_commission_accrue(brand=brand_a, influencer=influencer_a, commission_ref="o2", amount_cents=1_000)
    ledger_commission_confirm(brand=brand_a, influencer=influencer_a, commission_ref="o2", amount_cents=800)
    ledger_commission_confirm(brand=brand_a, influencer=influencer_a, commission_ref="o2", amount_cents=800)

    balances = _balances(brand_a, influencer_a)
    assert balances[AccountKind.ESTIMATED] == 0
    assert balances[AccountKind.HOLD] == 800
    position = CommissionPosition.objects.get(commission_ref="o2")
    assert position.hold_until is not None
    assert ledger_verify() == []


def test_many_confirmations_post_once_each_with_their_own_amount_and_hold(brand_a, influencer_a):
    ledger_commission_accrue_many(brand=brand_a, influencer=influencer_a, items=[("m1", 1_000), ("m2", 400)])
    later = timezone.now() + timedelta(days=40)
    items = [
        Confirmation(ref="m1", amount_cents=900),  # less than estimated: 100 back to the brand
        Confirmation(ref="m2"),  # what is estimated
        Confirmation(ref="m3", amount_cents=250, hold_until=later),  # never accrued
        Confirmation(ref="m1", amount_cents=900),  # the same reference twice: one confirmation
    ]
    with CaptureQueriesContext(connection) as captured:
        assert ledger_commission_confirm_many(brand=brand_a, influencer=influencer_a, items=items) == 3
    inserts = [q for q in captured.captured_queries if q["sql"].startswith('INSERT INTO "payments_ledgertransaction"')]
    assert len(inserts) == 1

    balances = _balances(brand_a, influencer_a)
    assert (balances[AccountKind.ESTIMATED], balances[AccountKind.HOLD]) == (0, 900 + 400 + 250)
    positions = {p.commission_ref: p for p in CommissionPosition.objects.filter(brand=brand_a)}
    assert {ref: p.held_cents for ref, p in positions.items()} == {"m1": 900, "m2": 400, "m3": 250}
    assert positions["m3"].hold_until == later
    assert positions["m1"].hold_until > timezone.now()
    assert AuditEvent.objects.filter(action="ledger.commission_confirmed").count() == 3
    assert ledger_verify() == []

    # Again: nothing is posted, whatever the amounts say now.
    assert ledger_commission_confirm_many(brand=brand_a, influencer=influencer_a, items=items) == 0
    assert LedgerTransaction.objects.filter(kind="confirm").count() == 3


def test_several_influencers_accrue_and_confirm_in_one_call_each_in_their_own_accounts(brand_a, influencer_a):
    other = InfluencerFactory()
    with CaptureQueriesContext(connection) as captured:
        posted = ledger_commission_accrue_each(
            brand=brand_a, accruals=[(influencer_a, [("e1", 1_000), ("e2", 300)]), (other, [("e3", 700)])]
        )
    assert posted == 3
    inserts = [q for q in captured.captured_queries if q["sql"].startswith('INSERT INTO "payments_ledgertransaction"')]
    assert len(inserts) == 1
    assert _balances(brand_a, influencer_a)[AccountKind.ESTIMATED] == 1_300
    assert _balances(brand_a, other)[AccountKind.ESTIMATED] == 700
    positions = {p.commission_ref: p for p in CommissionPosition.objects.filter(brand=brand_a)}
    assert {ref: (p.influencer_id, p.estimated_cents) for ref, p in positions.items()} == {
        "e1": (influencer_a.pk, 1_000),
        "e2": (influencer_a.pk, 300),
        "e3": (other.pk, 700),
    }
    assert all(p.accrued_at is not None for p in positions.values())

    # Again: nothing more; then confirmed, each from its own influencer's estimate.
    assert (
        ledger_commission_accrue_each(brand=brand_a, accruals=[(influencer_a, [("e1", 1_000)]), (other, [("e3", 700)])])
        == 0
    )
    confirmed = ledger_commission_confirm_each(
        brand=brand_a,
        confirmations=[(influencer_a, [Confirmation(ref="e1", amount_cents=900)]), (other, [Confirmation(ref="e3")])],
    )
    assert confirmed == 2
    assert (_balances(brand_a, influencer_a)[AccountKind.HOLD], _balances(brand_a, other)[AccountKind.HOLD]) == (
        900,
        700,
    )
    assert _balances(brand_a, influencer_a)[AccountKind.ESTIMATED] == 300
    assert CommissionPosition.objects.get(commission_ref="e3").held_cents == 700
    assert ledger_verify() == []


def test_one_refused_reference_among_several_influencers_posts_nothing_of_the_call(brand_a, influencer_a):
    other = InfluencerFactory()
    ledger_commission_accrue(brand=brand_a, influencer=influencer_a, commission_ref="a0", amount_cents=100)
    ledger_commission_confirm(brand=brand_a, influencer=influencer_a, commission_ref="c0", amount_cents=500)

    def counts():
        return LedgerTransaction.objects.count(), LedgerEntry.objects.count(), CommissionPosition.objects.count()

    before = counts()
    # Accrued before for another amount; then a reference whose position is another influencer's.
    for refused in ((influencer_a, [("a0", 999)]), (other, [("c0", 10)])):
        with pytest.raises(Conflict):
            ledger_commission_accrue_each(
                brand=brand_a, accruals=[(influencer_a, [("fresh", 50)]), (other, [("fresh2", 20)]), refused]
            )
        assert counts() == before
    assert _balances(brand_a, other)[AccountKind.ESTIMATED] == 0
    assert _balances(brand_a, influencer_a)[AccountKind.ESTIMATED] == 100
    assert ledger_verify() == []


def test_many_confirmations_with_one_that_has_nothing_to_confirm_post_nothing(brand_a, influencer_a):
    ledger_commission_accrue(brand=brand_a, influencer=influencer_a, commission_ref="n1", amount_cents=300)
    with pytest.raises(ApplicationError) as refused:
        ledger_commission_confirm_many(
            brand=brand_a, influencer=influencer_a, items=[Confirmation(ref="n1"), Confirmation(ref="n2")]
        )
    assert refused.value.code == "nothing_to_confirm"
    assert not LedgerTransaction.objects.filter(kind="confirm").exists()
    assert _balances(brand_a, influencer_a)[AccountKind.ESTIMATED] == 300


def test_confirmation_without_accrual_accrues_and_confirms_at_once(brand_a, influencer_a):
    ledger_commission_confirm(brand=brand_a, influencer=influencer_a, commission_ref="o3", amount_cents=500)
    assert _balances(brand_a, influencer_a)[AccountKind.HOLD] == 500
    # A late accrual (events out of order) posts nothing.
    assert (
        ledger_commission_accrue(brand=brand_a, influencer=influencer_a, commission_ref="o3", amount_cents=500) is None
    )
    assert _balances(brand_a, influencer_a)[AccountKind.ESTIMATED] == 0


def test_partial_reversals_take_from_the_current_stage_and_post_once_each(brand_a, influencer_a):
    ledger_commission_accrue(brand=brand_a, influencer=influencer_a, commission_ref="o4", amount_cents=1_000)
    ledger_commission_reverse(
        brand=brand_a, influencer=influencer_a, commission_ref="o4", reversal_ref="ret-1", amount_cents=300
    )
    ledger_commission_reverse(
        brand=brand_a, influencer=influencer_a, commission_ref="o4", reversal_ref="ret-1", amount_cents=300
    )
    ledger_commission_confirm(brand=brand_a, influencer=influencer_a, commission_ref="o4")
    ledger_commission_reverse(
        brand=brand_a, influencer=influencer_a, commission_ref="o4", reversal_ref="ret-2", amount_cents=200
    )
    balances = _balances(brand_a, influencer_a)
    assert balances[AccountKind.ESTIMATED] == 0
    assert balances[AccountKind.HOLD] == 500
    assert ledger_verify() == []


def test_reversal_after_release_is_a_clawback_that_can_make_available_negative(brand_a, influencer_a):
    make_available(brand_a, influencer_a, 1_000, ref="o5")
    # Pretend it was withdrawn and paid: move it out of available directly.
    with transaction.atomic():
        accounts = accounts_lock(brand=brand_a, influencer_ids=[influencer_a.pk])
        post(
            brand=brand_a,
            posting=Posting(
                kind="payout",
                reference="test-payout",
                occurred_at=timezone.now(),
                influencer_id=influencer_a.pk,
                lines=[
                    (accounts[(influencer_a.pk, AccountKind.AVAILABLE)], "D", 1_000),
                    (accounts[(influencer_a.pk, AccountKind.PAID)], "C", 1_000),
                ],
            ),
        )
    txn = ledger_commission_reverse(
        brand=brand_a, influencer=influencer_a, commission_ref="o5", reversal_ref="return-9", amount_cents=400
    )
    assert txn.kind == LedgerTransaction.Kind.CLAWBACK
    assert _balances(brand_a, influencer_a)[AccountKind.AVAILABLE] == -400
    assert _balances(brand_a, influencer_a)[AccountKind.PAID] == 1_000
    assert AuditEvent.objects.filter(action="ledger.commission_clawed_back").count() == 1


def test_reversing_more_than_remains_is_refused_and_changes_nothing(brand_a, influencer_a):
    ledger_commission_accrue(brand=brand_a, influencer=influencer_a, commission_ref="o6", amount_cents=100)
    entries = LedgerEntry.objects.count()
    with pytest.raises(ApplicationError, match="only 100 cents remain"):
        ledger_commission_reverse(
            brand=brand_a, influencer=influencer_a, commission_ref="o6", reversal_ref="r", amount_cents=101
        )
    with pytest.raises(NotFound):
        ledger_commission_reverse(
            brand=brand_a, influencer=influencer_a, commission_ref="nope", reversal_ref="r", amount_cents=1
        )
    assert LedgerEntry.objects.count() == entries


@pytest.mark.parametrize("amount", [0, -5, 1.5, "100", True, None])
def test_posting_api_refuses_bad_amounts(brand_a, influencer_a, amount):
    with pytest.raises(ApplicationError):
        ledger_commission_accrue(brand=brand_a, influencer=influencer_a, commission_ref="bad", amount_cents=amount)
    assert not LedgerTransaction.objects.exists()


def test_a_commission_cannot_move_to_another_influencer(brand_a, influencer_a):
    other = MembershipFactory(brand=brand_a, influencer=InfluencerFactory()).influencer
    ledger_commission_accrue(brand=brand_a, influencer=influencer_a, commission_ref="o7", amount_cents=100)
    with pytest.raises(Conflict):
        ledger_commission_confirm(brand=brand_a, influencer=other, commission_ref="o7")


def test_engine_refuses_an_unbalanced_transaction(brand_a, influencer_a):
    with transaction.atomic():
        accounts = accounts_lock(brand=brand_a, influencer_ids=[influencer_a.pk])
        with pytest.raises(UnbalancedTransaction):
            post(
                brand=brand_a,
                posting=Posting(
                    kind="accrue",
                    reference="x",
                    occurred_at=timezone.now(),
                    lines=[(accounts[(influencer_a.pk, AccountKind.ESTIMATED)], "C", 10)],
                ),
            )
    assert not LedgerTransaction.objects.exists()


def test_entries_cannot_be_updated_or_deleted(brand_a, influencer_a):
    ledger_commission_accrue(brand=brand_a, influencer=influencer_a, commission_ref="o8", amount_cents=100)
    entry = LedgerEntry.objects.first()
    with pytest.raises(Exception), transaction.atomic():  # noqa: B017, PT011 - the database refuses
        LedgerEntry.objects.filter(pk=entry.pk).update(amount_cents=1)
    with pytest.raises(Exception), transaction.atomic():  # noqa: B017, PT011
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    entry.refresh_from_db()
    assert entry.amount_cents == 100


def test_database_refuses_non_positive_entry_amounts(brand_a, influencer_a):
    ledger_commission_accrue(brand=brand_a, influencer=influencer_a, commission_ref="o9", amount_cents=100)
    txn = LedgerTransaction.objects.get()
    account = LedgerEntry.objects.first().account
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(transaction=txn, account=account, side="D", amount_cents=0)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_trigger_refuses_an_unbalanced_transaction_at_commit(brand_a, influencer_a):
    ledger_commission_accrue(brand=brand_a, influencer=influencer_a, commission_ref="o10", amount_cents=100)
    account = LedgerEntry.objects.first().account
    with pytest.raises(IntegrityError, match="does not balance"), transaction.atomic():  # noqa: PT012 - fails at commit
        txn = LedgerTransaction.objects.create(
            brand=brand_a, kind="accrue", reference="rogue", occurred_at=timezone.now()
        )
        LedgerEntry.objects.create(transaction=txn, account=account, side="C", amount_cents=50)
    assert not LedgerTransaction.objects.filter(reference="rogue").exists()
    assert connection.vendor == "postgresql"


def test_hold_defaults_to_the_brand_hold_days(brand_a, influencer_a):
    brand_a.default_hold_days = 7
    when = timezone.now()
    ledger_commission_confirm(
        brand=brand_a, influencer=influencer_a, commission_ref="o11", amount_cents=100, occurred_at=when
    )
    assert CommissionPosition.objects.get(commission_ref="o11").hold_until == when + timedelta(days=7)
