"""Claims fixtures: the orders tests' brand, campaign (10 % on every line) and Maria with the
sample's coupon, plus Lucía, another member of the campaign who claims orders; VTEX is the fake
server (tests/fake_vtex.py), order documents are the orders tests' sample with recent dates."""

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.storage import FileSystemStorage
from django.utils import timezone

from affiliates.assignments import campaign_assign_influencer
from claims.models import Claim
from tests.factories import InfluencerFactory, MembershipFactory
from tests.orders.conftest import (  # noqa: F401  (fixtures)
    SAMPLE_ORDER_ID,
    campaign_a,
    code_maria,
    fake_oms,
    maria,
    order_doc,
    setup,
)


def vtex_time(days_ago: float) -> str:
    return (timezone.now() - timedelta(days=days_ago)).isoformat()


def recent_order(*, order_id: str = SAMPLE_ORDER_ID, days_ago: float = 3, **kwargs: Any) -> dict[str, Any]:
    """The sample order placed `days_ago` days ago (kwargs as tests.orders.conftest.order_doc)."""
    return order_doc(
        order_id=order_id,
        creation=vtex_time(days_ago),
        last_change=kwargs.pop("last_change", vtex_time(days_ago - 0.01)),
        **kwargs,
    )


@pytest.fixture(autouse=True)
def _private_evidence(tmp_path: Any, monkeypatch: Any) -> None:
    (tmp_path / "private").mkdir()
    storage = FileSystemStorage(location=str(tmp_path / "private"), base_url=None)
    monkeypatch.setattr(Claim._meta.get_field("evidence"), "storage", storage)


@pytest.fixture
def lucia(brand_a: Any, campaign_a: Any) -> Any:  # noqa: F811
    membership = MembershipFactory(brand=brand_a, influencer=InfluencerFactory(display_name="Lucía Gómez"))
    campaign_assign_influencer(campaign=campaign_a, influencer=membership.influencer)
    return membership.influencer
