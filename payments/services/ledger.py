"""The double-entry ledger: posting engine, account locks, and the commission posting API.

Locking discipline (docs/ledger.md): every posting that touches an influencer's money first
locks *all* of that influencer's accounts in the brand, in primary-key order. Bulk operations
(the cutoff) lock many influencers' accounts in the same global pk order, so they never
deadlock with single postings. The brand's expense account is never locked: nothing is
decided from its balance.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import BigIntegerField, Case, Count, F, Min, Q, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from core import batching
from core.bulk import rows_insert, rows_update
from core.errors import ApplicationError, Conflict, NotFound
from payments.locks import ledger_accounts_lock
from payments.models import (
    INFLUENCER_ACCOUNT_KINDS,
    AccountKind,
    CommissionPosition,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    PayoutBatch,
)

D: str = LedgerEntry.Side.DEBIT
C: str = LedgerEntry.Side.CREDIT
Kind = LedgerTransaction.Kind
MAX_CENTS = 10**15  # far above any real commission; refuses overflow and typos alike


class UnbalancedTransaction(ApplicationError):
    default_code = "unbalanced"


@dataclass
class Posting:
    """A transaction to post. `lines` are (account, side, amount); zero amounts are dropped."""

    kind: str
    reference: str
    lines: list[tuple[LedgerAccount, str, int]]
    occurred_at: datetime
    influencer_id: int | None = None
    commission_ref: str = ""
    withdrawal_id: int | None = None
    batch_id: int | None = None
    memo: str = ""
    _clean: list[tuple[LedgerAccount, str, int]] = field(default_factory=list, repr=False)


# --- Accounts and balances ------------------------------------------------------------------


def brand_expense_account(*, brand: Any) -> LedgerAccount:
    def get() -> LedgerAccount:
        account, _created = LedgerAccount.objects.get_or_create(
            brand=brand, influencer=None, kind=AccountKind.COMMISSION_EXPENSE, defaults={"currency": brand.currency}
        )
        return account

    return batching.memo(("ledger.expense_account", brand.pk), get)


def accounts_ensure(*, brand: Any, influencer_ids: Iterable[int]) -> None:
    """Create the influencers' stage accounts that do not exist yet (safe under concurrency)."""
    ids = set(influencer_ids)
    if not ids:
        return
    existing = set(
        LedgerAccount.objects.filter(brand=brand, influencer_id__in=ids).values_list("influencer_id", "kind")
    )
    missing = [
        LedgerAccount(brand=brand, influencer_id=influencer_id, kind=kind, currency=brand.currency)
        for influencer_id in sorted(ids)
        for kind in INFLUENCER_ACCOUNT_KINDS
        if (influencer_id, kind) not in existing
    ]
    if missing:
        LedgerAccount.objects.bulk_create(missing, ignore_conflicts=True, batch_size=2000)


def accounts_lock(*, brand: Any, influencer_ids: Iterable[int]) -> dict[tuple[int, str], LedgerAccount]:
    """Lock (SELECT … FOR UPDATE, pk order) every stage account of these influencers in the
    brand and return them by (influencer id, kind). Call inside a transaction."""
    ids = sorted(set(influencer_ids))
    # Inside a batch (core.batching) the accounts locked earlier in the same transaction are
    # still locked: only the others are ensured and locked.
    held: dict[tuple[int, str], LedgerAccount] = batching.memo(("ledger.locked_accounts", brand.pk), dict)
    todo = [i for i in ids if (i, INFLUENCER_ACCOUNT_KINDS[0]) not in held]
    if todo:
        accounts_ensure(brand=brand, influencer_ids=todo)
        locked = ledger_accounts_lock(brand_id=brand.pk, influencer_ids=todo)
        found = {(account.influencer_id, account.kind): account for account in locked if account.influencer_id}
        if batching.current() is None:
            return found
        held.update(found)
    return {key: account for key, account in held.items() if key[0] in ids}


_SIGNED = Case(
    When(side=C, then=F("amount_cents")),
    default=F("amount_cents") * Value(-1),
    output_field=BigIntegerField(),
)


def balances_by_account(account_ids: Iterable[int]) -> dict[int, int]:
    """Balance (credits − debits) per account id, summed from the entries."""
    ids = list(account_ids)
    result = dict.fromkeys(ids, 0)
    rows = LedgerEntry.objects.filter(account_id__in=ids).values("account_id").annotate(total=Sum(_SIGNED))
    for row in rows.order_by():
        result[row["account_id"]] = int(row["total"] or 0)
    return result


def account_balance(account: LedgerAccount) -> int:
    return balances_by_account([account.pk])[account.pk]


# --- Posting engine -------------------------------------------------------------------------


def _validate(posting: Posting, *, currency: str) -> None:
    lines = []
    for account, side, amount in posting.lines:
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise UnbalancedTransaction(_("Ledger amounts must be whole numbers of cents."))
        if amount < 0:
            raise UnbalancedTransaction(_("Ledger amounts cannot be negative; post the opposite side instead."))
        if amount == 0:
            continue
        if side not in (D, C):
            raise UnbalancedTransaction(_("A ledger line is either a debit or a credit."))
        if account.currency != currency:
            raise UnbalancedTransaction(
                _("Account %(account)s is in %(theirs)s, the transaction in %(ours)s.")
                % {"account": account.pk, "theirs": account.currency, "ours": currency}
            )
        lines.append((account, side, amount))
    debits = sum(amount for _a, side, amount in lines if side == D)
    credits = sum(amount for _a, side, amount in lines if side == C)
    if len(lines) < 2 or debits != credits:
        raise UnbalancedTransaction(
            _("Refused an unbalanced ledger transaction (%(kind)s %(ref)s: debits %(d)s, credits %(c)s).")
            % {"kind": posting.kind, "ref": posting.reference, "d": debits, "c": credits}
        )
    posting._clean = lines


def post_many(*, brand: Any, postings: Sequence[Posting]) -> list[LedgerTransaction]:
    """Insert the transactions and all their entries (one INSERT for the entries, so even an
    immediate balance check sees whole transactions). The caller holds the account locks."""
    if not postings:
        return []
    for posting in postings:
        _validate(posting, currency=brand.currency)
    # No savepoint: callers already hold a transaction (the account locks), and whatever fails
    # in here is a database error that aborts it anyway; a savepoint costs two round trips
    # per posting on the order sync's hot path.
    with transaction.atomic(savepoint=False):
        txns = [
            LedgerTransaction(
                brand=brand,
                influencer_id=p.influencer_id,
                kind=p.kind,
                reference=p.reference,
                commission_ref=p.commission_ref,
                withdrawal_id=p.withdrawal_id,
                batch_id=p.batch_id,
                memo=p.memo[:255],
                occurred_at=p.occurred_at,
            )
            for p in postings
        ]
        rows_insert(txns)
        rows_insert(
            [
                LedgerEntry(transaction=txn, account=account, side=side, amount_cents=amount)
                for txn, posting in zip(txns, postings, strict=True)
                for account, side, amount in posting._clean
            ]
        )
    return txns


def post(*, brand: Any, posting: Posting) -> LedgerTransaction:
    return post_many(brand=brand, postings=[posting])[0]


def _existing(brand: Any, kinds: Sequence[str], reference: str) -> LedgerTransaction | None:
    return LedgerTransaction.objects.filter(brand=brand, kind__in=kinds, reference=reference).first()


def _check_amount(amount_cents: Any) -> int:
    if not isinstance(amount_cents, int) or isinstance(amount_cents, bool):
        raise ApplicationError(_("The amount must be a whole number of cents."), code="not_a_number")
    if amount_cents <= 0:
        raise ApplicationError(_("The amount must be greater than zero."), code="not_positive")
    if amount_cents > MAX_CENTS:
        raise ApplicationError(_("The amount is implausibly large."), code="too_large")
    return amount_cents


def _check_ref(commission_ref: str) -> str:
    ref = (commission_ref or "").strip()
    if not ref or len(ref) > 150:
        raise ApplicationError(_("A commission reference of 1 to 150 characters is required."), code="bad_reference")
    return ref


def _position(*, brand: Any, influencer: Any, commission_ref: str) -> CommissionPosition:
    position, _created = CommissionPosition.objects.get_or_create(
        brand=brand, commission_ref=commission_ref, defaults={"influencer": influencer}
    )
    if position.influencer_id != influencer.pk:
        raise Conflict(
            _("Commission %(ref)s belongs to another influencer; it cannot be posted for this one.")
            % {"ref": commission_ref}
        )
    return position


# --- Commission posting API (called by the commissions engine) ------------------------------


def ledger_commission_accrue(
    *, brand: Any, influencer: Any, commission_ref: str, amount_cents: int, occurred_at: datetime | None = None
) -> LedgerTransaction | None:
    """An estimated commission: Dr brand expense, Cr influencer *estimated*.

    Idempotent on `commission_ref`: posting it again returns the first transaction; posting it
    again with another amount is refused (the final amount is settled by the confirmation).
    An accrual arriving after its confirmation (events out of order) posts nothing → None.
    One commission through `ledger_commission_accrue_many`, so both follow one code path."""
    ref = _check_ref(commission_ref)
    with transaction.atomic():
        ledger_commission_accrue_many(
            brand=brand, influencer=influencer, items=[(ref, amount_cents)], occurred_at=occurred_at
        )
        return _existing(brand, [Kind.ACCRUE], ref)


def ledger_commission_accrue_many(
    *, brand: Any, influencer: Any, items: Sequence[tuple[str, int]], occurred_at: datetime | None = None
) -> int:
    """`ledger_commission_accrue` for several commissions of one influencer at once (the order
    sync accrues every line of an order): `ledger_commission_accrue_each` for one influencer."""
    return ledger_commission_accrue_each(brand=brand, accruals=[(influencer, items)], occurred_at=occurred_at)


def ledger_commission_accrue_each(
    *,
    brand: Any,
    accruals: Sequence[tuple[Any, Sequence[tuple[str, int]]]],
    occurred_at: datetime | None = None,
) -> int:
    """`ledger_commission_accrue` for several commissions of several influencers of one brand
    at once ((influencer, [(ref, amount), …]) pairs; a batch of orders accrues every
    influencer's lines of all of them): the influencers' accounts locked in one statement (pk
    order), then one query or INSERT per table for all of them, instead of a dozen round trips
    per commission or one set per influencer. The same rules per reference: an accrual already
    posted with the same amount is skipped, with another amount it is refused (Conflict,
    nothing of the call posted); one whose position is already confirmed or reversed posts
    nothing. Returns how many were posted."""
    checked = [
        (influencer, _check_ref(ref), _check_amount(amount)) for influencer, items in accruals for ref, amount in items
    ]
    if not checked:
        return 0
    occurred_at = occurred_at or timezone.now()
    influencers = {influencer.pk: influencer for influencer, _ref, _amount in checked}
    with transaction.atomic():
        accounts = accounts_lock(brand=brand, influencer_ids=influencers)
        posted = _accrued_amounts(brand=brand, refs=[ref for _influencer, ref, _amount in checked])
        todo: list[tuple[Any, str, int]] = []
        for influencer, ref, amount in checked:
            if ref not in posted:
                todo.append((influencer, ref, amount))
            elif posted[ref] != amount:
                raise Conflict(
                    _("Commission %(ref)s was already accrued for %(posted)s cents, not %(amount)s.")
                    % {"ref": ref, "posted": posted[ref], "amount": amount}
                )
        if not todo:
            return 0
        positions = _positions_of(brand=brand, owners=[(influencer, ref) for influencer, ref, _amount in todo])
        todo = [
            (influencer, ref, amount)
            for influencer, ref, amount in todo
            if not positions[ref].confirmed_at and not positions[ref].reversed_cents
        ]
        if not todo:
            return 0
        expense = brand_expense_account(brand=brand)
        txns = post_many(
            brand=brand,
            postings=[
                Posting(
                    kind=Kind.ACCRUE,
                    reference=ref,
                    commission_ref=ref,
                    influencer_id=influencer.pk,
                    occurred_at=occurred_at,
                    lines=[(expense, D, amount), (accounts[(influencer.pk, AccountKind.ESTIMATED)], C, amount)],
                )
                for influencer, ref, amount in todo
            ],
        )
        for _influencer, ref, amount in todo:
            positions[ref].estimated_cents += amount
            positions[ref].accrued_at = occurred_at
        rows_update([positions[ref] for _influencer, ref, _amount in todo], ["estimated_cents", "accrued_at"])
        for txn, (influencer, ref, amount) in zip(txns, todo, strict=True):
            audit_record(
                action="ledger.commission_accrued",
                target=txn,
                brand_id=brand.pk,
                after={"commission_ref": ref, "influencer": influencer.pk, "amount_cents": amount},
            )
    return len(todo)


def _accrued_amounts(*, brand: Any, refs: Sequence[str]) -> dict[str, int]:
    """What is already accrued under each of these references: the credit of its accrual
    (one statement)."""
    rows = (
        LedgerTransaction.objects.filter(brand=brand, kind=Kind.ACCRUE, reference__any=refs)
        .annotate(credited=Sum("entries__amount_cents", filter=Q(entries__side=C)))
        .values_list("reference", "credited")
        .order_by()
    )
    return {reference: int(credited or 0) for reference, credited in rows}


def _positions_of(*, brand: Any, owners: Sequence[tuple[Any, str]]) -> dict[str, CommissionPosition]:
    """`_position` for several (influencer, reference) pairs: select, insert the missing ones
    (ignoring a concurrent insert), select those again; a reference that belongs to another
    influencer is refused (Conflict)."""
    refs = [ref for _influencer, ref in owners]
    found = {p.commission_ref: p for p in CommissionPosition.objects.filter(brand=brand, commission_ref__any=refs)}
    missing = [(influencer, ref) for influencer, ref in owners if ref not in found]
    if missing:
        rows_insert(
            [CommissionPosition(brand=brand, influencer=influencer, commission_ref=ref) for influencer, ref in missing],
            ignore_conflicts=True,
        )
        found.update(
            {
                p.commission_ref: p
                for p in CommissionPosition.objects.filter(
                    brand=brand, commission_ref__any=[ref for _influencer, ref in missing]
                )
            }
        )
    for influencer, ref in owners:
        if found[ref].influencer_id != influencer.pk:
            raise Conflict(
                _("Commission %(ref)s belongs to another influencer; it cannot be posted for this one.") % {"ref": ref}
            )
    return found


def ledger_commission_confirm(
    *,
    brand: Any,
    influencer: Any,
    commission_ref: str,
    amount_cents: int | None = None,
    hold_until: datetime | None = None,
    occurred_at: datetime | None = None,
) -> LedgerTransaction:
    """The commission is confirmed (order paid/invoiced): its money moves from *estimated* to
    *on hold* until `hold_until` (default: `occurred_at` + the brand's hold days).

    `amount_cents` is the final amount (default: what is still estimated). A difference from the
    estimate is settled against the brand's expense in the same transaction. A confirmation
    without an earlier accrual accrues and confirms at once. Idempotent on `commission_ref`.
    One commission through `ledger_commission_confirm_many`, so both follow one code path."""
    ref = _check_ref(commission_ref)
    with transaction.atomic():
        ledger_commission_confirm_many(
            brand=brand,
            influencer=influencer,
            items=[Confirmation(ref=ref, amount_cents=amount_cents, hold_until=hold_until)],
            occurred_at=occurred_at,
        )
        txn = _existing(brand, [Kind.CONFIRM], ref)
        assert txn is not None  # posted now or before
    return txn


@dataclass(frozen=True)
class Confirmation:
    """One commission to confirm (`ledger_commission_confirm_many`): its reference, its final
    amount (None: what is still estimated) and when its hold ends (None: the brand's hold days
    after the confirmation)."""

    ref: str
    amount_cents: int | None = None
    hold_until: datetime | None = None


def ledger_commission_confirm_many(
    *, brand: Any, influencer: Any, items: Sequence[Confirmation], occurred_at: datetime | None = None
) -> int:
    """`ledger_commission_confirm` for several commissions of one influencer at once (an invoiced
    order confirms every line): `ledger_commission_confirm_each` for one influencer."""
    return ledger_commission_confirm_each(brand=brand, confirmations=[(influencer, items)], occurred_at=occurred_at)


def ledger_commission_confirm_each(
    *,
    brand: Any,
    confirmations: Sequence[tuple[Any, Sequence[Confirmation]]],
    occurred_at: datetime | None = None,
) -> int:
    """`ledger_commission_confirm` for several commissions of several influencers of one brand
    at once ((influencer, [Confirmation, …]) pairs; a batch of invoiced orders confirms every
    influencer's lines of all of them): one account lock and one query or INSERT per table
    for all of them. The same rules per reference: one already confirmed is skipped; one with
    nothing estimated and no amount given is refused (nothing of the call is posted). Returns
    how many were posted."""
    wanted: dict[str, tuple[Any, Confirmation]] = {}
    for influencer, items in confirmations:
        for item in items:
            # The same reference twice in one call is one confirmation.
            wanted.setdefault(_check_ref(item.ref), (influencer, item))
    if not wanted:
        return 0
    occurred_at = occurred_at or timezone.now()
    with transaction.atomic():
        accounts = accounts_lock(brand=brand, influencer_ids={influencer.pk for influencer, _item in wanted.values()})
        done = set(
            LedgerTransaction.objects.filter(brand=brand, kind=Kind.CONFIRM, reference__any=list(wanted)).values_list(
                "reference", flat=True
            )
        )
        todo = [(ref, influencer, item) for ref, (influencer, item) in wanted.items() if ref not in done]
        if not todo:
            return 0
        positions = _positions_of(brand=brand, owners=[(influencer, ref) for ref, influencer, _item in todo])
        expense = brand_expense_account(brand=brand)
        postings: list[Posting] = []
        amounts: list[tuple[int, int]] = []
        for ref, influencer, item in todo:
            estimated_account = accounts[(influencer.pk, AccountKind.ESTIMATED)]
            hold_account = accounts[(influencer.pk, AccountKind.HOLD)]
            estimated = positions[ref].estimated_cents
            if item.amount_cents is not None:
                amount = _check_amount(item.amount_cents)
            elif estimated > 0:
                amount = estimated
            else:
                raise ApplicationError(
                    _("Commission %(ref)s has nothing estimated left to confirm; pass the confirmed amount.")
                    % {"ref": ref},
                    code="nothing_to_confirm",
                )
            moved = min(estimated, amount)
            postings.append(
                Posting(
                    kind=Kind.CONFIRM,
                    reference=ref,
                    commission_ref=ref,
                    influencer_id=influencer.pk,
                    occurred_at=occurred_at,
                    lines=[
                        (estimated_account, D, moved),
                        (hold_account, C, moved),
                        # Confirmed for less than estimated: the rest goes back to the brand.
                        (estimated_account, D, estimated - moved),
                        (expense, C, estimated - moved),
                        # Confirmed for more (or never accrued): the extra is accrued straight into hold.
                        (expense, D, amount - moved),
                        (hold_account, C, amount - moved),
                    ],
                )
            )
            amounts.append((estimated, amount))
        txns = post_many(brand=brand, postings=postings)
        for (ref, _influencer, item), (_estimated, amount) in zip(todo, amounts, strict=True):
            position = positions[ref]
            position.estimated_cents = 0
            position.held_cents += amount
            position.confirmed_at = occurred_at
            position.hold_until = item.hold_until or occurred_at + timedelta(days=brand.default_hold_days)
        rows_update(
            [positions[ref] for ref, _influencer, _item in todo],
            ["estimated_cents", "held_cents", "confirmed_at", "hold_until"],
        )
        for txn, (ref, _influencer, _item), (estimated, amount) in zip(txns, todo, amounts, strict=True):
            audit_record(
                action="ledger.commission_confirmed",
                target=txn,
                brand_id=brand.pk,
                before={"estimated_cents": estimated},
                after={"commission_ref": ref, "amount_cents": amount, "hold_until": positions[ref].hold_until},
            )
    return len(todo)


def ledger_commission_reverse(
    *,
    brand: Any,
    influencer: Any,
    commission_ref: str,
    reversal_ref: str,
    amount_cents: int,
    occurred_at: datetime | None = None,
) -> LedgerTransaction:
    """Take back `amount_cents` of a commission (a cancellation or a return, whole or partial).

    The money comes from where the commission is now: first *estimated*, then *on hold*, then —
    once released — *available*, which makes it a clawback (kind `clawback`); a clawback may
    drive *available* below zero, which blocks withdrawals until new earnings cover it.
    Idempotent on (`commission_ref`, `reversal_ref`), so each partial return posts once."""
    ref = _check_ref(commission_ref)
    rev = _check_ref(reversal_ref)
    amount = _check_amount(amount_cents)
    occurred_at = occurred_at or timezone.now()
    reference = f"{ref}#{rev}"
    with transaction.atomic():
        accounts = accounts_lock(brand=brand, influencer_ids=[influencer.pk])
        existing = _existing(brand, [Kind.REVERSE, Kind.CLAWBACK], reference)
        if existing is not None:
            return existing
        position = CommissionPosition.objects.filter(brand=brand, commission_ref=ref).first()
        if position is None:
            raise NotFound(_("Commission %(ref)s was never posted to the ledger.") % {"ref": ref})
        if position.influencer_id != influencer.pk:
            raise Conflict(_("Commission %(ref)s belongs to another influencer.") % {"ref": ref})
        outstanding = (
            position.estimated_cents + position.held_cents + position.released_cents - position.clawed_back_cents
        )
        if amount > outstanding:
            raise ApplicationError(
                _("Cannot reverse %(amount)s cents of commission %(ref)s: only %(left)s cents remain.")
                % {"amount": amount, "ref": ref, "left": outstanding},
                code="reversal_too_large",
            )
        from_estimated = min(amount, position.estimated_cents)
        from_hold = min(amount - from_estimated, position.held_cents)
        from_available = amount - from_estimated - from_hold
        txn = post(
            brand=brand,
            posting=Posting(
                kind=Kind.CLAWBACK if from_available else Kind.REVERSE,
                reference=reference,
                commission_ref=ref,
                influencer_id=influencer.pk,
                occurred_at=occurred_at,
                lines=[
                    (accounts[(influencer.pk, AccountKind.ESTIMATED)], D, from_estimated),
                    (accounts[(influencer.pk, AccountKind.HOLD)], D, from_hold),
                    (accounts[(influencer.pk, AccountKind.AVAILABLE)], D, from_available),
                    (brand_expense_account(brand=brand), C, amount),
                ],
            ),
        )
        before = {
            "estimated": position.estimated_cents,
            "held": position.held_cents,
            "clawed_back": position.clawed_back_cents,
        }
        position.estimated_cents -= from_estimated
        position.held_cents -= from_hold
        position.reversed_cents += from_estimated + from_hold
        position.clawed_back_cents += from_available
        position.save(update_fields=["estimated_cents", "held_cents", "reversed_cents", "clawed_back_cents"])
        audit_record(
            action="ledger.commission_clawed_back" if from_available else "ledger.commission_reversed",
            target=txn,
            brand_id=brand.pk,
            before=before,
            after={
                "commission_ref": ref,
                "reversal_ref": rev,
                "amount_cents": amount,
                "clawback_cents": from_available,
            },
        )
    return txn


# --- Release after the hold period (used by the cutoff) -------------------------------------


def ledger_release_due(
    *, brand: Any, influencer_ids: Sequence[int], due_at: datetime, batch: PayoutBatch
) -> tuple[int, int]:
    """Release every confirmed amount of these influencers whose hold ended by `due_at`: one
    transaction per influencer, Dr *on hold*, Cr *available*. Returns (positions, cents).

    Set-based so the cutoff scales; safe to repeat: released positions drop out of the due set
    under the same account locks. Call inside a transaction."""
    if not influencer_ids:
        return 0, 0
    accounts = accounts_lock(brand=brand, influencer_ids=influencer_ids)
    due = CommissionPosition.objects.filter(
        brand=brand, influencer_id__in=influencer_ids, held_cents__gt=0, hold_until__lte=due_at
    )
    groups = list(
        due.values("influencer_id")
        .annotate(total=Sum("held_cents"), count=Count("id"), first=Min("id"))
        .order_by("influencer_id")
    )
    if not groups:
        return 0, 0
    postings = [
        Posting(
            kind=Kind.RELEASE,
            reference=f"{batch.period_start:%Y-%m-%d}:{g['influencer_id']}:{g['first']}",
            influencer_id=g["influencer_id"],
            batch_id=batch.pk,
            occurred_at=due_at,
            memo=f"{g['count']} commission(s)",
            lines=[
                (accounts[(g["influencer_id"], AccountKind.HOLD)], D, int(g["total"])),
                (accounts[(g["influencer_id"], AccountKind.AVAILABLE)], C, int(g["total"])),
            ],
        )
        for g in groups
    ]
    txns = post_many(brand=brand, postings=postings)
    txn_by_influencer = {txn.influencer_id: txn.pk for txn in txns}
    now = timezone.now()
    if connection.vendor == "postgresql":
        # One statement joined to an (influencer → transaction) map: a correlated subquery or a
        # CASE with hundreds of branches is far slower at a million positions.
        table = CommissionPosition._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {table} AS p
                   SET released_cents = p.released_cents + p.held_cents, held_cents = 0,
                       released_at = %s, release_txn_id = m.txn_id
                  FROM (SELECT unnest(%s::bigint[]) AS influencer_id, unnest(%s::bigint[]) AS txn_id) AS m
                 WHERE p.brand_id = %s AND p.influencer_id = m.influencer_id
                   AND p.held_cents > 0 AND p.hold_until <= %s
                """,  # noqa: S608 - the table name is ours, every value is a parameter
                [now, list(txn_by_influencer), list(txn_by_influencer.values()), brand.pk, due_at],
            )
    else:
        due.update(
            released_cents=F("released_cents") + F("held_cents"),
            held_cents=0,
            released_at=now,
            release_txn_id=Case(
                *[When(influencer_id=inf, then=Value(pk)) for inf, pk in txn_by_influencer.items()],
                output_field=BigIntegerField(),
            ),
        )
    return sum(g["count"] for g in groups), sum(int(g["total"]) for g in groups)
