"""End-to-end fixtures: a brand with a running campaign (10 % on every line), an approved
influencer with a demo-like link (`/r/demo-maria`, the store's home page), the click buffer in
a per-test spool (or Redis stream when REDIS_URL is set) and the fake VTEX server."""

from decimal import Decimal
from typing import Any

import pytest

from campaigns.models import CommissionRule
from orders.services import hook_brand_cache_clear
from tests.factories import CampaignFactory, InfluencerFactory, MembershipFactory
from tracking.services import link_create


@pytest.fixture(autouse=True)
def _tracking_settings(settings: Any, tmp_path: Any, request: Any) -> None:
    settings.TRACKING_SPOOL_DIR = str(tmp_path / "spool")
    settings.TRACKING_LINK_L1_SECONDS = 0
    settings.TRACKING_STREAM_KEY = f"test:clicks:{request.node.name}:{tmp_path.name}"


@pytest.fixture(autouse=True)
def _fresh_hook_brand_cache() -> Any:
    hook_brand_cache_clear()
    yield
    hook_brand_cache_clear()


@pytest.fixture
def campaign(brand_a: Any) -> Any:
    campaign = CampaignFactory(brand=brand_a, slug="lanzamiento", attribution_window_days=30, hold_days=15)
    CommissionRule.objects.create(
        campaign=campaign, name="Everything 10%", kind="percentage", rate_percent=Decimal("10"), dimension="all"
    )
    return campaign


@pytest.fixture
def maria(brand_a: Any) -> Any:
    return MembershipFactory(
        brand=brand_a, influencer=InfluencerFactory(display_name="Maria"), status="approved"
    ).influencer


@pytest.fixture
def demo_link(campaign: Any, maria: Any) -> Any:
    return link_create(campaign=campaign, influencer=maria, slug="demo-maria", label="Demo")
