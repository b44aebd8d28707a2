"""A/B results: per variant of a campaign, the report metrics plus a two-proportion z-test on
the conversion rate (orders / valid clicks) against the first variant, worded for a manager.

The test: p̂ = (x₁+x₂)/(n₁+n₂), z = (p₂−p₁) / √(p̂(1−p̂)(1/n₁+1/n₂)), two-sided p-value from the
normal distribution; confidence = 1 − p. Orders are counted against clicks, so an order without
a click (a coupon typed at checkout) still counts; rates above 1 are capped for the test.
"""

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Sum
from django.utils.translation import gettext as _

from reports.models import DailyRollup

MIN_CLICKS = 100
CONFIDENCE_LEVEL = 0.95


@dataclass(frozen=True)
class ZTest:
    z: float
    p_value: float

    @property
    def confidence(self) -> float:
        return 1 - self.p_value


def two_proportion_z_test(*, successes_a: int, trials_a: int, successes_b: int, trials_b: int) -> ZTest | None:
    """Two-sided test that B's rate differs from A's. None when either side has no trials or
    the pooled rate is 0 or 1 (no variance: nothing to test)."""
    if trials_a <= 0 or trials_b <= 0:
        return None
    xa, xb = min(successes_a, trials_a), min(successes_b, trials_b)
    pooled = (xa + xb) / (trials_a + trials_b)
    if pooled in (0, 1):
        return None
    se = math.sqrt(pooled * (1 - pooled) * (1 / trials_a + 1 / trials_b))
    z = (xb / trials_b - xa / trials_a) / se
    p_value = math.erfc(abs(z) / math.sqrt(2))
    return ZTest(z=z, p_value=p_value)


def verdict(*, name_a: str, name_b: str, test: ZTest | None, trials_a: int, trials_b: int) -> str:
    """The result in words: "B converts better than A with 97% confidence" or why not yet."""
    if test is None or min(trials_a, trials_b) < MIN_CLICKS:
        return _("Not enough evidence yet: each variant needs at least %(n)s clicks with some orders.") % {
            "n": MIN_CLICKS
        }
    percent = math.floor(test.confidence * 100)
    if test.confidence < CONFIDENCE_LEVEL:
        return _(
            "Not enough evidence yet: %(b)s and %(a)s convert about the same so far (%(pct)s%% confidence in a "
            "difference; we wait for 95%%)."
        ) % {"a": name_a, "b": name_b, "pct": percent}
    better, worse = (name_b, name_a) if test.z > 0 else (name_a, name_b)
    return _("%(better)s converts better than %(worse)s with %(pct)s%% confidence.") % {
        "better": better,
        "worse": worse,
        "pct": min(percent, 99),
    }


@dataclass
class VariantResult:
    variant_id: int | None
    name: str
    clicks: int
    orders: int
    revenue_cents: int
    commissions_cents: int
    conversion_rate: float | None
    average_order_value_cents: int
    earnings_per_click_cents: int
    verdict: str = ""
    confidence: float | None = None


def ab_results(*, campaign: Any, date_from: date, date_to: date) -> list[VariantResult]:
    """Per variant of the campaign (rows without a variant are left out), each compared with
    the first variant by key."""

    rows = (
        DailyRollup.objects.filter(campaign=campaign, day__gte=date_from, day__lte=date_to, variant__isnull=False)
        .values("variant_id", "variant__key", "variant__name")
        .annotate(
            clicks=Sum("clicks_valid"),
            orders=Sum("orders"),
            revenue=Sum("revenue_cents"),
            est=Sum("commission_estimated_cents"),
            conf=Sum("commission_confirmed_cents"),
        )
        .order_by("variant__key")
    )
    by_id = {row["variant_id"]: row for row in rows}
    results: list[VariantResult] = []
    for variant in campaign.variants.order_by("key"):
        row: dict[str, Any] = dict(by_id.get(variant.pk) or {})
        clicks, orders = row.get("clicks") or 0, row.get("orders") or 0
        revenue, commissions = row.get("revenue") or 0, (row.get("est") or 0) + (row.get("conf") or 0)
        results.append(
            VariantResult(
                variant_id=variant.pk,
                name=variant.name or variant.key,
                clicks=clicks,
                orders=orders,
                revenue_cents=revenue,
                commissions_cents=commissions,
                conversion_rate=round(orders / clicks, 4) if clicks else None,
                average_order_value_cents=revenue // orders if orders else 0,
                earnings_per_click_cents=commissions // clicks if clicks else 0,
            )
        )
    if results:
        base = results[0]
        base.verdict = _("Baseline.")
        for other in results[1:]:
            test = two_proportion_z_test(
                successes_a=base.orders, trials_a=base.clicks, successes_b=other.orders, trials_b=other.clicks
            )
            other.confidence = round(test.confidence, 4) if test else None
            other.verdict = verdict(
                name_a=base.name, name_b=other.name, test=test, trials_a=base.clicks, trials_b=other.clicks
            )
    return results
