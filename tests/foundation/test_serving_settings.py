"""Serving settings: psycopg's connection pool for web processes, Redis Sentinel for the
cache, the broker and the tracking clients."""

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection
from redis.sentinel import SentinelConnectionPool

from core.cache import SentinelRedisCache
from core.redis import parse_sentinels, redis_client, url_options

_SETTINGS_PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.db import connection
out = {"broker": settings.CELERY_BROKER_URL, "transport": settings.CELERY_BROKER_TRANSPORT_OPTIONS,
       "cache": settings.CACHES["default"]["BACKEND"], "db": settings.DATABASES["default"]}
if settings.DATABASES["default"]["OPTIONS"].get("pool"):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    out["pool_max"] = connection.pool.max_size
    connection.close()
print(json.dumps(out, default=str))
"""


def _settings_with(env: dict[str, str]) -> dict[str, Any]:
    run = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", _SETTINGS_PROBE],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.base", **env},
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(run.stdout.strip().splitlines()[-1]))


def test_sentinel_addresses_are_parsed_and_bad_ones_refused() -> None:
    assert parse_sentinels(["s1:26379", " [::1]:26380 "]) == [("s1", 26379), ("::1", 26380)]
    with pytest.raises(ValueError, match="host:port"):
        parse_sentinels(["s1"])
    assert url_options("redis://:s3cret@ignored:6379/7") == {"db": 7, "password": "s3cret"}


def test_without_sentinels_clients_use_the_url(settings: Any) -> None:
    settings.REDIS_SENTINELS = []
    client = redis_client("redis://127.0.0.1:6399/3")
    assert client.connection_pool.connection_kwargs["port"] == 6399
    assert client.connection_pool.connection_kwargs["db"] == 3


def test_with_sentinels_every_client_asks_them_for_the_master(settings: Any) -> None:
    settings.REDIS_SENTINELS = ["127.0.0.1:26379", "127.0.0.2:26379"]
    settings.REDIS_SENTINEL_MASTER = "mgm-master"
    client = redis_client("redis://:pw@ignored:6379/5", socket_timeout=0.5)
    pool = client.connection_pool
    assert isinstance(pool, SentinelConnectionPool)
    assert pool.service_name == "mgm-master"
    assert pool.connection_kwargs["db"] == 5
    assert pool.connection_kwargs["password"] == "pw"
    assert [c.connection_pool.connection_kwargs["host"] for c in pool.sentinel_manager.sentinels] == [
        "127.0.0.1",
        "127.0.0.2",
    ]


def test_the_sentinel_cache_writes_to_the_master_and_may_read_from_replicas(settings: Any) -> None:
    settings.REDIS_SENTINELS = ["127.0.0.1:26379"]
    cache = SentinelRedisCache("redis://ignored:6379/4", {"OPTIONS": {"service": "m", "replica_reads": True}})
    write_pool = cache._cache.get_client(write=True).connection_pool
    read_pool = cache._cache.get_client(write=False).connection_pool
    assert isinstance(write_pool, SentinelConnectionPool)
    assert write_pool.is_master
    assert isinstance(read_pool, SentinelConnectionPool)
    assert not read_pool.is_master
    assert write_pool.connection_kwargs["db"] == 4


def test_settings_route_cache_and_broker_through_sentinel() -> None:
    values = _settings_with(
        {
            "REDIS_URL": "redis://127.0.0.1:6379/1",
            "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
            "REDIS_SENTINELS": "s1:26379,s2:26379",
            "REDIS_SENTINEL_MASTER": "mgm-master",
            "DATABASE_URL": "sqlite:////tmp/unused.sqlite3",
        }
    )
    assert values["broker"] == "sentinel://s1:26379;sentinel://s2:26379"
    assert values["transport"]["master_name"] == "mgm-master"
    assert values["transport"]["db"] == 0
    assert values["cache"] == "core.cache.SentinelRedisCache"


@pytest.mark.postgres
@pytest.mark.django_db
def test_web_processes_borrow_connections_from_a_bounded_pool() -> None:
    database_url = os.environ["DATABASE_URL"].rpartition("/")[0] + "/" + connection.settings_dict["NAME"]
    values = _settings_with(
        {"DATABASE_URL": database_url, "DATABASE_POOL": "true", "WEB_DJANGO_CONCURRENCY": "6", "REDIS_URL": ""}
    )
    assert values["db"]["CONN_MAX_AGE"] == 0
    assert values["pool_max"] == 8  # WEB_DJANGO_CONCURRENCY + 2
    without = _settings_with({"DATABASE_URL": database_url, "DATABASE_POOL": "false", "REDIS_URL": ""})
    assert "pool" not in without["db"].get("OPTIONS", {})
    assert without["db"]["CONN_MAX_AGE"] == 60
