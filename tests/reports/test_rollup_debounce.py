from datetime import date

import pytest
from django.utils import timezone

from reports.rollups import rollup_refresh_on_commit, rollups_refresh_days
from reports.tasks import rollups_refresh_days_task

pytestmark = pytest.mark.django_db


def test_a_busy_day_is_refreshed_once_per_window(brand_a, settings, monkeypatch, django_capture_on_commit_callbacks):
    queued: list[dict] = []
    monkeypatch.setattr(rollups_refresh_days_task, "apply_async", lambda **kwargs: queued.append(kwargs))
    when = timezone.now()
    for _ in range(5):  # five orders of the same brand-day commit in a burst
        with django_capture_on_commit_callbacks(execute=True):
            rollup_refresh_on_commit(points=[(brand_a.pk, when)])
    assert len(queued) == 1
    assert queued[0]["countdown"] == settings.ROLLUP_REFRESH_DELAY_SECONDS
    assert queued[0]["kwargs"]["brand_id"] == brand_a.pk

    # The refresh clears the mark before it reads: a fact after it starts queues the next one.
    rollups_refresh_days(brand_id=brand_a.pk, days=[date.fromisoformat(queued[0]["kwargs"]["days"][0])])
    with django_capture_on_commit_callbacks(execute=True):
        rollup_refresh_on_commit(points=[(brand_a.pk, when)])
    assert len(queued) == 2


def test_a_rolled_back_fact_queues_nothing(brand_a, monkeypatch, django_capture_on_commit_callbacks):
    queued: list[dict] = []
    monkeypatch.setattr(rollups_refresh_days_task, "apply_async", lambda **kwargs: queued.append(kwargs))
    with django_capture_on_commit_callbacks(execute=False):
        rollup_refresh_on_commit(points=[(brand_a.pk, timezone.now())])
    assert queued == []
