"""Where tier evaluation reads an influencer's confirmed performance from.

Tiers are the campaign's (campaigns.tiers); the numbers they are measured against live with the
commission records (confirmed sales and orders per influencer and campaign in a period), a floor
above. Commissions registers its reader here from its AppConfig.ready():

    performance_source_set(my_reader)

so the campaign context never imports the floor that pays it. Until a source is registered nobody
has confirmed sales, so every influencer stays in the base tier: the honest answer, not a guess.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from campaigns.tiers import TierMetric


@dataclass(frozen=True)
class Performance:
    sales_cents: int = 0
    orders: int = 0

    def metric(self, metric: TierMetric | str) -> int:
        return self.sales_cents if TierMetric(metric) == TierMetric.SALES else self.orders


#: (campaign_id, influencer_ids, start, end) -> {influencer_id: Performance}, confirmed only,
#: for orders created in [start, end).
PerformanceSource = Callable[[int, list[int], datetime, datetime], Mapping[int, Performance]]

_source: PerformanceSource | None = None


def performance_source_set(source: PerformanceSource | None) -> None:
    global _source
    _source = source


def performance_for(
    *, campaign_id: int, influencer_ids: Iterable[int], start: datetime, end: datetime
) -> dict[int, Performance]:
    ids = list(influencer_ids)
    found = _source(campaign_id, ids, start, end) if _source is not None else {}
    return {influencer_id: found.get(influencer_id, Performance()) for influencer_id in ids}
