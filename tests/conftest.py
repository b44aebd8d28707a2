"""Personas and shared fixtures. Markers: `postgres`, `redis` and `browser` tests skip (with a
reason) where the service is missing, except in CI (MGM_REQUIRE_SERVICES=1), where a missing
service fails the run instead of hiding tests."""

import os
import shutil
from collections.abc import Callable
from typing import Any

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.db.backends.sqlite3.base import DatabaseOperations as SQLiteOperations
from django.test import Client
from django.utils import translation
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import BrandFactory, InfluencerFactory, MembershipFactory, StaffFactory, UserFactory
from tests.fake_vtex import FakeVTEX, fake_vtex_serving
from tracking.link_cache import link_cache_clear

REQUIRE_SERVICES = os.environ.get("MGM_REQUIRE_SERVICES") == "1"


def _on_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def _chromium_path() -> str | None:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    return path if os.path.exists(path) else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reasons = {
        "postgres": None if _on_postgres() else "needs PostgreSQL: set DATABASE_URL=postgres://…",
        "redis": None if os.environ.get("REDIS_URL") else "needs Redis: set REDIS_URL=redis://…",
        "browser": None if _chromium_path() else "needs Debian's chromium (apt-get install chromium)",
    }
    for item in items:
        for marker, reason in reasons.items():
            if reason and item.get_closest_marker(marker):
                if REQUIRE_SERVICES:
                    item.add_marker(pytest.mark.xfail(reason=f"CI must run this: {reason}", run=False, strict=True))
                else:
                    item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(autouse=True, scope="session")
def _empty_redis_for_this_worker() -> None:
    # Keys left by an earlier run (dedupe windows, flood counters) must not screen this run's
    # clicks: each worker starts from an empty Redis database of its own (settings/test.py).
    if settings.REDIS_URL:
        redis.Redis.from_url(settings.REDIS_URL).flushdb()


def _sqlite_flush_like_truncate(original: Callable[..., Any]) -> Callable[..., Any]:
    """On SQLite, Django empties the tables after a transactional test with DELETE, which fires
    the append-only tables' BEFORE DELETE triggers (payout account versions refuse deletion).
    PostgreSQL's flush is TRUNCATE, which fires no row trigger; do the same here: set those
    triggers aside for the flush and put them back exactly as they were."""

    def execute_sql_flush(self: Any, sql_list: list[str]) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql LIKE '%BEFORE DELETE%'")
            triggers = cursor.fetchall()
            for name, _sql in triggers:
                cursor.execute(f'DROP TRIGGER IF EXISTS "{name}"')
        try:
            original(self, sql_list)
        finally:
            with self.connection.cursor() as cursor:
                for _name, sql in triggers:
                    cursor.execute(sql)

    return execute_sql_flush


@pytest.fixture(autouse=True, scope="session")
def _flush_sqlite_past_delete_triggers() -> Any:
    operations = SQLiteOperations
    original = operations.execute_sql_flush
    operations.execute_sql_flush = _sqlite_flush_like_truncate(original)  # type: ignore[method-assign]
    yield
    operations.execute_sql_flush = original  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _english_unless_a_test_says_otherwise() -> Any:
    # A request handled in an earlier test leaves its language active in this thread; messages
    # built outside a request (services, validators) would then depend on test order.

    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _isolated_cache() -> Any:
    # Link entries of slugs a rolled-back test created live in Redis with the Redis buffer.
    cache.clear()
    link_cache_clear()
    yield
    cache.clear()
    link_cache_clear()


@pytest.fixture
def chromium_path() -> str:
    path = _chromium_path()
    assert path, "chromium is not installed"
    return path


# --- Personas -------------------------------------------------------------------------------


@pytest.fixture
def brand_a(db: None) -> Any:
    return BrandFactory(slug="acme", name="Acme", vtex_account="acme")


@pytest.fixture
def brand_b(db: None) -> Any:
    return BrandFactory(slug="globex", name="Globex", vtex_account="globex")


@pytest.fixture
def manager_a(brand_a: Any) -> Any:
    return StaffFactory(email="manager.a@example.com", role="Manager", brands=[brand_a])


@pytest.fixture
def finance_a(brand_a: Any) -> Any:
    return StaffFactory(email="finance.a@example.com", role="Finance", brands=[brand_a])


@pytest.fixture
def manager_b(brand_b: Any) -> Any:
    return StaffFactory(email="manager.b@example.com", role="Manager", brands=[brand_b])


@pytest.fixture
def superuser(db: None) -> Any:
    return UserFactory(email="root@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def influencer_a(brand_a: Any) -> Any:
    membership = MembershipFactory(brand=brand_a, influencer=InfluencerFactory(), status="approved")
    return membership.influencer


def otp_verify(client: Client, user: Any) -> Any:
    """Log `user` in with a confirmed TOTP device and a verified second factor, as if they had
    typed a valid code."""

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="test", confirmed=True
    )
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


@pytest.fixture
def verified_client() -> Callable[[Any], Client]:
    """`verified_client(user)` → a test client signed in with 2FA passed."""

    def make(user: Any) -> Client:
        client = Client()
        otp_verify(client, user)
        return client

    return make


# --- VTEX -----------------------------------------------------------------------------------


@pytest.fixture
def fake_vtex(settings: Any) -> Any:
    """A fake VTEX account over real HTTP (tests/fake_vtex.py). Every VTEX call in the test goes
    to it (settings.VTEX_API_BASE_URL); retry backoff is shortened so 5xx retries stay fast, while
    429 waits still honour Retry-After. Credentials match BrandFactory's."""

    with fake_vtex_serving(settings, FakeVTEX()) as server:
        yield server
