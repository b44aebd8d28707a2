"""Portal and dashboard panels cached until their rollups move (core/panel_cache.py): a refresh
that changes an influencer's rows publishes `rollups.moved`, which invalidates that influencer's
portal panels and the brand's dashboards, and nothing else."""

from datetime import date, timedelta
from typing import Any

import pytest

from affiliates.models import Membership
from core import events
from portal.selectors import Period, portal_dashboard
from reports.rollups import rollup_refresh
from reports.selectors import dashboard_build, dashboard_rollup_panels, influencer_rollup_days
from tests.factories import BrandFactory, InfluencerFactory, MembershipFactory
from tests.reports.conftest import store_clicks
from tracking.models import Link

pytestmark = pytest.mark.django_db

DAY = date(2024, 2, 4)
PERIOD = Period(key="7d", label="7d", start=DAY - timedelta(days=6), end=DAY)


@pytest.fixture
def two_people(setup: dict[str, Any]) -> dict[str, Any]:
    brand, campaign = setup["brand"], setup["campaign"]
    other = MembershipFactory(brand=brand, influencer=InfluencerFactory(), status="approved").influencer

    def link(influencer: Any, slug: str) -> Any:
        return Link.objects.create(
            brand=brand,
            campaign=campaign,
            influencer=influencer,
            slug=slug,
            destination_url="https://www.acme.example/",
        )

    return {
        **setup,
        "other": other,
        "links": {
            "maria": [link(setup["influencer"], "m1"), link(setup["influencer"], "m2")],
            "other": link(other, "o1"),
        },
    }


def _click(people: dict[str, Any], influencer: Any, link: Any, capture: Any, visitor: str = "v") -> None:
    with capture(execute=True):
        store_clicks(
            brand=people["brand"],
            campaign=people["campaign"],
            influencer=influencer,
            link=link,
            moments=[("2024-02-04T15:00:00+00:00", visitor, True)],
        )


def portal_rollup_panel(*, membership: Membership, period: Period) -> dict[date, tuple[int, ...]]:
    """What the portal's dashboard reads (portal.selectors -> reports.selectors)."""
    return influencer_rollup_days(
        brand_id=membership.brand_id, influencer_id=membership.influencer_id, start=period.start, end=period.end
    )


def _membership(people: dict[str, Any], influencer: Any) -> Membership:
    return Membership.objects.select_related("brand", "influencer").get(brand=people["brand"], influencer=influencer)


def test_a_portal_panel_is_read_once_until_that_influencers_rollup_moves(
    two_people: dict[str, Any], django_capture_on_commit_callbacks: Any, django_assert_num_queries: Any
) -> None:
    people, capture = two_people, django_capture_on_commit_callbacks
    maria, other = people["influencer"], people["other"]
    _click(people, maria, people["links"]["maria"][0], capture)
    _click(people, other, people["links"]["other"], capture)
    maria_m, other_m = _membership(people, maria), _membership(people, other)

    assert sum(row[0] for row in portal_rollup_panel(membership=maria_m, period=PERIOD).values()) == 1
    assert sum(row[0] for row in portal_rollup_panel(membership=other_m, period=PERIOD).values()) == 1
    with django_assert_num_queries(0):
        portal_rollup_panel(membership=maria_m, period=PERIOD)
        portal_rollup_panel(membership=other_m, period=PERIOD)

    _click(people, maria, people["links"]["maria"][1], capture, visitor="v2")  # Maria's rollup moves

    with django_assert_num_queries(1):  # Maria's panel is read again...
        assert sum(row[0] for row in portal_rollup_panel(membership=maria_m, period=PERIOD).values()) == 2
    with django_assert_num_queries(0):  # ...the other influencer's is still the cached one
        assert sum(row[0] for row in portal_rollup_panel(membership=other_m, period=PERIOD).values()) == 1


def test_the_portal_dashboard_shows_cached_rollups_and_live_balances(
    two_people: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    people = two_people
    _click(people, people["influencer"], people["links"]["maria"][0], django_capture_on_commit_callbacks)
    membership = _membership(people, people["influencer"])
    first = portal_dashboard(membership=membership, period=PERIOD)
    again = portal_dashboard(membership=membership, period=PERIOD)
    assert first.clicks == again.clicks == 1
    assert [p.clicks for p in again.series] == [0, 0, 0, 0, 0, 0, 1]
    assert again.currency == people["brand"].currency


def test_a_refresh_that_changes_nothing_invalidates_nothing(
    two_people: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    people = two_people
    _click(people, people["influencer"], people["links"]["maria"][0], django_capture_on_commit_callbacks)
    moved: list[dict[str, Any]] = []

    def record(**payload: Any) -> None:
        moved.append(payload)

    events.subscribe("rollups.moved", record)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            rollup_refresh(brand_id=people["brand"].pk, days=[DAY])
        assert moved == []
        _click(people, people["other"], people["links"]["other"], django_capture_on_commit_callbacks)
        assert [(m["brand_id"], set(m["influencer_ids"])) for m in moved] == [
            (people["brand"].pk, {people["other"].pk})
        ]
    finally:
        events._subscribers["rollups.moved"].remove(record)


def test_dashboard_panels_are_cached_per_brand_and_period_until_the_brand_moves(
    two_people: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
    django_assert_num_queries: Any,
    manager_a: Any,
) -> None:
    people, capture = two_people, django_capture_on_commit_callbacks
    brand, other_brand = people["brand"], BrandFactory()
    _click(people, people["influencer"], people["links"]["maria"][0], capture)

    def clicks(brand_id: int) -> int:
        panels = dashboard_rollup_panels(brand_id=brand_id, start=PERIOD.start, end=PERIOD.end)
        return sum(row["clicks"] for row in panels["by_day"].values())

    assert (clicks(brand.pk), clicks(other_brand.pk)) == (1, 0)
    with django_assert_num_queries(0):
        assert (clicks(brand.pk), clicks(other_brand.pk)) == (1, 0)
    with django_assert_num_queries(3):  # another period is another entry
        dashboard_rollup_panels(brand_id=brand.pk, start=PERIOD.start - timedelta(days=1), end=PERIOD.end)

    _click(people, people["other"], people["links"]["other"], capture)
    with django_assert_num_queries(3):
        assert clicks(brand.pk) == 2
    with django_assert_num_queries(0):
        assert clicks(other_brand.pk) == 0

    data = dashboard_build(user=manager_a, brand=brand, period_key="7", today=DAY)
    assert next(k for k in data.kpis if k.key == "clicks").value == 2
    assert {row["id"] for row in data.top_influencers} == {people["influencer"].pk, people["other"].pk}


def test_a_cache_outage_costs_the_read_not_the_page(two_people: dict[str, Any], settings: Any) -> None:
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    membership = _membership(two_people, two_people["influencer"])
    assert portal_dashboard(membership=membership, period=PERIOD).clicks == 0
