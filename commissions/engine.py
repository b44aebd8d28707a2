"""The commission rule engine: pure functions over frozen dataclasses, no database.

Given an order's lines, a campaign's rules, its eligibility filter and the influencer's tier, it
returns one `LineCommission` per line with the explanation a person needs to check it. The rules
are written down in docs/commissions.md; this module is their only implementation. The words the
rules are written in (dimensions, rule kinds, the rule, tier and eligibility specs, the order line)
belong to the campaign that states them: `campaigns.rules` and `campaigns.tiers`.

Money is integer minor units (cents). Rates are Decimal fractions (0.10 is 10 %). The only place a
fractional amount becomes cents is `core.money.round_minor` (banker's rounding), called once per
line on `base × rate`. Caps are distributed in whole cents (largest remainder), so the sum of the
lines always equals the order total, exactly.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from campaigns.rules import ONE, ZERO, EligibilitySpec, OrderLineInput, RuleKind, RuleSpec
from campaigns.tiers import TierSpec
from core.money import round_minor


class CapKind(StrEnum):
    LINE = "line"  # the rule's cap per line
    RULE_ORDER = "rule_order"  # the rule's cap per order
    ORDER = "order"  # the campaign's cap per order


@dataclass(frozen=True)
class LineCommission:
    line_id: str
    amount_cents: int
    base_cents: int
    eligible: bool
    rule_id: int | None = None
    rule_name: str = ""
    kind: RuleKind | None = None
    rate: Decimal | None = None  # effective rate (rule + tier bonus) for PERCENTAGE rules
    tier_id: int | None = None
    uncapped_cents: int = 0
    caps_applied: tuple[CapKind, ...] = ()
    explanation: str = ""


@dataclass(frozen=True)
class OrderCommission:
    lines: tuple[LineCommission, ...]
    total_cents: int

    def by_line(self) -> dict[str, LineCommission]:
        return {line.line_id: line for line in self.lines}


# --- Rule matching and computation ----------------------------------------------------------


def rules_ordered(rules: Iterable[RuleSpec]) -> list[RuleSpec]:
    return sorted(rules, key=lambda rule: (rule.priority, rule.rule_id))


def rule_match(line: OrderLineInput, rules: Sequence[RuleSpec]) -> RuleSpec | None:
    """The first rule (by priority) whose scope covers the line."""
    for rule in rules_ordered(rules):
        if rule.matches(line):
            return rule
    return None


def effective_rate(rule: RuleSpec, tier: TierSpec | None) -> Decimal:
    bonus = tier.bonus_rate if tier is not None else ZERO
    return min(ONE, rule.rate + bonus)


def _line_draft(
    line: OrderLineInput,
    *,
    ordered_rules: Sequence[RuleSpec],
    tier: TierSpec | None,
    eligibility: EligibilitySpec | None,
) -> tuple[int, dict[str, object]]:
    """One line's commission before the order caps, and how it was reached."""
    if eligibility is not None and not eligibility.allows(line):
        return 0, {"eligible": False, "explanation": "not eligible for this campaign"}
    rule = next((r for r in ordered_rules if r.matches(line)), None)
    if rule is None:
        return 0, {"eligible": True, "explanation": "no rule covers this line"}
    caps: list[CapKind] = []
    if rule.kind == RuleKind.PERCENTAGE:
        rate = effective_rate(rule, tier)
        # The one rounding point: a fractional number of cents becomes whole cents here.
        raw = round_minor(Decimal(line.base_cents) * rate)
        how = f"{_percent(rate)} of {line.base_cents}"
        if tier is not None and tier.bonus_rate:
            how += f" (rule {_percent(rule.rate)} + tier {tier.name} {_percent(tier.bonus_rate)})"
    else:
        rate = None
        raw = min(rule.amount_cents * line.quantity, line.base_cents)
        how = f"{rule.amount_cents} × {line.quantity} units"
        if rule.amount_cents * line.quantity > line.base_cents:
            how += f", limited to the line value {line.base_cents}"
    amount = raw
    if rule.cap_per_line_cents is not None and amount > rule.cap_per_line_cents:
        amount = rule.cap_per_line_cents
        caps.append(CapKind.LINE)
    return amount, {
        "eligible": True,
        "rule": rule,
        "rate": rate,
        "uncapped": raw,
        "caps": caps,
        "explanation": f"rule '{rule.name}': {how} = {raw}",
    }


def _order_caps_apply(
    *,
    lines: Sequence[OrderLineInput],
    ordered_rules: Sequence[RuleSpec],
    amounts: dict[str, int],
    drafts: dict[str, dict[str, object]],
    order_cap_cents: int | None,
) -> None:
    """Per-rule order caps, then the campaign's order cap, each spread over the affected lines
    (`amounts` and the drafts' caps are updated in place)."""
    for rule in ordered_rules:
        if rule.cap_per_order_cents is None:
            continue
        ids = [line.line_id for line in lines if drafts[line.line_id].get("rule") is rule]
        if _cap(amounts, ids, rule.cap_per_order_cents):
            for line_id in ids:
                _caps(drafts[line_id]).append(CapKind.RULE_ORDER)
    if order_cap_cents is not None:
        ids = [line.line_id for line in lines if amounts[line.line_id] > 0]
        if _cap(amounts, ids, order_cap_cents):
            for line_id in ids:
                _caps(drafts[line_id]).append(CapKind.ORDER)


def commission_compute(
    *,
    lines: Sequence[OrderLineInput],
    rules: Sequence[RuleSpec],
    tier: TierSpec | None = None,
    eligibility: EligibilitySpec | None = None,
    order_cap_cents: int | None = None,
) -> OrderCommission:
    """Commission for each line of one order, in the order the lines were given."""
    if order_cap_cents is not None and order_cap_cents < 0:
        raise ValueError("the order cap must not be negative")
    ordered_rules = rules_ordered(rules)
    if len({rule.rule_id for rule in ordered_rules}) != len(ordered_rules):
        raise ValueError("rule ids must be unique: they decide ties in priority")
    amounts: dict[str, int] = {}
    drafts: dict[str, dict[str, object]] = {}
    for line in lines:
        if line.line_id in drafts:
            raise ValueError(f"line ids must be unique; {line.line_id} repeats")
        amounts[line.line_id], drafts[line.line_id] = _line_draft(
            line, ordered_rules=ordered_rules, tier=tier, eligibility=eligibility
        )
    _order_caps_apply(
        lines=lines, ordered_rules=ordered_rules, amounts=amounts, drafts=drafts, order_cap_cents=order_cap_cents
    )

    results = []
    for line in lines:
        draft = drafts[line.line_id]
        rule_spec = draft.get("rule")
        amount = amounts[line.line_id]
        applied = tuple(_caps(draft))
        explanation = str(draft["explanation"])
        if applied:
            explanation += f"; capped ({', '.join(applied)}) to {amount}"
        results.append(
            LineCommission(
                line_id=line.line_id,
                amount_cents=amount,
                base_cents=line.base_cents,
                eligible=bool(draft["eligible"]),
                rule_id=rule_spec.rule_id if isinstance(rule_spec, RuleSpec) else None,
                rule_name=rule_spec.name if isinstance(rule_spec, RuleSpec) else "",
                kind=rule_spec.kind if isinstance(rule_spec, RuleSpec) else None,
                rate=draft.get("rate"),  # type: ignore[arg-type]
                tier_id=tier.tier_id
                if tier is not None and isinstance(rule_spec, RuleSpec) and rule_spec.kind == RuleKind.PERCENTAGE
                else None,
                uncapped_cents=int(draft.get("uncapped", 0)),  # type: ignore[call-overload]
                caps_applied=applied,
                explanation=explanation,
            )
        )
    return OrderCommission(lines=tuple(results), total_cents=sum(r.amount_cents for r in results))


def _caps(draft: dict[str, object]) -> list[CapKind]:
    caps = draft.setdefault("caps", [])
    assert isinstance(caps, list)
    return caps


def _cap(amounts: dict[str, int], line_ids: list[str], cap: int) -> bool:
    """Scale the amounts of `line_ids` down so they sum to `cap`, in whole cents: each line gets
    the floor of its proportional share, and the cents left over go one by one to the lines with
    the largest remainders (ties: the earlier line). Returns whether anything changed."""
    total = sum(amounts[i] for i in line_ids)
    if total <= cap:
        return False
    shares = []
    for position, line_id in enumerate(line_ids):
        numerator = amounts[line_id] * cap
        shares.append((line_id, numerator // total, numerator % total, position))
    leftover = cap - sum(share for _id, share, _rem, _pos in shares)
    bonus = {line_id for line_id, _s, _r, _p in sorted(shares, key=lambda s: (-s[2], s[3]))[:leftover]}
    for line_id, share, _rem, _pos in shares:
        amounts[line_id] = share + (1 if line_id in bonus else 0)
    return True


def _percent(rate: Decimal) -> str:
    value = (rate * 100).normalize()
    return f"{value:f}%"
