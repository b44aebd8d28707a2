"""What every portal page asks besides its own content (an authenticator set up, a policy
version to accept, the unread notifications) is cached until it changes (core/generations.py):
a page asks the database only for the person and their memberships, and the next page after a
change sees it. On Redis (the platform's cache) the page reads those facts in one round trip."""

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from affiliates.models import Membership
from affiliates.services.policies import policies_accept, policy_publish
from notifications.models import Kind
from notifications.services import notification_create, notifications_mark_read
from tests.redis_commands import redis_commands_sent

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def cache_backend(request: Any, settings: Any) -> Any:
    """Each cache the platform runs on: local memory (no Redis) and Redis, where a page reads
    its facts through one script call (core.generations.cached_reads_prefetch)."""
    if request.param == "redis":
        _use_redis(settings)
    cache.clear()
    yield request.param
    cache.clear()


def _use_redis(settings: Any) -> None:
    settings.CACHES = {
        "default": {"BACKEND": "core.cache.RedisCache", "LOCATION": settings.REDIS_URL, "KEY_PREFIX": "mgm-frame"}
    }


CACHED_TABLES = ("otp_totp_totpdevice", "affiliates_policydocument", "affiliates_policyacceptance", "notifications_")


def dashboard(brand: Any) -> str:
    return reverse("portal:dashboard", kwargs={"brand_slug": brand.slug})


def _tables_asked(portal: Any, brand: Any) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert portal.get(dashboard(brand)).status_code == 200
    return [table for table in CACHED_TABLES if any(table in q["sql"] for q in queries.captured_queries)]


@pytest.mark.usefixtures("cache_backend")
def test_a_second_page_does_not_ask_again_what_did_not_change(portal: Any, brand_a: Any) -> None:
    first = _tables_asked(portal, brand_a)
    assert "otp_totp_totpdevice" in first  # really asked, once
    assert "affiliates_policydocument" in first

    assert _tables_asked(portal, brand_a) == []


@pytest.mark.usefixtures("cache_backend")
def test_an_authenticator_set_up_elsewhere_is_asked_for_on_the_next_page(
    portal: Any, brand_a: Any, approved: Membership
) -> None:
    assert portal.get(dashboard(brand_a)).status_code == 200  # "no authenticator" is now cached

    device = TOTPDevice.objects.create(user=approved.influencer.user, name="phone", confirmed=True)
    asked = portal.get(dashboard(brand_a))
    assert asked.status_code == 302
    assert asked["Location"].startswith(reverse("two_factor"))

    device.delete()
    assert portal.get(dashboard(brand_a)).status_code == 200


@pytest.mark.usefixtures("cache_backend")
def test_a_new_policy_version_closes_the_next_page_and_accepting_it_opens_it(
    portal: Any, brand_a: Any, approved: Membership
) -> None:
    assert portal.get(dashboard(brand_a)).status_code == 200

    terms = policy_publish(brand=brand_a, kind="terms", version="2026-12", title="Términos", body="Nuevo texto")
    closed = portal.get(dashboard(brand_a))
    assert closed.status_code == 302
    assert "consent" in closed["Location"]

    policies_accept(influencer=approved.influencer, brand=brand_a, policy_ids=[terms.pk])
    assert portal.get(dashboard(brand_a)).status_code == 200


def test_a_version_scheduled_for_later_closes_the_portal_when_it_comes_into_force(portal: Any, brand_a: Any) -> None:
    now = timezone.now()
    with time_machine.travel(now, tick=False) as traveller:
        policy_publish(
            brand=brand_a,
            kind="privacy",
            version="2027-01",
            title="Privacidad",
            body="Nuevo texto",
            published_at=now + timedelta(seconds=90),
        )
        assert portal.get(dashboard(brand_a)).status_code == 200  # not in force yet: cached as such
        traveller.shift(timedelta(seconds=91))
        closed = portal.get(dashboard(brand_a))
    assert closed.status_code == 302
    assert "consent" in closed["Location"]


@pytest.mark.usefixtures("cache_backend")
def test_the_bell_counts_a_notification_told_after_the_page_was_cached_and_clears_when_read(
    portal: Any, brand_a: Any, approved: Membership
) -> None:
    notifications_mark_read(influencer=approved.influencer, brand=brand_a)  # the approval's
    page = portal.get(dashboard(brand_a))
    assert b'data-testid="unread-badge"' not in page.content

    notification_create(
        brand=brand_a,
        influencer=approved.influencer,
        kind=Kind.CREATIVE,
        event="creative.published",
        key="creative:1",
        params={"title": "Lookbook", "campaign": "Lanzamiento", "kind": "image"},
    )
    page = portal.get(dashboard(brand_a))
    assert b'data-testid="unread-badge">1<' in page.content

    notifications_mark_read(influencer=approved.influencer, brand=brand_a)
    page = portal.get(dashboard(brand_a))
    assert b'data-testid="unread-badge"' not in page.content


@pytest.mark.redis
def test_on_redis_a_page_reads_its_cached_facts_in_one_round_trip(
    portal: Any, brand_a: Any, approved: Membership, settings: Any, monkeypatch: Any
) -> None:
    _use_redis(settings)
    cache.clear()
    earnings = reverse("portal:earnings", kwargs={"brand_slug": brand_a.slug})
    assert portal.get(earnings).status_code == 200  # builds and caches the facts
    sent = redis_commands_sent(monkeypatch)
    with CaptureQueriesContext(connection) as queries:
        assert portal.get(earnings).status_code == 200
    # The authenticator, the unread count and the pending policies: one script call, no query.
    assert sent.count("EVALSHA") == 1
    assert not [q for q in queries.captured_queries if any(t in q["sql"] for t in CACHED_TABLES)]
