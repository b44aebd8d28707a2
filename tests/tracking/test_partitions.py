"""Monthly click partitions (tracking/partitions.py, migration tracking/0003): clicks land in
their month's table, the coming months are created ahead, expired months are archived to
private storage and dropped, and nothing else moves."""

import csv
import gzip
import io
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.db import connection

from core.storage import private_storage
from tests.factories import CampaignFactory
from tracking.buffer import clicks_store
from tracking.models import Click
from tracking.partitions import (
    DEFAULT,
    click_partitions_maintain,
    month_add,
    partition_ensure,
    partition_months,
    partition_name,
)
from tracking.services import link_create

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

TODAY = date(2031, 6, 15)  # far from the months the migration created, so every step shows


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("partitions are PostgreSQL's")


@pytest.fixture
def link(campaign_a: Any, influencer_a: Any) -> Any:
    return link_create(campaign=campaign_a, influencer=influencer_a, destination_url="https://www.acme.example/")


@pytest.fixture
def campaign_a(brand_a: Any) -> Any:
    return CampaignFactory(brand=brand_a)


def _click(link: Any, when: datetime, n: int) -> Click:
    return Click.objects.create(
        click_id=f"01PART{n:020d}",
        link=link,
        brand=link.brand,
        campaign=link.campaign,
        influencer=link.influencer,
        occurred_at=when,
        visitor_id=f"v{n}",
        ip_hash="h",
        fingerprint="f",
    )


def _table_of(click: Click) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM tracking_click WHERE id = %s", [click.pk])
        return str(cursor.fetchone()[0])


def test_the_click_table_is_partitioned_by_month_and_clicks_land_in_their_month(link: Any) -> None:
    now = datetime.now(UTC)
    this_month = now.date().replace(day=1)
    assert {this_month, month_add(this_month, 1), month_add(this_month, 2)} <= set(partition_months())
    assert _table_of(_click(link, now, 1)) == partition_name(this_month)
    # Outside every monthly partition: the default one keeps it.
    assert _table_of(_click(link, datetime(2001, 1, 1, tzinfo=UTC), 2)) == DEFAULT


def test_a_click_drained_twice_is_stored_once(link: Any) -> None:
    record = {
        "click_id": "01PARTDRAINEDTWICE0000000",
        "link": str(link.pk),
        "brand": str(link.brand_id),
        "campaign": str(link.campaign_id),
        "influencer": str(link.influencer_id),
        "ts": str(datetime.now(UTC).timestamp()),
        "visitor": "v",
        "reason": "",
        "ip_hash": "h",
        "fp": "f",
    }
    clicks_store([record])
    clicks_store([dict(record)])
    assert Click.objects.filter(click_id=record["click_id"]).count() == 1


def test_maintenance_creates_the_coming_months_and_moves_their_early_rows(link: Any, settings: Any) -> None:
    settings.TRACKING_CLICK_PARTITIONS_AHEAD = 2
    settings.TRACKING_CLICK_RETENTION_MONTHS = 1200  # nothing expires in this test
    early = _click(link, datetime(2031, 7, 2, 12, tzinfo=UTC), 3)  # before July 2031 has a partition
    assert _table_of(early) == DEFAULT
    report = click_partitions_maintain(today=TODAY)
    assert report.created == ["tracking_click_p203106", "tracking_click_p203107", "tracking_click_p203108"]
    assert _table_of(early) == "tracking_click_p203107"
    assert Click.objects.filter(pk=early.pk).exists()
    assert click_partitions_maintain(today=TODAY).created == []  # idempotent


def test_expired_months_are_archived_to_private_storage_and_dropped(link: Any, settings: Any) -> None:
    settings.TRACKING_CLICK_RETENTION_MONTHS = 13
    old_month, kept_month = date(2030, 4, 1), date(2030, 5, 1)  # TODAY - 14 and - 13 months
    for month in (old_month, kept_month):
        partition_ensure(month)
    old = [_click(link, datetime(2030, 4, d, 10, tzinfo=UTC), 10 + d) for d in (1, 30)]
    kept = _click(link, datetime(2030, 5, 1, tzinfo=UTC), 40)
    report = click_partitions_maintain(today=TODAY)

    assert [(a.partition, a.rows) for a in report.archived if a.partition == "tracking_click_p203004"] == [
        ("tracking_click_p203004", 2)
    ]
    assert old_month not in partition_months()
    assert kept_month in partition_months()
    assert not Click.objects.filter(pk__in=[c.pk for c in old]).exists()
    assert Click.objects.filter(pk=kept.pk).exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('tracking_click_p203004')")
        assert cursor.fetchone()[0] is None  # dropped, not merely detached
    archive = next(a for a in report.archived if a.partition == "tracking_click_p203004")
    with private_storage().open(archive.file) as stored:
        rows = list(csv.DictReader(io.TextIOWrapper(gzip.GzipFile(fileobj=stored), encoding="utf-8")))
    assert sorted(row["click_id"] for row in rows) == sorted(c.click_id for c in old)
    private_storage().delete(archive.file)
