"""No click is lost when the drain worker dies midway: before inserting, or after inserting but
before acknowledging."""

from typing import Any

import pytest
from django.test import Client

from tests.tracking.conftest import BROWSER
from tracking import buffer as buffer_module
from tracking.buffer import RedisClickBuffer, SpoolClickBuffer, click_buffer
from tracking.models import Click

pytestmark = pytest.mark.django_db


class WorkerKilled(BaseException):
    """Stands in for SIGKILL: nothing after it runs, no except Exception catches it."""


def _clicks(link: Any, n: int) -> None:
    for i in range(n):
        Client().get(f"/r/{link.slug}", **{**BROWSER, "HTTP_USER_AGENT": f"{BROWSER['HTTP_USER_AGENT']} {i}"})


@pytest.mark.redis
@pytest.mark.parametrize("when", ["before_insert", "after_insert"])
def test_redis_stream_loses_no_click_when_the_worker_dies(
    link_a: Any, settings: Any, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    settings.TRACKING_BUFFER = "redis"
    settings.TRACKING_DRAIN_BATCH = 7
    buffer = click_buffer()
    assert isinstance(buffer, RedisClickBuffer)
    buffer.client.delete(settings.TRACKING_STREAM_KEY)
    _clicks(link_a, 20)
    real_store = buffer_module.clicks_store

    def dying_store(records: Any) -> int:
        if when == "after_insert":
            real_store(records)
        raise WorkerKilled

    monkeypatch.setattr(buffer_module, "clicks_store", dying_store)
    with pytest.raises(WorkerKilled):
        buffer.drain(consumer="worker-1")
    monkeypatch.setattr(buffer_module, "clicks_store", real_store)

    settings.TRACKING_CLAIM_IDLE_MS = 0  # the dead worker's entries are re-claimed at once
    report = buffer.drain(consumer="worker-2")

    assert Click.objects.count() == 20
    assert report.reclaimed == 7
    assert buffer.client.xlen(settings.TRACKING_STREAM_KEY) == 0
    buffer.client.delete(settings.TRACKING_STREAM_KEY)


@pytest.mark.redis
def test_redis_push_screens_duplicates_atomically(link_a: Any, settings: Any) -> None:
    settings.TRACKING_BUFFER = "redis"
    buffer = click_buffer()
    buffer.client.delete(settings.TRACKING_STREAM_KEY)
    client = Client()
    client.get(f"/r/{link_a.slug}", **BROWSER)
    client.get(f"/r/{link_a.slug}", **BROWSER)
    buffer.drain(consumer="t")
    assert sorted(Click.objects.values_list("screen_reason", flat=True)) == ["", "duplicate"]
    buffer.client.delete(settings.TRACKING_STREAM_KEY)


@pytest.mark.parametrize("when", ["before_insert", "after_insert"])
def test_spool_loses_no_click_when_the_worker_dies(link_a: Any, monkeypatch: pytest.MonkeyPatch, when: str) -> None:
    buffer = click_buffer()
    assert isinstance(buffer, SpoolClickBuffer)
    _clicks(link_a, 12)
    real_store = buffer_module.clicks_store

    def dying_store(records: Any) -> int:
        if when == "after_insert":
            real_store(records)
        raise WorkerKilled

    monkeypatch.setattr(buffer_module, "clicks_store", dying_store)
    with pytest.raises(WorkerKilled):
        buffer.drain(include_open=True)
    monkeypatch.setattr(buffer_module, "clicks_store", real_store)
    buffer.drain(include_open=True)

    assert Click.objects.count() == 12
    assert Click.objects.filter(is_valid=True).count() == 12


@pytest.mark.redis
def test_redis_drain_reads_entries_written_before_the_packed_format(link_a: Any, settings: Any) -> None:
    settings.TRACKING_BUFFER = "redis"
    buffer = click_buffer()
    assert isinstance(buffer, RedisClickBuffer)
    buffer.client.delete(settings.TRACKING_STREAM_KEY)
    legacy = {
        "reason": "",
        "click_id": "01HQ0000000000000000000001",
        "link": str(link_a.pk),
        "brand": str(link_a.brand_id),
        "campaign": str(link_a.campaign_id),
        "influencer": str(link_a.influencer_id),
        "ts": "1707076512.5",
        "visitor": "legacyvisitor0000000",
    }
    buffer.client.xadd(settings.TRACKING_STREAM_KEY, legacy)  # one stream field per click field
    buffer.client.xadd(settings.TRACKING_STREAM_KEY, {"reason": "", "c": '{"link": "not-a-number"}'})
    _clicks(link_a, 1)  # the packed format
    report = buffer.drain(consumer="t")
    assert report.read == 3
    assert Click.objects.count() == 2  # the unreadable entry is dropped, not blocking the batch
    assert Click.objects.filter(click_id=legacy["click_id"], visitor_id="legacyvisitor0000000", is_valid=True).exists()
    assert buffer.pending() == 0
