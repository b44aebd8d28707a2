"""Reads of the payments context: balances (always summed from entries), lists for the portal,
admin and API, the payout statement, and `ledger_verify`, which checks the invariants."""

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import BigIntegerField, Count, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from affiliates.models import KYCDocument, Membership
from affiliates.selectors import payout_account_get
from brands.models import Brand
from brands.scoping import scope_queryset
from payments.models import (
    INFLUENCER_ACCOUNT_KINDS,
    AccountKind,
    CommissionPosition,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    PayoutBatch,
    Withdrawal,
    WithdrawalWithholding,
)
from payments.origins import LedgerOrigin, ledger_origins
from payments.services.cutoff import payout_period_for, period_bounds
from payments.services.ledger import _SIGNED


def entries_net(field: str) -> Coalesce:
    """Credits − debits of the entries whose `field` ("account", "transaction") is the outer
    row, as a correlated subquery (0 without entries). Annotating with it instead of summing
    over a join keeps every other aggregate on the queryset from being multiplied."""
    entries = (
        LedgerEntry.objects.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(net=Sum(_SIGNED))
        .values("net")
    )
    return Coalesce(Subquery(entries, output_field=BigIntegerField()), Value(0))


def balances_for(*, brand: Any, influencer: Any, until: datetime | None = None) -> dict[str, int]:
    """Balance per stage for one influencer and brand (optionally as of `until`, exclusive)."""
    entries = LedgerEntry.objects.filter(account__brand=brand, account__influencer=influencer)
    if until is not None:
        entries = entries.filter(transaction__occurred_at__lt=until)
    result = dict.fromkeys(INFLUENCER_ACCOUNT_KINDS, 0)
    for row in entries.values("account__kind").annotate(total=Sum(_SIGNED)).order_by():
        result[row["account__kind"]] = int(row["total"] or 0)
    return result


@dataclass(frozen=True)
class InfluencerBalance:
    """An influencer's money with one brand by stage, in the brand's minor units, summed from
    the ledger. The one answer every portal page (dashboard, earnings, withdrawals, statements)
    shows: a page never adds commissions up on its own."""

    currency: str
    estimated: int  # orders not yet paid or invoiced
    on_hold: int  # confirmed, inside the hold period
    available: int  # released, may be withdrawn (negative only after a clawback)
    reserved: int  # in a withdrawal in progress
    paid: int  # transferred, net of withholdings
    withheld: int  # taxes withheld from payouts

    @property
    def confirmed(self) -> int:
        """Everything confirmed and not reversed, wherever it is now (on hold, available, in a
        withdrawal, paid or withheld)."""
        return self.on_hold + self.available + self.reserved + self.paid + self.withheld

    @property
    def lifetime(self) -> int:
        """Lifetime earnings net of reversals: estimated + confirmed (docs/ledger.md)."""
        return self.estimated + self.confirmed

    @classmethod
    def from_stages(cls, stages: dict[str, int], *, currency: str) -> "InfluencerBalance":
        return cls(
            currency=currency,
            estimated=stages.get(AccountKind.ESTIMATED, 0),
            on_hold=stages.get(AccountKind.HOLD, 0),
            available=stages.get(AccountKind.AVAILABLE, 0),
            reserved=stages.get(AccountKind.RESERVED, 0),
            paid=stages.get(AccountKind.PAID, 0),
            withheld=stages.get(AccountKind.WITHHOLDING, 0),
        )


def influencer_balance_get(*, brand: Any, influencer: Any, until: datetime | None = None) -> InfluencerBalance:
    """The influencer's balance with `brand` by stage (optionally as of `until`, exclusive)."""
    return InfluencerBalance.from_stages(
        balances_for(brand=brand, influencer=influencer, until=until), currency=str(brand.currency)
    )


@dataclass
class BalanceRow:
    brand_id: int
    brand_slug: str
    currency: str
    influencer_id: int
    influencer_name: str
    balances: dict[str, int] = field(default_factory=dict)


def balance_list(
    *, brand_ids: set[int] | None, brand_slug: str | None = None, influencer_id: int | None = None
) -> list[BalanceRow]:
    """Balances per (brand, influencer), one aggregate query over the entries."""
    entries = scope_queryset(
        LedgerEntry.objects.filter(account__influencer__isnull=False), brand_ids, brand_field="account__brand"
    )
    if brand_slug:
        entries = entries.filter(account__brand__slug=brand_slug)
    if influencer_id:
        entries = entries.filter(account__influencer_id=influencer_id)
    rows = (
        entries.values(
            "account__brand_id",
            "account__brand__slug",
            "account__currency",
            "account__influencer_id",
            "account__influencer__display_name",
            "account__kind",
        )
        .annotate(total=Sum(_SIGNED))
        .order_by("account__brand_id", "account__influencer_id")
    )
    result: dict[tuple[int, int], BalanceRow] = {}
    for row in rows:
        key = (row["account__brand_id"], row["account__influencer_id"])
        item = result.get(key)
        if item is None:
            item = result[key] = BalanceRow(
                brand_id=key[0],
                brand_slug=row["account__brand__slug"],
                currency=row["account__currency"],
                influencer_id=key[1],
                influencer_name=row["account__influencer__display_name"],
                balances=dict.fromkeys(INFLUENCER_ACCOUNT_KINDS, 0),
            )
        item.balances[row["account__kind"]] = int(row["total"] or 0)
    return list(result.values())


def ledger_entry_list(*, brand_ids: set[int] | None) -> QuerySet[LedgerEntry]:
    return scope_queryset(
        LedgerEntry.objects.select_related("transaction", "account", "account__brand"),
        brand_ids,
        brand_field="account__brand",
    ).order_by("-id")


def withdrawal_list(*, brand_ids: set[int] | None) -> QuerySet[Withdrawal]:
    return scope_queryset(
        Withdrawal.objects.select_related("brand", "influencer", "batch"), brand_ids, brand_field="brand"
    ).order_by("-requested_at", "-id")


def payout_batch_list(*, brand_ids: set[int] | None) -> QuerySet[PayoutBatch]:
    return scope_queryset(
        PayoutBatch.objects.select_related("brand").annotate(
            withdrawal_count=Count("withdrawals"), withdrawal_total_cents=Sum("withdrawals__amount_cents")
        ),
        brand_ids,
        brand_field="brand",
    ).order_by("-period_start", "brand_id")


# --- Portal ---------------------------------------------------------------------------------


def influencer_brands(*, influencer: Any) -> list[Any]:
    return list(Brand.objects.filter(memberships__influencer=influencer).order_by("name").distinct())


def influencer_withdrawals(*, influencer: Any) -> QuerySet[Withdrawal]:
    return Withdrawal.objects.filter(influencer=influencer).select_related("brand").order_by("-requested_at", "-id")


@dataclass
class StatementLine:
    occurred_at: datetime
    kind: str
    label: str
    reference: str  # internal (commission:42, W-7, a cutoff key): for files, never shown
    changes: dict[str, int]
    amount: int = 0
    description: str = ""  # what a person recognises: the order, or the withdrawal


def ledger_line_describe(*, kind: str, reference: str, origins: Mapping[str, LedgerOrigin]) -> str:
    """A ledger line in words a person recognises: "Order 1234-01 · 16/11/2026 · code ANA10"
    for a commission, the withdrawal number for a withdrawal, nothing for a release (its
    label, "Released after hold", says it all). Never an internal reference."""
    origin = origins.get(reference)
    if origin is not None:
        parts = [_("Order %(order)s") % {"order": origin.order_id}]
        if origin.placed_at is not None:
            parts.append(date_format(timezone.localtime(origin.placed_at), "SHORT_DATE_FORMAT"))
        if origin.code:
            parts.append(_("code %(code)s") % {"code": origin.code})
        return " · ".join(parts)
    if kind in _WITHDRAWAL_KINDS:
        return _("Withdrawal %(w)s") % {"w": reference}
    return ""


_WITHDRAWAL_KINDS = {
    LedgerTransaction.Kind.WITHDRAWAL_RESERVE,
    LedgerTransaction.Kind.WITHDRAWAL_RETURN,
    LedgerTransaction.Kind.PAYOUT,
}


@dataclass
class Statement:
    brand: Any
    influencer: Any
    period_start: date
    period_end: date
    opening: dict[str, int]
    closing: dict[str, int]
    lines: list[StatementLine]
    totals: dict[str, int]
    payouts: list[Withdrawal]
    withholdings: list[tuple[str, int]]

    @property
    def currency(self) -> str:
        return str(self.brand.currency)

    @property
    def paid_gross(self) -> int:
        return sum(w.amount_cents for w in self.payouts)

    @property
    def withheld(self) -> int:
        return sum(w.withholding_cents for w in self.payouts)

    @property
    def paid_net(self) -> int:
        return sum(w.net_cents for w in self.payouts)


def statement_periods(*, influencer: Any, brand: Any, limit: int = 24) -> list[tuple[date, date]]:
    """Biweekly periods, newest first, in which the influencer had ledger activity."""
    tz = brand.tz
    stamps = (
        LedgerTransaction.objects.filter(brand=brand, influencer=influencer)
        .order_by("-occurred_at")
        .values_list("occurred_at", flat=True)[:5000]
    )
    periods: list[tuple[date, date]] = []
    for stamp in stamps:
        period = payout_period_for(timezone.localtime(stamp, tz).date())
        if period not in periods:
            periods.append(period)
            if len(periods) >= limit:
                break
    return periods


def statement_build(*, influencer: Any, brand: Any, period_start: date) -> Statement:
    """What happened to the influencer's money with `brand` in one biweekly period."""
    start, end = payout_period_for(period_start)
    since, until = period_bounds(brand=brand, period_start=start)
    entries = (
        LedgerEntry.objects.filter(
            account__brand=brand,
            account__influencer=influencer,
            transaction__occurred_at__gte=since,
            transaction__occurred_at__lt=until,
        )
        .select_related("transaction", "account")
        .order_by("transaction__occurred_at", "transaction_id", "id")
    )
    by_txn: dict[int, StatementLine] = {}
    totals: dict[str, int] = defaultdict(int)
    for entry in entries:
        txn = entry.transaction
        line = by_txn.get(txn.pk)
        if line is None:
            line = by_txn[txn.pk] = StatementLine(
                occurred_at=txn.occurred_at,
                kind=txn.kind,
                label=str(txn.get_kind_display()),
                reference=txn.commission_ref or txn.reference,
                changes=dict.fromkeys(INFLUENCER_ACCOUNT_KINDS, 0),
            )
        line.changes[entry.account.kind] += entry.signed_cents
    # A transaction's size is its debits (= its credits), brand legs included.
    debits = (
        LedgerEntry.objects.filter(transaction_id__in=list(by_txn), side=LedgerEntry.Side.DEBIT)
        .values("transaction_id")
        .annotate(total=Sum("amount_cents"))
        .order_by()
    )
    for debit in debits:
        line = by_txn[debit["transaction_id"]]
        line.amount = int(debit["total"] or 0)
        totals[line.kind] += line.amount
    origins = ledger_origins(refs={line.reference for line in by_txn.values()}, influencer_id=influencer.pk)
    for line in by_txn.values():
        line.description = ledger_line_describe(kind=line.kind, reference=line.reference, origins=origins)
    payouts = list(
        Withdrawal.objects.filter(
            brand=brand, influencer=influencer, status=Withdrawal.Status.PAID, paid_at__gte=since, paid_at__lt=until
        )
        .prefetch_related("withholdings")
        .order_by("paid_at")
    )
    withholdings: dict[str, int] = defaultdict(int)
    for withheld in WithdrawalWithholding.objects.filter(withdrawal__in=payouts).order_by("id"):
        withholdings[f"{withheld.name} ({withheld.rate.normalize():f}%)"] += withheld.amount_cents
    return Statement(
        brand=brand,
        influencer=influencer,
        period_start=start,
        period_end=end,
        opening=balances_for(brand=brand, influencer=influencer, until=since),
        closing=balances_for(brand=brand, influencer=influencer, until=until),
        lines=list(by_txn.values()),
        totals=dict(totals),
        payouts=payouts,
        withholdings=list(withholdings.items()),
    )


# --- Invariants -----------------------------------------------------------------------------


def ledger_verify(*, brand: Any = None) -> list[str]:
    """Every invariant of the ledger, as a list of human-readable problems (empty = healthy):
    each transaction balances and has two legs or more; per influencer, the estimated and
    on-hold balances equal the commission positions, the reserved balance equals the open
    withdrawals, and the paid and withholding balances equal the paid withdrawals."""
    problems: list[str] = []
    txns = LedgerTransaction.objects.all()
    positions = CommissionPosition.objects.all()
    withdrawals = Withdrawal.objects.all()
    accounts = LedgerAccount.objects.filter(influencer__isnull=False)
    if brand is not None:
        txns, positions = txns.filter(brand=brand), positions.filter(brand=brand)
        withdrawals, accounts = withdrawals.filter(brand=brand), accounts.filter(brand=brand)
    unbalanced = (
        txns.annotate(net=entries_net("transaction"), legs=Count("entries"))
        .filter(~Q(net=0) | Q(legs__lt=2))
        .values_list("pk", "net", "legs")
    )
    for pk, net, legs in unbalanced:
        problems.append(f"transaction {pk} does not balance (net {net}, {legs} legs)")

    expected: dict[tuple[int, int, str], int] = defaultdict(int)
    for pos in positions.values("brand_id", "influencer_id").annotate(e=Sum("estimated_cents"), h=Sum("held_cents")):
        expected[(pos["brand_id"], pos["influencer_id"], AccountKind.ESTIMATED)] += int(pos["e"] or 0)
        expected[(pos["brand_id"], pos["influencer_id"], AccountKind.HOLD)] += int(pos["h"] or 0)
    for w in withdrawals.values("brand_id", "influencer_id", "status", "amount_cents", "withholding_cents"):
        owner = (w["brand_id"], w["influencer_id"])
        if w["status"] in Withdrawal.OPEN_STATUSES:
            expected[(*owner, AccountKind.RESERVED)] += w["amount_cents"]
        elif w["status"] == Withdrawal.Status.PAID:
            expected[(*owner, AccountKind.PAID)] += w["amount_cents"] - w["withholding_cents"]
            expected[(*owner, AccountKind.WITHHOLDING)] += w["withholding_cents"]
    actual: dict[tuple[int, int, str], int] = defaultdict(int)
    entries = LedgerEntry.objects.filter(account__in=accounts)
    for row in (
        entries.values("account__brand_id", "account__influencer_id", "account__kind")
        .annotate(t=Sum(_SIGNED))
        .order_by()
    ):
        actual[(row["account__brand_id"], row["account__influencer_id"], row["account__kind"])] = int(row["t"] or 0)
    checked = (AccountKind.ESTIMATED, AccountKind.HOLD, AccountKind.RESERVED, AccountKind.PAID, AccountKind.WITHHOLDING)
    for key in set(expected) | {k for k in actual if k[2] in checked}:
        if expected.get(key, 0) != actual.get(key, 0):
            problems.append(
                f"brand {key[0]} influencer {key[1]} {key[2]}: entries {actual.get(key, 0)} ≠ expected {expected.get(key, 0)}"
            )
    return sorted(problems)


# --- Finance's decision screen --------------------------------------------------------------

# What else finance should weigh before approving a withdrawal, from contexts above payments
# (tracking: open fraud flags and the risk score). A provider is called as
# provider(withdrawal=) and returns {"risk_score": int, "flags": [{"reason", "opened_at", "url"}]}
# (any subset); a higher app registers it in its AppConfig.ready().
WithdrawalRiskProvider = Callable[..., dict[str, Any]]
_withdrawal_risk_providers: list[WithdrawalRiskProvider] = []


def withdrawal_risk_register(provider: WithdrawalRiskProvider) -> None:
    """Idempotent: ready() may run more than once in tests."""
    if provider not in _withdrawal_risk_providers:
        _withdrawal_risk_providers.append(provider)


@dataclass(frozen=True)
class WithdrawalContext:
    """Everything beside the amount that an approver needs on one screen."""

    balance: InfluencerBalance
    movements: list[dict[str, Any]]
    earlier: list[Withdrawal]
    payout_account: dict[str, Any]
    payout_account_label: str
    membership_status: str
    kyc_documents: int
    approvals: list[dict[str, Any]]
    approvals_missing: int
    risk_score: int | None
    flags: list[dict[str, Any]]


def withdrawal_context_get(*, withdrawal: Withdrawal, movements: int = 8, earlier: int = 5) -> WithdrawalContext:
    """The influencer's balances by stage, last ledger movements with this brand, the payout
    account version being paid (masked), membership and KYC state, earlier withdrawals, the
    approvals so far, and risk from the providers above (fraud flags, score)."""
    brand, influencer = withdrawal.brand, withdrawal.influencer
    transactions = list(
        LedgerTransaction.objects.filter(brand=brand, influencer=influencer)
        .annotate(moved=Sum("entries__amount_cents", filter=Q(entries__side="D")))
        .order_by("-occurred_at", "-id")[:movements]
    )
    membership = Membership.objects.filter(brand=brand, influencer=influencer).first()
    version = withdrawal.payout_account_version
    # The version finance approved is what the bank file pays; before any approval, the data on
    # file now (the version is taken when someone approves).
    if version is not None:
        payout, label = dict(version.masked), str(version)
    else:
        account = payout_account_get(influencer=influencer)
        masked = account.masked() if account is not None else {}
        payout = {
            "holder_name": masked.get("account_holder", ""),
            "bank": " ".join(p for p in (masked.get("bank_name"), masked.get("bank_code")) if p),
            "account_number": masked.get("account_number", ""),
            "transfer_key": masked.get("transfer_key", ""),
        }
        label = _("Data on file now (not approved yet)") if account is not None else _("No payout data on file")
    approvals = [
        {"approver": str(a.approver), "at": a.created_at, "voided": a.voided_at is not None}
        for a in withdrawal.approvals.select_related("approver").order_by("created_at")
    ]
    valid = sum(1 for a in approvals if not a["voided"])
    risk: dict[str, Any] = {}
    for provider in _withdrawal_risk_providers:
        found = provider(withdrawal=withdrawal)
        risk["risk_score"] = max(risk.get("risk_score") or 0, found.get("risk_score") or 0)
        risk.setdefault("flags", []).extend(found.get("flags") or [])
    return WithdrawalContext(
        balance=influencer_balance_get(brand=brand, influencer=influencer),
        movements=[
            {
                "at": t.occurred_at,
                "kind": t.get_kind_display(),
                "reference": t.reference,
                "amount": int(t.moved or 0),
            }
            for t in transactions
        ],
        earlier=list(
            Withdrawal.objects.filter(brand=brand, influencer=influencer)
            .exclude(pk=withdrawal.pk)
            .order_by("-requested_at", "-id")[:earlier]
        ),
        payout_account=payout,
        payout_account_label=label,
        membership_status=membership.get_status_display() if membership else "",
        kyc_documents=KYCDocument.objects.filter(membership=membership).count() if membership else 0,
        approvals=approvals,
        approvals_missing=max(0, withdrawal.approvals_required - valid)
        if withdrawal.status == Withdrawal.Status.REQUESTED
        else 0,
        risk_score=risk.get("risk_score") if _withdrawal_risk_providers else None,
        flags=risk.get("flags", []),
    )
