"""Fraud screening and the review queue. Rules live in `tracking.fraud_rules` (pure); this
module gathers their inputs, records `FraudFlag`s (idempotent per rule and subject), keeps each
influencer's risk score, and resolves flags.

Holding: `fraud_hold_active(commission_ref=...)` is True while an order flag of the
commission's order is open or was rejected, or while an open "shared payout account" flag
exists for its influencer. Commissions stay on hold, never silently dropped; a manager releases
or rejects from the admin review queue (`fraud_flag_resolve`), which publishes
`fraud.flag_resolved`; the commissions context, above, reacts to it. What a commission
reference stands for, and how much is held, tracking asks through `tracking.fraud_holds`.
"""

import hashlib
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import CharField, Count, Q
from django.db.models.signals import post_save, pre_save
from django.utils import timezone
from django.utils.translation import gettext as _

from affiliates.models import Membership, PayoutAccount
from audit.services import audit_record
from core import batching, events
from core.bulk import rows_insert
from core.errors import ApplicationError, Conflict
from core.ids import ids_reserve
from tracking import fraud_rules as rules
from tracking.fraud_holds import hold_subject
from tracking.hashing import customer_hashes
from tracking.locks import fraud_flag_find_lock, fraud_flag_lock
from tracking.models import Click, FraudFlag, InfluencerRisk, OrderSignal
from tracking.touchpoints import order_customer_hashes, order_placed_at

Rule, Subject, Status = FraudFlag.Rule, FraudFlag.Subject, FraudFlag.Status
SEVERITY = {
    Rule.SELF_REFERRAL: 90,
    Rule.SHARED_PAYOUT: 80,
    Rule.REFERRAL_RING: 80,
    Rule.COUPON_LEAK: 60,
    Rule.COUPON_SITE: 50,
    Rule.FAST_CONVERSION: 60,
    Rule.CLICK_FLOOD: 40,
    Rule.CONVERSION_OUTLIER: 50,
}
#: Influencer-level rules that hold every commission of the influencer while open.
HOLDS_ALL = {Rule.SHARED_PAYOUT}


def influencer_hashes(influencer: Any) -> list[str]:
    email = getattr(getattr(influencer, "user", None), "email", "")
    return customer_hashes(email=email, document=getattr(influencer, "document_number", ""))


def fraud_flag_record(
    *,
    brand_id: int,
    influencer_id: int,
    rule: str,
    subject: str,
    subject_ref: str,
    evidence: dict[str, Any],
    savepoints: bool = True,
) -> FraudFlag:
    """Record a finding once per (brand, rule, subject, subject_ref); later findings of the same
    subject update the evidence of an open flag. Audited on creation.

    `savepoints` False (an order of a batch, which rolls the whole order back to its own
    savepoint when anything raises and applies it again alone): no savepoints of its own. A
    new flag then gets its id at once and is inserted with the batch's other new flags when
    the batch ends, then the risk of their influencers is recomputed (`_flags_write`). A flag
    a concurrent screen recorded first makes that INSERT raise IntegrityError, which fails the
    batch; it is applied again in halves down to the order alone, whose screen, with
    savepoints, finds that flag (orders.services.batch)."""
    with transaction.atomic() if savepoints else nullcontext():
        ref = subject_ref[:100]
        flag = _flag_pending(brand_id=brand_id, rule=rule, subject=subject, subject_ref=ref)
        if flag is not None:
            return flag
        if not _flag_known_absent(brand_id=brand_id, rule=rule, subject=subject, subject_ref=ref):
            flag = fraud_flag_find_lock(brand_id=brand_id, rule=rule, subject=subject, subject_ref=ref)
        if flag is not None:
            if flag.status == Status.OPEN and flag.evidence != evidence:
                flag.evidence = evidence
                flag.save(update_fields=["evidence", "updated_at"])
            return flag
        values = {
            "brand_id": brand_id,
            "influencer_id": influencer_id,
            "rule": rule,
            "subject": subject,
            "subject_ref": ref,
            "severity": SEVERITY.get(Rule(rule), 50),
            "evidence": evidence,
        }
        deferred = False
        if savepoints:
            try:
                with transaction.atomic():
                    flag = FraudFlag.objects.create(**values)
            except IntegrityError:  # a concurrent screen recorded it first
                return FraudFlag.objects.get(brand_id=brand_id, rule=rule, subject=subject, subject_ref=ref)
        else:
            # In a batch whose orders trip a rule, `create()` (Django's per-value compiler and
            # a round trip per flag) was a tenth of the batch's CPU. The batch's flags go in
            # one INSERT at its end, without signals, so only while nothing listens for them.
            flag = FraudFlag(**values)
            flag.pk = ids_reserve(FraudFlag, 1)[0]
            deferred = (
                flag.pk is not None
                and not pre_save.has_listeners(FraudFlag)
                and not post_save.has_listeners(FraudFlag)
                and batching.defer_collect(_flags_pending_key(brand_id), flag, _flags_write)
            )
            if not deferred:
                flag.save(force_insert=True)
        _holds_ahead_note(flag)
        audit_record(
            action="tracking.fraud_flagged",
            target=flag,
            brand_id=brand_id,
            after={"rule": rule, "subject": subject, "ref": subject_ref, "evidence": evidence},
        )
        if not deferred:  # else `_flags_write` recomputes it
            _risk_recompute_soon(brand_id=brand_id, influencer_id=influencer_id)
        return flag


def _flags_pending_key(brand_id: int) -> tuple[str, int]:
    return ("tracking:flags", brand_id)


def _flag_pending(*, brand_id: int, rule: str, subject: str, subject_ref: str) -> FraudFlag | None:
    """A flag of this subject the batch recorded and has not inserted yet."""
    for flag in batching.collected(_flags_pending_key(brand_id)):
        if (flag.rule, flag.subject, flag.subject_ref) == (rule, subject, subject_ref):
            return flag
    return None


def _flags_write(flags: list[FraudFlag]) -> None:
    """A batch's new flags: one INSERT, then their influencers' risk, from every flag."""
    rows_insert(flags)
    for brand_id, influencer_id in sorted({(flag.brand_id, flag.influencer_id) for flag in flags}):
        influencer_risk_recompute(brand_id=brand_id, influencer_id=influencer_id)


def _risk_recompute_soon(*, brand_id: int, influencer_id: int) -> None:
    """Recompute the influencer's risk now, or, inside a batch of orders (core.batching), once
    per influencer when the batch ends, still in its transaction: a batch that flags ten of an
    influencer's orders recomputes the score once, from all ten flags. Nothing in the batch
    reads the score (holds are decided from the flags themselves)."""

    def recompute(_items: list[Any]) -> None:
        influencer_risk_recompute(brand_id=brand_id, influencer_id=influencer_id)

    if not batching.defer_collect(("tracking.risk", brand_id, influencer_id), None, recompute):
        recompute([])


def influencer_risk_recompute(*, brand_id: int, influencer_id: int) -> InfluencerRisk:
    """Risk 0–100: open flags count fully, rejected ones (confirmed fraud, last 180 days) half
    again, each weighted by its severity; capped at 100."""
    since = timezone.now() - timedelta(days=180)
    flags = FraudFlag.objects.filter(brand_id=brand_id, influencer_id=influencer_id).filter(
        Q(status=Status.OPEN) | Q(status=Status.REJECTED, resolved_at__gte=since)
    )
    score = 0.0
    open_count = 0
    for severity, status in flags.values_list("severity", "status"):
        weight = 1.0 if status == Status.OPEN else 1.5
        open_count += status == Status.OPEN
        score += severity * weight * 0.5
    risk, _created = InfluencerRisk.objects.update_or_create(
        brand_id=brand_id,
        influencer_id=influencer_id,
        defaults={"score": min(100, round(score)), "open_flags": open_count},
    )
    return risk


def _order_click(order: Any) -> Click | None:
    """The click the attribution decision chose or considered last, from its touchpoints."""
    pks = [tp.get("click_id") for tp in (getattr(order, "attribution_touchpoints", None) or []) if isinstance(tp, dict)]
    pks_int: list[int] = [pk for pk in pks if isinstance(pk, int)]
    if not pks_int:
        return None
    return Click.objects.filter(pk__in=pks_int, influencer_id=order.influencer_id).order_by("-occurred_at").first()


def fraud_screen_order(*, order: Any, with_earlier: bool = True, savepoints: bool = True) -> list[FraudFlag]:
    """Screen an attributed order (self-referral, coupon site, coupon leak, click-to-order time)
    and record what it learnt for rules over many orders. Call after attribution, in or out of
    the order's transaction; returns the flags that concern this order: those this screen found
    (new or existing) and, `with_earlier`, the order's other flags (one more query, which the
    order sync, reading holds on its own, does not need). `savepoints`: as `fraud_flag_record`
    (False only where the caller's savepoint isolates the order and a failure is retried)."""
    if not getattr(order, "influencer_id", None):
        return []
    brand_id, influencer_id, ref = order.brand_id, order.influencer_id, order.vtex_order_id
    placed_at = order_placed_at(order)
    hashes = order_customer_hashes(order)
    click = _order_click(order)
    findings: list[tuple[str, dict[str, Any]]] = []

    evidence = rules.rule_self_referral(customer_hashes=hashes, influencer_hashes=influencer_hashes(order.influencer))
    if evidence:
        findings.append((Rule.SELF_REFERRAL, evidence))
    if click is not None:
        evidence = rules.rule_fast_conversion(clicked_at=click.occurred_at, placed_at=placed_at)
        if evidence:
            findings.append((Rule.FAST_CONVERSION, {**evidence, "click": click.click_id}))
        evidence = rules.rule_coupon_site(referrer_host=click.referrer_host)
        if evidence:
            findings.append((Rule.COUPON_SITE, {**evidence, "click": click.click_id}))

    coupon = signal_coupon(getattr(order, "coupon", ""))
    customer_hash = hashes[0] if hashes else ""
    is_new = not (customer_hash and _customer_ordered_before(brand_id, customer_hash, placed_at=placed_at, ref=ref))
    _order_signal_record(
        OrderSignal(
            brand_id=brand_id,
            order_ref=ref,
            influencer_id=influencer_id,
            coupon=coupon,
            customer_hash=customer_hash,
            is_new_customer=is_new,
            had_click=click is not None,
            placed_at=placed_at,
        ),
        defer=not savepoints,
    )
    if coupon and click is None:
        evidence = rules.rule_coupon_leak(
            new_customers_without_click=_coupon_leak_count(brand_id, coupon, placed_at=placed_at)
        )
        if evidence:
            findings.append((Rule.COUPON_LEAK, {**evidence, "coupon": coupon}))

    flags = [
        fraud_flag_record(
            brand_id=brand_id,
            influencer_id=influencer_id,
            rule=rule,
            subject=Subject.ORDER,
            subject_ref=ref,
            evidence=evidence,
            savepoints=savepoints,
        )
        for rule, evidence in findings
    ]
    if not with_earlier:
        return flags
    existing = FraudFlag.objects.filter(brand_id=brand_id, subject=Subject.ORDER, subject_ref=ref).exclude(
        pk__in=[f.pk for f in flags]
    )
    return flags + list(existing)


# --- Order signals: what the screen of one order tells the screens of the next -------------
#
# Inside a batch of orders (core.batching) the signals are read ahead for the whole batch in one
# statement (`order_signals_read_ahead`: every signal of its customers, and the times of its
# coupons' uses by new customers without a click within a day before its orders) and the
# batch's own are written together at its end (one upsert), instead of two reads and an upsert
# per order. A later order of the batch still sees the signals of the earlier ones: they are
# read from what the batch holds (`batching.collected`), over the rows read ahead or, when these
# do not cover the question (an order placed outside the window, a customer or coupon not
# asked, or the read-ahead forgotten after an order of the batch rolled back), over the table.
# One order at a time (`order_apply`, the screen in a savepoint of its own) reads and writes
# them as it always did. Signals another worker commits meanwhile are not seen, as a screen
# never saw those still uncommitted: the rules over them are heuristics for a manager's review,
# and an influencer's orders are applied by one lane.


def signal_coupon(coupon: str | None) -> str:
    """The coupon as signals record it."""
    return (coupon or "").strip().upper()


_Row = tuple[str, datetime, bool, bool]  # order ref, placed at, new customer, had a click


@dataclass(frozen=True)
class _LeakUses:
    """A coupon's orders of new customers without a click (what the coupon-leak rule counts),
    read ahead: their times, sorted, for counting a window by bisection (a popular coupon's
    day holds thousands, and every order of the batch counts its own window), and each
    order's time, to leave out one the batch screened again."""

    times: list[datetime]
    by_ref: dict[str, datetime]


@dataclass(frozen=True)
class _SignalsAhead:
    by_customer: dict[str, list[_Row]]  # every signal of these customers
    by_coupon: dict[str, _LeakUses]  # these coupons' leak-rule uses placed within [since, until]
    since: datetime | None
    until: datetime | None


def _signals_ahead_key(brand_id: int) -> tuple[str, int]:
    return ("tracking:signals-ahead", brand_id)


def _signals_pending_key(brand_id: int) -> tuple[str, int]:
    return ("tracking:signals", brand_id)


def order_signals_read_ahead(
    *, brand_id: int, customer_hashes: Iterable[str], coupons: Iterable[str], placed: Iterable[datetime | None]
) -> None:
    """Inside a batch (core.batching): the signals its orders' screens will ask about, in one
    query: every signal of these customers, and of these coupons (as `signal_coupon` gives
    them) the uses the coupon-leak rule counts placed from its window before the earliest
    `placed` to the latest."""
    customers = {h for h in customer_hashes if h}
    times = [at for at in placed if at is not None]
    since = min(times) - rules.COUPON_LEAK_WINDOW if times else None
    until = max(times) if times else None
    wanted = {c for c in coupons if c} if times else set()
    leak_uses: dict[str, list[tuple[datetime, str]]] = {c: [] for c in wanted}
    ahead = _SignalsAhead(by_customer={h: [] for h in customers}, by_coupon={}, since=since, until=until)
    query = Q(customer_hash__in=customers) if customers else None
    if wanted:
        in_window = Q(
            coupon__in=wanted, placed_at__gte=since, placed_at__lte=until, is_new_customer=True, had_click=False
        )
        query = in_window if query is None else query | in_window
    if query is not None:
        for ref, coupon, customer, placed_at, is_new, had_click in OrderSignal.objects.filter(
            query, brand_id=brand_id
        ).values_list("order_ref", "coupon", "customer_hash", "placed_at", "is_new_customer", "had_click"):
            if customer in ahead.by_customer:
                ahead.by_customer[customer].append((ref, placed_at, is_new, had_click))
            if (
                coupon in leak_uses
                and is_new
                and not had_click
                and since is not None
                and until is not None
                and since <= placed_at <= until
            ):
                leak_uses[coupon].append((placed_at, ref))
    for coupon, uses in leak_uses.items():
        uses.sort()
        ahead.by_coupon[coupon] = _LeakUses(times=[at for at, _ref in uses], by_ref={ref: at for at, ref in uses})
    batching.memo_set(_signals_ahead_key(brand_id), ahead)


def _signals_pending(brand_id: int) -> dict[str, OrderSignal]:
    """The signals this batch recorded and has not written yet, by order (the last one wins)."""
    return {signal.order_ref: signal for signal in batching.collected(_signals_pending_key(brand_id))}


def _customer_ordered_before(brand_id: int, customer_hash: str, *, placed_at: datetime, ref: str) -> bool:
    """Whether another order of this customer was placed before this one (the new-customer
    fact), from the batch's signals and those read ahead, else the table."""
    pending = _signals_pending(brand_id)
    if any(s.customer_hash == customer_hash and s.placed_at < placed_at for r, s in pending.items() if r != ref):
        return True
    ahead: _SignalsAhead | None = batching.memo_peek(_signals_ahead_key(brand_id))
    if ahead is not None and customer_hash in ahead.by_customer:
        return any(
            row[1] < placed_at and row[0] != ref and row[0] not in pending for row in ahead.by_customer[customer_hash]
        )
    return (
        OrderSignal.objects.filter(brand_id=brand_id, customer_hash=customer_hash, placed_at__lt=placed_at)
        .exclude(order_ref__in=[ref, *pending])
        .exists()
    )


def _coupon_leak_count(brand_id: int, coupon: str, *, placed_at: datetime) -> int:
    """How many of the coupon's orders placed within the coupon-leak rule's window up to
    `placed_at` (this order's included) were a new customer's without a click: the batch's
    signals, over the uses read ahead or, when these do not cover the window, the table."""
    since = placed_at - rules.COUPON_LEAK_WINDOW
    pending = _signals_pending(brand_id)
    count = sum(
        1
        for s in pending.values()
        if s.coupon == coupon and since <= s.placed_at <= placed_at and s.is_new_customer and not s.had_click
    )
    ahead: _SignalsAhead | None = batching.memo_peek(_signals_ahead_key(brand_id))
    if (
        ahead is not None
        and coupon in ahead.by_coupon
        and ahead.since is not None
        and ahead.until is not None
        and ahead.since <= since
        and placed_at <= ahead.until
    ):
        uses = ahead.by_coupon[coupon]
        count += bisect_right(uses.times, placed_at) - bisect_left(uses.times, since)
        # An order the batch screened again counts as its new signal says, not as its stored one.
        return count - sum(
            1 for ref in pending if (at := uses.by_ref.get(ref)) is not None and since <= at <= placed_at
        )
    return (
        count
        + OrderSignal.objects.filter(
            brand_id=brand_id,
            coupon=coupon,
            placed_at__gte=since,
            placed_at__lte=placed_at,
            is_new_customer=True,
            had_click=False,
        )
        .exclude(order_ref__in=list(pending))
        .count()
    )


def _order_signal_record(signal: OrderSignal, *, defer: bool) -> None:
    """Write the order's signal now or, `defer` (an order of a batch: `savepoints` False), hold
    it for one upsert of the batch's signals at its end. Written now, a signal fails where it
    always did: in the screen's savepoint, or in the batch's savepoint of its order. So is one
    its columns cannot take (an order's coupon may be longer than a signal's): held, it would
    fail the batch's end, and with it every order of the batch."""
    held = (
        defer
        and _signal_fits(signal)
        and batching.defer_collect(_signals_pending_key(signal.brand_id), signal, _order_signals_write)
    )
    if not held:
        _order_signals_write([signal])


def _signal_fits(signal: OrderSignal) -> bool:
    return all(
        len(getattr(signal, field.attname) or "") <= field.max_length
        for field in OrderSignal._meta.concrete_fields
        if isinstance(field, CharField) and field.max_length is not None
    )


def _order_signals_write(signals: list[OrderSignal]) -> None:
    """One upsert (INSERT … ON CONFLICT DO UPDATE): no row lock, savepoint or second statement,
    and a concurrent screen of the same order cannot make it fail. An order screened twice in
    one batch is written once, as its last screen saw it (one statement cannot update a row
    twice)."""
    latest = list({signal.order_ref: signal for signal in signals}.values())
    OrderSignal.objects.bulk_create(
        latest,
        update_conflicts=True,
        unique_fields=["brand", "order_ref"],
        update_fields=["influencer", "coupon", "customer_hash", "is_new_customer", "had_click", "placed_at"],
    )


def fraud_hold_active(*, commission_ref: str) -> bool:
    """Whether a commission must stay on hold. `commission_ref` is the commission's ledger ref
    ("commission:<pk>", resolved by the commissions context through `tracking.fraud_holds`) or
    a VTEX order id."""
    found = hold_subject(commission_ref)
    if found is None:
        held = Q(status__in=[Status.OPEN, Status.REJECTED], subject=Subject.ORDER)
        return FraudFlag.objects.filter(held, subject_ref=commission_ref).exists()
    return fraud_hold_active_for(brand_id=found.brand_id, influencer_id=found.influencer_id, order_ref=found.order_ref)


def fraud_hold_active_for(*, brand_id: int, influencer_id: int, order_ref: str) -> bool:
    """`fraud_hold_active` when the caller knows the subject (the order sync does, before its new
    commissions are written): an open or rejected flag on the order, or an open flag on the
    influencer of a rule that holds all their orders. Inside a batch that read the holds of its
    orders ahead (`fraud_holds_read_ahead`), answered from there."""
    ahead = batching.memo_peek(_holds_ahead_key(brand_id))
    if ahead is not None and order_ref in ahead.asked:
        return order_ref in ahead.held_orders or influencer_id in ahead.held_influencers
    held = Q(status__in=[Status.OPEN, Status.REJECTED], subject=Subject.ORDER)
    return FraudFlag.objects.filter(
        Q(held, brand_id=brand_id, subject_ref=order_ref)
        | Q(brand_id=brand_id, influencer_id=influencer_id, status=Status.OPEN, rule__in=list(HOLDS_ALL))
    ).exists()


@dataclass
class _HoldsAhead:
    asked: set[str]
    held_orders: set[str]
    held_influencers: set[int]
    # (rule, order) of every flag, whatever its status, on the asked orders: a screen of one of
    # them records a finding not in here without first looking for its flag.
    flagged: set[tuple[str, str]]


def _holds_ahead_key(brand_id: int) -> tuple[str, int]:
    return ("tracking:holds-ahead", brand_id)


def fraud_holds_read_ahead(*, brand_id: int, order_refs: Iterable[str]) -> None:
    """Inside a batch (core.batching): the holds of these orders, and the brand's influencers
    held whole, in one query, for `fraud_hold_active_for` to answer each order's commissions
    without asking again, and which flags these orders have (any status), so that a screen
    recording a finding they do not have does not look for it first (`fraud_flag_record`).
    The flags the batch records itself are added as they are recorded (`fraud_flag_record`):
    an order's own fraud screen runs before its commissions."""
    asked = {ref for ref in order_refs if ref}
    ahead = _HoldsAhead(asked=asked, held_orders=set(), held_influencers=set(), flagged=set())
    if asked:
        rows = FraudFlag.objects.filter(
            Q(brand_id=brand_id, subject=Subject.ORDER, subject_ref__in=asked)
            | Q(brand_id=brand_id, status=Status.OPEN, rule__in=list(HOLDS_ALL))
        ).values_list("subject", "subject_ref", "rule", "status", "influencer_id")
        for subject, subject_ref, rule, status, influencer_id in rows:
            _holds_ahead_add(
                ahead, subject=subject, subject_ref=subject_ref, rule=rule, status=status, influencer_id=influencer_id
            )
    batching.memo_set(_holds_ahead_key(brand_id), ahead)


def _holds_ahead_add(
    ahead: _HoldsAhead, *, subject: str, subject_ref: str, rule: str, status: str, influencer_id: int
) -> None:
    if subject == Subject.ORDER:
        ahead.flagged.add((rule, subject_ref))
    if subject == Subject.ORDER and status in (Status.OPEN, Status.REJECTED):
        ahead.held_orders.add(subject_ref)
    if rule in HOLDS_ALL and status == Status.OPEN:
        ahead.held_influencers.add(influencer_id)


def _flag_known_absent(*, brand_id: int, rule: str, subject: str, subject_ref: str) -> bool:
    """Whether the batch's read-ahead (`fraud_holds_read_ahead`) knows the order has no such
    flag: neither before the batch nor recorded by it since (`_holds_ahead_note`)."""
    ahead = batching.memo_peek(_holds_ahead_key(brand_id))
    return (
        ahead is not None
        and subject == Subject.ORDER
        and subject_ref in ahead.asked
        and (rule, subject_ref) not in ahead.flagged
    )


def _holds_ahead_note(flag: FraudFlag) -> None:
    ahead = batching.memo_peek(_holds_ahead_key(flag.brand_id))
    if ahead is not None:
        _holds_ahead_add(
            ahead,
            subject=flag.subject,
            subject_ref=flag.subject_ref,
            rule=flag.rule,
            status=flag.status,
            influencer_id=flag.influencer_id,
        )


class FlagResolveRefused(ApplicationError):
    default_code = "flag_resolve_refused"


def fraud_flag_resolve(*, flag_id: int, decision: str, actor: Any, reason: str) -> FraudFlag:
    """Release (pay the commission) or reject (reverse it) a flag. A reason is required; the
    move is audited and published as `fraud.flag_resolved` in the same transaction, once per
    change of status: the commissions context subscribes and releases or reverses the money
    the flag held after commit (`commissions.handlers.on_fraud_flag_resolved`)."""
    if decision not in (Status.RELEASED, Status.REJECTED):
        raise FlagResolveRefused(_("Choose release or reject."))
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise FlagResolveRefused(_("Write the reason for the decision (at least 5 characters)."))
    with transaction.atomic():
        flag = fraud_flag_lock(pk=flag_id)
        if flag.status == decision:
            return flag
        if decision not in FraudFlag.ALLOWED_TRANSITIONS[flag.status]:
            raise Conflict(_("This flag was already %(status)s.") % {"status": flag.get_status_display()})
        before = {"status": flag.status}
        flag.status = decision
        batching.memo_forget(_holds_ahead_key(flag.brand_id))  # a batch's holds read ahead no longer hold
        flag.resolved_at = timezone.now()
        flag.resolved_by = actor if getattr(actor, "pk", None) else None
        flag.resolution_reason = reason
        flag.save(update_fields=["status", "resolved_at", "resolved_by", "resolution_reason", "updated_at"])
        audit_record(
            action=f"tracking.fraud_flag_{decision}",
            target=flag,
            actor=actor,
            brand_id=flag.brand_id,
            before=before,
            after={"status": decision, "reason": reason},
        )
        influencer_risk_recompute(brand_id=flag.brand_id, influencer_id=flag.influencer_id)
        events.publish(
            "fraud.flag_resolved",
            brand_id=flag.brand_id,
            data={
                "flag_id": flag.pk,
                "rule": flag.rule,
                "subject": flag.subject,
                "subject_ref": flag.subject_ref,
                "influencer_id": flag.influencer_id,
                "decision": decision,
                "reason": reason,
            },
            actor=actor,
        )
    return flag


# --- Rules over many records, run by Celery Beat --------------------------------------------


def fraud_scan_clicks(*, since: datetime, until: datetime) -> list[FraudFlag]:
    """Click floods and bots per influencer and day."""
    clicks = Click.objects.filter(occurred_at__gte=since, occurred_at__lt=until)
    per_ip: dict[tuple[int, int], Counter[str]] = defaultdict(Counter)
    for brand_id, influencer_id, ip, n in clicks.values_list("brand_id", "influencer_id", "ip_hash").annotate(
        n=Count("id")
    ):
        per_ip[(brand_id, influencer_id)][ip] += n
    totals = clicks.values("brand_id", "influencer_id").annotate(
        total=Count("id"), invalid=Count("id", filter=Q(is_valid=False))
    )
    flags = []
    for row in totals:
        key = (row["brand_id"], row["influencer_id"])
        evidence = rules.rule_click_flood(clicks_by_ip=dict(per_ip[key]), invalid=row["invalid"], total=row["total"])
        if evidence:
            flags.append(
                fraud_flag_record(
                    brand_id=key[0],
                    influencer_id=key[1],
                    rule=Rule.CLICK_FLOOD,
                    subject=Subject.CLICK,
                    subject_ref=f"clicks:{key[1]}:{since.date().isoformat()}",
                    evidence={**evidence, "since": since.isoformat(), "until": until.isoformat()},
                )
            )
    return flags


def fraud_scan_conversion_rates(*, now: datetime, days: int = 30, months_of_history: int = 3) -> list[FraudFlag]:
    """Conversion rate (attributed orders / valid clicks) over the last `days`, against the
    influencer's previous periods and the brand's other influencers."""

    def rates(start: datetime, end: datetime) -> dict[tuple[int, int], float]:
        clicks = {
            (r["brand_id"], r["influencer_id"]): r["n"]
            for r in Click.objects.filter(is_valid=True, occurred_at__gte=start, occurred_at__lt=end)
            .values("brand_id", "influencer_id")
            .annotate(n=Count("id"))
        }
        orders = {
            (r["brand_id"], r["influencer_id"]): r["n"]
            for r in OrderSignal.objects.filter(placed_at__gte=start, placed_at__lt=end, had_click=True)
            .values("brand_id", "influencer_id")
            .annotate(n=Count("id"))
        }
        return {k: orders.get(k, 0) / n for k, n in clicks.items() if n >= 20}

    period = timedelta(days=days)
    current = rates(now - period, now)
    history: dict[tuple[int, int], list[float]] = defaultdict(list)
    for i in range(1, months_of_history + 1):
        for key, rate in rates(now - period * (i + 1), now - period * i).items():
            history[key].append(rate)
    flags = []
    for (brand_id, influencer_id), rate in current.items():
        peers = [r for (b, i), r in current.items() if b == brand_id and i != influencer_id]
        evidence = rules.rule_conversion_outlier(rate=rate, history=history[(brand_id, influencer_id)], peers=peers)
        if evidence:
            flags.append(
                fraud_flag_record(
                    brand_id=brand_id,
                    influencer_id=influencer_id,
                    rule=Rule.CONVERSION_OUTLIER,
                    subject=Subject.INFLUENCER,
                    subject_ref=f"cr:{influencer_id}:{now.date().isoformat()}",
                    evidence=evidence,
                )
            )
    return flags


def payout_account_fingerprint(account: Any) -> str:
    """A hash of what identifies where money goes (bank + account number, or transfer key)."""
    number = "".join(ch for ch in (account.account_number or "") if ch.isalnum())
    key = (account.transfer_key or "").strip().lower()
    if not number and not key:
        return ""
    raw = f"{account.bank_code}|{number}" if number else f"key|{key}"
    return hashlib.sha256(raw.encode()).hexdigest()


def fraud_scan_payout_accounts() -> list[FraudFlag]:
    """The same payout account on two influencers: flag both, with every brand they share."""
    groups: dict[str, list[int]] = defaultdict(list)
    for account in PayoutAccount.objects.all():
        fingerprint = payout_account_fingerprint(account)
        if fingerprint:
            groups[fingerprint].append(account.influencer_id)
    flags = []
    for fingerprint, influencer_ids in groups.items():
        if len(influencer_ids) < 2:
            continue
        for membership in Membership.objects.filter(influencer_id__in=influencer_ids):
            others = [i for i in influencer_ids if i != membership.influencer_id]
            evidence = rules.rule_shared_payout(account_hash=fingerprint, other_influencers=others)
            if evidence:
                flags.append(
                    fraud_flag_record(
                        brand_id=membership.brand_id,
                        influencer_id=membership.influencer_id,
                        rule=Rule.SHARED_PAYOUT,
                        subject=Subject.INFLUENCER,
                        subject_ref=f"payout:{membership.influencer_id}:{fingerprint[:16]}",
                        evidence=evidence,
                    )
                )
    return flags
