from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.rules import Dimension, EligibilitySpec, OrderLineInput, RuleKind, RuleSpec
from campaigns.tiers import TierPeriod, TierSpec, tier_period_bounds, tier_select
from commissions.engine import CapKind, commission_compute, rule_match
from core.money import round_minor

# The sample order (shared/vtex/samples/oms-order-coupon-3-items.json) as engine input.
SAMPLE_LINES = [
    OrderLineInput(
        line_id="0",
        sku_id="18",
        product_id="6",
        quantity=2,
        base_cents=5922,
        category_ids=frozenset({"9"}),
        brand_id="2000000",
        collection_ids=frozenset({"135", "142"}),
    ),
    OrderLineInput(
        line_id="1",
        sku_id="25",
        product_id="9",
        quantity=1,
        base_cents=4491,
        category_ids=frozenset({"3", "14"}),
        brand_id="2000000",
        collection_ids=frozenset({"135", "142"}),
    ),
    OrderLineInput(
        line_id="2",
        sku_id="31",
        product_id="12",
        quantity=1,
        base_cents=1500,
        category_ids=frozenset({"21"}),
        brand_id="2000000",
        collection_ids=frozenset({"135", "142"}),
    ),
]


def pct(rule_id, rate, *, priority=100, dimension=Dimension.ALL, ids=(), **caps):
    return RuleSpec(
        rule_id=rule_id,
        name=f"r{rule_id}",
        kind=RuleKind.PERCENTAGE,
        priority=priority,
        rate=Decimal(rate),
        dimension=dimension,
        ids=frozenset(ids),
        **caps,
    )


def test_percentage_rule_pays_rate_of_line_total_after_discounts():
    result = commission_compute(lines=SAMPLE_LINES, rules=[pct(1, "0.10")])
    assert [line.amount_cents for line in result.lines] == [592, 449, 150]
    assert result.total_cents == 1191
    first = result.lines[0]
    assert first.rule_id == 1
    assert first.base_cents == 5922
    assert first.rate == Decimal("0.10")
    assert "10% of 5922" in first.explanation


def test_first_matching_rule_by_priority_wins_and_sku_rules_beat_catch_all():
    rules = [pct(1, "0.05", priority=100), pct(2, "0.12", priority=10, dimension=Dimension.SKU, ids={"18", "25"})]
    result = commission_compute(lines=SAMPLE_LINES, rules=rules).by_line()
    assert result["0"].rule_id == 2
    assert result["0"].amount_cents == round_minor(Decimal(5922) * Decimal("0.12"))
    assert result["1"].rule_id == 2
    assert result["2"].rule_id == 1
    assert result["2"].amount_cents == 75


def test_priority_ties_go_to_the_lower_rule_id():
    rules = [pct(7, "0.2"), pct(3, "0.1")]
    assert rule_match(SAMPLE_LINES[0], rules).rule_id == 3


@pytest.mark.parametrize(
    ("dimension", "ids", "matching_lines"),
    [
        (Dimension.PRODUCT, {"9"}, {"1"}),
        (Dimension.CATEGORY, {"3"}, {"1"}),
        (Dimension.BRAND, {"2000000"}, {"0", "1", "2"}),
        (Dimension.COLLECTION, {"142"}, {"0", "1", "2"}),
        (Dimension.SKU, {"31"}, {"2"}),
    ],
)
def test_rules_scope_by_each_dimension(dimension, ids, matching_lines):
    result = commission_compute(lines=SAMPLE_LINES, rules=[pct(1, "0.1", dimension=dimension, ids=ids)])
    paid = {line.line_id for line in result.lines if line.rule_id == 1}
    assert paid == matching_lines


def test_line_without_a_rule_earns_nothing_and_says_why():
    result = commission_compute(lines=SAMPLE_LINES, rules=[pct(1, "0.1", dimension=Dimension.SKU, ids={"18"})])
    unpaid = result.by_line()["2"]
    assert unpaid.amount_cents == 0
    assert unpaid.rule_id is None
    assert unpaid.explanation == "no rule covers this line"


def test_fixed_rule_pays_per_unit_but_never_more_than_the_line():
    rules = [RuleSpec(rule_id=1, name="fixed", kind=RuleKind.FIXED_PER_UNIT, amount_cents=1000)]
    result = commission_compute(lines=SAMPLE_LINES, rules=rules).by_line()
    assert result["0"].amount_cents == 2000  # 1000 × 2 units
    assert result["2"].amount_cents == 1000
    cheap = OrderLineInput(line_id="x", sku_id="1", quantity=3, base_cents=900)
    capped = commission_compute(lines=[cheap], rules=rules).lines[0]
    assert capped.amount_cents == 900
    assert "limited to the line value" in capped.explanation


def test_cap_per_line_limits_each_line():
    result = commission_compute(lines=SAMPLE_LINES, rules=[pct(1, "0.10", cap_per_line_cents=500)]).by_line()
    assert result["0"].amount_cents == 500
    assert result["0"].uncapped_cents == 592
    assert result["0"].caps_applied == (CapKind.LINE,)
    assert result["1"].amount_cents == 449
    assert result["1"].caps_applied == ()


def test_rule_cap_per_order_is_spread_over_its_lines_in_whole_cents():
    result = commission_compute(lines=SAMPLE_LINES, rules=[pct(1, "0.10", cap_per_order_cents=1000)])
    assert result.total_cents == 1000
    amounts = [line.amount_cents for line in result.lines]
    # 592:449:150 scaled to 1000 → 497.06, 376.99, 125.94 → floors 497, 376, 125; 2 cents left go
    # to the largest remainders (376.99 and 125.94).
    assert amounts == [497, 377, 126]
    assert all(CapKind.RULE_ORDER in line.caps_applied for line in result.lines)


def test_campaign_order_cap_applies_after_rule_caps():
    result = commission_compute(lines=SAMPLE_LINES, rules=[pct(1, "0.10")], order_cap_cents=600)
    assert result.total_cents == 600
    assert all(CapKind.ORDER in line.caps_applied for line in result.lines)


def test_tier_adds_percentage_points_to_percentage_rules_only():
    gold = TierSpec(tier_id=9, name="Oro", threshold=100, bonus_rate=Decimal("0.05"))
    rules = [
        pct(1, "0.10", dimension=Dimension.SKU, ids={"18"}),
        RuleSpec(rule_id=2, name="fixed", kind=RuleKind.FIXED_PER_UNIT, amount_cents=100),
    ]
    result = commission_compute(lines=SAMPLE_LINES, rules=rules, tier=gold).by_line()
    assert result["0"].rate == Decimal("0.15")
    assert result["0"].amount_cents == round_minor(Decimal(5922) * Decimal("0.15"))
    assert result["0"].tier_id == 9
    assert "tier Oro 5%" in result["0"].explanation
    assert result["1"].amount_cents == 100
    assert result["1"].tier_id is None


def test_effective_rate_never_exceeds_100_percent():
    tier = TierSpec(tier_id=1, name="max", threshold=0, bonus_rate=Decimal("0.5"))
    result = commission_compute(lines=SAMPLE_LINES[:1], rules=[pct(1, "0.8")], tier=tier)
    assert result.lines[0].amount_cents == 5922


def test_eligibility_include_and_exclude():
    eligibility = EligibilitySpec(
        include={Dimension.COLLECTION: frozenset({"135"})}, exclude={Dimension.CATEGORY: frozenset({"21"})}
    )
    result = commission_compute(lines=SAMPLE_LINES, rules=[pct(1, "0.1")], eligibility=eligibility).by_line()
    assert result["0"].eligible
    assert result["0"].amount_cents == 592
    assert not result["2"].eligible
    assert result["2"].amount_cents == 0
    assert result["2"].explanation == "not eligible for this campaign"


def test_eligibility_include_lists_that_match_nothing_exclude_the_line():
    eligibility = EligibilitySpec(include={Dimension.SKU: frozenset({"999"})})
    result = commission_compute(lines=SAMPLE_LINES, rules=[pct(1, "0.1")], eligibility=eligibility)
    assert result.total_cents == 0


def test_rounding_is_bankers_rounding_in_one_place():
    # 0.5 cents rounds to the even neighbour: 25 × 10% = 2.5 → 2; 35 × 10% = 3.5 → 4.
    lines = [
        OrderLineInput(line_id="a", sku_id="1", quantity=1, base_cents=25),
        OrderLineInput(line_id="b", sku_id="1", quantity=1, base_cents=35),
    ]
    result = commission_compute(lines=lines, rules=[pct(1, "0.1")])
    assert [line.amount_cents for line in result.lines] == [2, 4]


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="fraction"):
        pct(1, "1.5")
    with pytest.raises(ValueError, match="negative"):
        OrderLineInput(line_id="a", sku_id="1", quantity=1, base_cents=-1)
    with pytest.raises(ValueError, match="unique"):
        commission_compute(lines=[SAMPLE_LINES[0], SAMPLE_LINES[0]], rules=[pct(1, "0.1")])
    with pytest.raises(ValueError, match="rule ids must be unique"):
        commission_compute(lines=SAMPLE_LINES, rules=[pct(1, "0.1"), pct(1, "0.2")])


# --- Tiers ----------------------------------------------------------------------------------

SILVER = TierSpec(tier_id=1, name="Plata", threshold=1_000_00, bonus_rate=Decimal("0.02"))
GOLD = TierSpec(tier_id=2, name="Oro", threshold=5_000_00, bonus_rate=Decimal("0.05"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, None), (99_999, None), (1_000_00, SILVER), (4_999_99, SILVER), (5_000_00, GOLD), (10**12, GOLD)],
)
def test_tier_select_picks_the_highest_threshold_reached(value, expected):
    assert tier_select(value=value, tiers=[GOLD, SILVER]) == expected


def test_tier_period_is_the_calendar_month_in_the_brand_time_zone():
    bogota = ZoneInfo("America/Bogota")
    # 2026-03-01 03:00 UTC is still February 28th in Bogotá (UTC-5).
    at = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)
    start, end = tier_period_bounds(period=TierPeriod.MONTH, at=at, tz=bogota, campaign_start=at)
    assert start == datetime(2026, 2, 1, tzinfo=bogota)
    assert end == datetime(2026, 3, 1, tzinfo=bogota)


def test_tier_period_quarter_and_campaign():
    tz = ZoneInfo("America/Mexico_City")
    at = datetime(2026, 11, 20, 12, tzinfo=UTC)
    start, end = tier_period_bounds(period=TierPeriod.QUARTER, at=at, tz=tz, campaign_start=at)
    assert (start.month, end.year, end.month) == (10, 2027, 1)
    campaign_start = datetime(2026, 1, 5, tzinfo=UTC)
    assert tier_period_bounds(period=TierPeriod.CAMPAIGN, at=at, tz=tz, campaign_start=campaign_start) == (
        campaign_start,
        at,
    )


# --- Properties -----------------------------------------------------------------------------

ids = st.sampled_from(["1", "2", "3", "4", "5"])
lines_strategy = st.lists(
    st.builds(
        OrderLineInput,
        line_id=st.just(""),
        sku_id=ids,
        quantity=st.integers(min_value=0, max_value=50),
        base_cents=st.integers(min_value=0, max_value=10**9),
        product_id=ids,
        category_ids=st.frozensets(ids, max_size=3),
        brand_id=ids,
        collection_ids=st.frozensets(ids, max_size=3),
    ),
    min_size=0,
    max_size=8,
).map(lambda lines: [OrderLineInput(**{**line.__dict__, "line_id": str(i)}) for i, line in enumerate(lines)])
caps = st.none() | st.integers(min_value=0, max_value=10**7)
rate_strategy = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("0.6"), places=3)
rules_strategy = st.lists(
    st.builds(
        RuleSpec,
        rule_id=st.integers(min_value=1, max_value=10**6),
        name=st.just("r"),
        kind=st.just(RuleKind.PERCENTAGE),
        priority=st.integers(min_value=0, max_value=5),
        rate=rate_strategy,
        dimension=st.sampled_from(list(Dimension)),
        ids=st.frozensets(ids, max_size=3),
        cap_per_line_cents=caps,
        cap_per_order_cents=caps,
    ),
    min_size=0,
    max_size=5,
    unique_by=lambda rule: rule.rule_id,
)
tier_strategy = st.none() | st.builds(
    TierSpec,
    tier_id=st.integers(min_value=1, max_value=9),
    name=st.just("t"),
    threshold=st.just(0),
    bonus_rate=st.decimals(min_value=Decimal("0.001"), max_value=Decimal("0.3"), places=3),
)


@settings(max_examples=300, deadline=None)
@given(lines=lines_strategy, rules=rules_strategy, tier=tier_strategy, order_cap=caps)
def test_property_commissions_are_bounded_exact_and_deterministic(lines, rules, tier, order_cap):
    result = commission_compute(lines=lines, rules=rules, tier=tier, order_cap_cents=order_cap)
    again = commission_compute(lines=list(lines), rules=list(reversed(rules)), tier=tier, order_cap_cents=order_cap)

    assert result == again  # deterministic, whatever order the rules come in
    assert result.total_cents == sum(line.amount_cents for line in result.lines)
    assert [line.line_id for line in result.lines] == [line.line_id for line in lines]
    highest = max((r.rate for r in rules), default=Decimal(0)) + (tier.bonus_rate if tier else Decimal(0))
    highest = min(highest, Decimal(1))
    for line, commission in zip(lines, result.lines, strict=True):
        assert commission.amount_cents >= 0
        assert commission.amount_cents <= round_minor(Decimal(line.base_cents) * highest)
        assert commission.amount_cents <= line.base_cents
        assert commission.amount_cents <= commission.uncapped_cents
    if order_cap is not None:
        assert result.total_cents <= order_cap


@settings(max_examples=200, deadline=None)
@given(
    lines=lines_strategy,
    amount=st.integers(min_value=1, max_value=10**6),
    cap=caps,
)
def test_property_fixed_rules_never_exceed_the_line(lines, amount, cap):
    rule = RuleSpec(rule_id=1, name="f", kind=RuleKind.FIXED_PER_UNIT, amount_cents=amount, cap_per_order_cents=cap)
    result = commission_compute(lines=lines, rules=[rule])
    for line, commission in zip(lines, result.lines, strict=True):
        assert 0 <= commission.amount_cents <= min(line.base_cents, amount * line.quantity)
    assert result.total_cents == sum(c.amount_cents for c in result.lines)
