"""Reports fixtures: the orders context's brand/campaign/influencer/code (10 % on every line),
plus helpers that record facts through the real services."""

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.orders.conftest import (  # noqa: F401 - fixtures
    COUPON,
    campaign_a,
    code_maria,
    maria,
    order_doc,
    setup,
)
from tracking.buffer import clicks_store
from tracking.models import Link


def store_clicks(*, brand: Any, campaign: Any, influencer: Any, link: Any, moments: list[tuple[str, str, bool]]) -> int:
    """Clicks through the drain's own store: (ISO time, visitor, valid?)."""

    records = []
    for i, (when, visitor, valid) in enumerate(moments):
        ts = datetime.fromisoformat(when).astimezone(UTC).timestamp()
        records.append(
            {
                "click_id": f"01TESTCLICK{link.pk:04d}{i:011d}"[:26],
                "link": str(link.pk),
                "brand": str(brand.pk),
                "campaign": str(campaign.pk),
                "influencer": str(influencer.pk),
                "ts": str(ts),
                "visitor": visitor,
                "reason": "" if valid else "bot",
                "ip_hash": "h",
                "fp": "f",
            }
        )
    return clicks_store(records)


@pytest.fixture
def link_maria(setup: dict[str, Any]) -> Any:  # noqa: F811
    return Link.objects.create(
        brand=setup["brand"],
        campaign=setup["campaign"],
        influencer=setup["influencer"],
        slug="maria-1",
        destination_url="https://www.acme.example/",
    )
