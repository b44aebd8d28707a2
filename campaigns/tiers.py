"""Performance tiers of a campaign: what a tier measures, over which period, and which tier a
figure reaches. Pure functions, no database; the confirmed figures come from
`campaigns.performance`. docs/commissions.md ("Tiers") says how they are evaluated.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from decimal import Decimal
from enum import StrEnum


class TierMetric(StrEnum):
    SALES = "sales"  # confirmed sales in cents
    ORDERS = "orders"  # confirmed orders


class TierPeriod(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    CAMPAIGN = "campaign"


@dataclass(frozen=True)
class TierSpec:
    """A performance tier: reached when the influencer's metric in the tier period is at least
    `threshold`; adds `bonus_rate` (a fraction: 0.02 is two percentage points) to PERCENTAGE
    rules. FIXED_PER_UNIT rules are not raised by tiers."""

    tier_id: int
    name: str
    threshold: int
    bonus_rate: Decimal

    def __post_init__(self) -> None:
        if self.threshold < 0 or self.bonus_rate < 0:
            raise ValueError(f"tier {self.tier_id}: threshold and bonus must not be negative")


def tier_select(*, value: int, tiers: Iterable[TierSpec]) -> TierSpec | None:
    """The highest tier whose threshold `value` reaches (None: below every tier)."""
    reached = [tier for tier in tiers if value >= tier.threshold]
    if not reached:
        return None
    return max(reached, key=lambda tier: (tier.threshold, tier.tier_id))


def tier_period_bounds(
    *, period: TierPeriod, at: datetime, tz: tzinfo, campaign_start: datetime
) -> tuple[datetime, datetime]:
    """[start, end) of the tier period containing `at`, in the brand's time zone: the calendar
    month, the calendar quarter, or the whole campaign (from its start until `at`)."""
    if at.tzinfo is None or campaign_start.tzinfo is None:
        raise ValueError("tier periods need aware datetimes")
    local = at.astimezone(tz)
    if period == TierPeriod.CAMPAIGN:
        return campaign_start, at
    if period == TierPeriod.MONTH:
        first = date(local.year, local.month, 1)
        months = 1
    else:
        first = date(local.year, 3 * ((local.month - 1) // 3) + 1, 1)
        months = 3
    year, month = divmod(first.month - 1 + months, 12)
    following = date(first.year + year, month + 1, 1)
    start = datetime.combine(first, time.min, tzinfo=tz)
    end = datetime.combine(following, time.min, tzinfo=tz)
    return start, end
