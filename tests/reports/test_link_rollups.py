"""Link rollups (issue 19): a click on an influencer's own link and the order carrying its UTMs
land on that link's numbers, through the same services and debounced refresh as the daily
rollups; a rebuild equals the incremental result; the admin and the API read them."""

import io
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts.services import api_key_create
from affiliates.assignments import campaign_assign_influencer
from commissions.models import Commission
from orders.models import Order
from orders.services import order_apply
from reports.models import LinkRollup
from reports.selectors import link_daily_series, link_numbers_for
from tests.api.conftest import auth
from tests.reports.conftest import order_doc
from tests.tracking.conftest import BROWSER, drain_all
from tracking.link_numbers import link_numbers
from tracking.models import Click, Link
from tracking.services import link_create, link_create_by_influencer

pytestmark = pytest.mark.django_db

FIELDS = (
    "day",
    "link_id",
    "campaign_id",
    "influencer_id",
    "clicks_valid",
    "unique_visitors",
    "orders",
    "revenue_cents",
    "commission_estimated_cents",
    "commission_confirmed_cents",
)


@pytest.fixture(autouse=True)
def _spool(settings: Any, tmp_path: Any) -> None:
    settings.TRACKING_SPOOL_DIR = str(tmp_path / "spool")
    settings.TRACKING_LINK_L1_SECONDS = 0
    settings.TRACKING_BUFFER = "spool"


def _click(client: Client, link: Link) -> dict[str, str]:
    response = client.get(f"/r/{link.slug}", **BROWSER)
    assert response.status_code == 302
    return {k: v[0] for k, v in parse_qs(urlsplit(response["Location"]).query).items()}


def _order_with(utms: dict[str, str], *, order_id: str, placed: datetime) -> dict[str, Any]:
    doc = order_doc(order_id=order_id, coupon=None, creation=placed.isoformat(), last_change=placed.isoformat())
    doc["marketingData"] = {
        "id": "marketingData",
        "utmSource": utms["utm_source"],
        "utmMedium": utms["utm_medium"],
        "utmCampaign": utms["utm_campaign"],
        "utmiCampaign": utms["utmi_cp"],
        "utmiPart": utms["utmi_pc"],
        "coupon": None,
    }
    return doc


def test_a_click_on_an_influencers_own_link_and_its_order_land_on_that_links_numbers(
    setup: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    brand, influencer = setup["brand"], setup["influencer"]
    campaign_assign_influencer(campaign=setup["campaign"], influencer=influencer)
    mine = link_create_by_influencer(
        influencer=influencer, brand=brand, destination_url="https://www.acme.example/tenis/p", actor=None
    )
    other = link_create(campaign=setup["campaign"], influencer=influencer, label="Bio")
    client = Client()
    utms = _click(client, mine)
    _click(Client(), other)
    with django_capture_on_commit_callbacks(execute=True):
        assert drain_all() == 2
    placed = timezone.now().replace(microsecond=0) + timedelta(minutes=5)
    with django_capture_on_commit_callbacks(execute=True):
        order_apply(brand=brand, data=_order_with(utms, order_id="3000000000001-01", placed=placed), source="t")
    order = Order.objects.get(vtex_order_id="3000000000001-01")
    assert (order.attribution_source, order.influencer, order.link) == ("click", influencer, mine)
    commission = sum(c.amount_cents for c in Commission.objects.filter(order=order))
    assert commission > 0

    today = timezone.localtime(timezone.now(), brand.tz).date()
    numbers = link_numbers(link_ids=[mine.pk, other.pk], start=today - timedelta(days=6), end=today + timedelta(days=1))
    assert (numbers[mine.pk].clicks, numbers[mine.pk].orders) == (1, 1)
    assert numbers[mine.pk].revenue_cents == order.value_cents
    assert numbers[mine.pk].commission_estimated_cents == commission
    assert numbers[mine.pk].conversion == 1
    assert (numbers[other.pk].clicks, numbers[other.pk].orders, numbers[other.pk].revenue_cents) == (1, 0, 0)

    # Canceled: the order leaves the link's numbers; the click stays.
    with django_capture_on_commit_callbacks(execute=True):
        order_apply(
            brand=brand,
            data={
                **_order_with(utms, order_id="3000000000001-01", placed=placed),
                "status": "canceled",
                "lastChange": (placed + timedelta(hours=1)).isoformat(),
            },
            source="t",
        )
    after = link_numbers_for([mine.pk], today - timedelta(days=6), today + timedelta(days=1))[mine.pk]
    assert (after.clicks, after.orders, after.revenue_cents) == (1, 0, 0)


def test_a_coupon_order_is_no_links_order(setup: dict[str, Any], django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        order_apply(brand=setup["brand"], data=order_doc(), source="t")
    order = Order.objects.get()
    assert (order.attribution_source, order.link) == ("coupon", None)
    assert not LinkRollup.objects.exists()


def test_a_link_rebuild_equals_the_incremental_result(
    setup: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    brand = setup["brand"]
    link = link_create(campaign=setup["campaign"], influencer=setup["influencer"])
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            _click(Client(), link)
        drain_all()
    utms = _click(Client(), link)
    with django_capture_on_commit_callbacks(execute=True):
        drain_all()
    with django_capture_on_commit_callbacks(execute=True):
        order_apply(
            brand=brand,
            data=_order_with(utms, order_id="3000000000002-01", placed=timezone.now() + timedelta(minutes=1)),
            source="t",
        )
    rows = list(LinkRollup.objects.order_by(*FIELDS).values_list(*FIELDS))
    valid = Click.objects.filter(link=link, is_valid=True).count()
    assert valid >= 1
    assert (sum(r[4] for r in rows), sum(r[6] for r in rows)) == (valid, 1)  # clicks, the order
    LinkRollup.objects.all().delete()
    today = timezone.localtime(timezone.now(), brand.tz).date()
    call_command(
        "rollups_rebuild",
        "--brand",
        brand.slug,
        "--from",
        (today - timedelta(days=2)).isoformat(),
        "--to",
        (today + timedelta(days=1)).isoformat(),
        stdout=io.StringIO(),
    )
    assert list(LinkRollup.objects.order_by(*FIELDS).values_list(*FIELDS)) == rows


def test_the_daily_series_has_every_day_of_the_period(setup: dict[str, Any]) -> None:
    link = link_create(campaign=setup["campaign"], influencer=setup["influencer"])
    day = datetime(2026, 3, 10, tzinfo=UTC).date()
    LinkRollup.objects.create(
        brand=setup["brand"],
        day=day,
        link=link,
        campaign=setup["campaign"],
        influencer=setup["influencer"],
        clicks_valid=7,
        orders=1,
        revenue_cents=500,
        commission_estimated_cents=50,
        commission_confirmed_cents=25,
    )
    series = link_daily_series(link_ids=[link.pk], start=day - timedelta(days=2), end=day)[link.pk]
    assert [(p.day, p.clicks, p.commission_cents) for p in series] == [
        (day - timedelta(days=2), 0, 0),
        (day - timedelta(days=1), 0, 0),
        (day, 7, 75),
    ]


def _rollup(link: Link, day: Any, **numbers: int) -> None:
    LinkRollup.objects.create(
        brand=link.brand, day=day, link=link, campaign=link.campaign, influencer=link.influencer, **numbers
    )


def test_the_admin_lists_each_links_numbers_and_shows_them_on_its_page(
    setup: dict[str, Any], manager_a: Any, manager_b: Any, verified_client: Any
) -> None:
    link = link_create(campaign=setup["campaign"], influencer=setup["influencer"], label="Bio")
    today = timezone.localtime(timezone.now(), link.brand.tz).date()
    _rollup(link, today, clicks_valid=200, orders=5, revenue_cents=1_000_000, commission_confirmed_cents=100_000)
    _rollup(link, today - timedelta(days=60), clicks_valid=100)
    client = verified_client(manager_a)
    listing = client.get("/admin/tracking/link/").content.decode()
    assert '<td class="field-clicks_30d">200</td>' in listing
    assert '<td class="field-orders_30d">5</td>' in listing
    assert "2.5 %" in listing
    page = client.get(f"/admin/tracking/link/{link.pk}/change/").content.decode()
    assert 'data-testid="admin-link-numbers"' in page
    assert "<td>300</td>" in page  # the last 90 days hold both days
    assert verified_client(manager_b).get(f"/admin/tracking/link/{link.pk}/change/").status_code in (302, 404)


def test_the_api_lists_links_with_their_numbers_and_a_links_daily_stats(
    setup: dict[str, Any], brand_b: Any, client: Client
) -> None:
    link = link_create(campaign=setup["campaign"], influencer=setup["influencer"], label="Bio")
    today = timezone.localtime(timezone.now(), link.brand.tz).date()
    _rollup(link, today, clicks_valid=40, orders=2, revenue_cents=90_000, commission_estimated_cents=9_000)
    _rollup(link, today - timedelta(days=45), clicks_valid=10)
    _key, secret = api_key_create(brand=setup["brand"], name="BI", scopes=["links:read"])
    listed = client.get("/api/v1/links/", **auth(secret)).json()
    [row] = listed["results"]
    assert row["url"].endswith(f"/r/{link.slug}")
    assert row["origin"] == "manager"
    assert row["numbers_30d"]["clicks"] == 40
    assert row["numbers_30d"]["conversion_rate"] == "0.0500"
    stats = client.get(
        f"/api/v1/links/{link.pk}/stats",
        {"date_from": (today - timedelta(days=59)).isoformat(), "date_to": today.isoformat()},
        **auth(secret),
    ).json()
    assert stats["currency"] == link.brand.currency
    assert stats["totals"]["clicks"] == 50
    assert stats["totals"]["revenue_cents"] == 90_000
    assert len(stats["days"]) == 60
    assert stats["days"][-1] == {
        "day": today.isoformat(),
        "clicks": 40,
        "orders": 2,
        "revenue_cents": 90_000,
        "commission_cents": 9_000,
    }
    too_long = client.get(
        f"/api/v1/links/{link.pk}/stats", {"date_from": "2020-01-01", "date_to": "2026-01-01"}, **auth(secret)
    )
    assert too_long.status_code == 400
    _other, foreign = api_key_create(brand=brand_b, name="BI", scopes=["links:read"])
    assert client.get(f"/api/v1/links/{link.pk}/stats", **auth(foreign)).status_code == 404
    assert client.get("/api/v1/links/", **auth(foreign)).json()["results"] == []
