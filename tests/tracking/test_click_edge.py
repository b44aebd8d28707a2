"""The ASGI click edge (config/click_edge.py) beyond the shared click tests (test_redirect.py
runs every one of those against it too): it answers cached clicks without Django and without
a query, keeps clicks when Redis is away, applies backpressure to Django's side, and a server
killed mid-load loses no click it answered."""

import asyncio
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client

from config.click_edge import ClickEdge
from tests.asgi_client import AsgiClient, asgi_test_application
from tests.tracking.conftest import BROWSER, drain_all
from tracking.buffer import RedisClickBuffer, SpoolClickBuffer, click_buffer
from tracking.link_cache import link_cache_invalidate, link_entry_load
from tracking.models import Click, Link
from tracking.services import link_create
from tracking.stores import tracking_redis

pytestmark = pytest.mark.django_db


async def _django_must_not_run(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError(f"Django was asked for {scope['path']}")


@pytest.mark.parametrize("mode", ["spool", pytest.param("redis", marks=pytest.mark.redis)])
def test_a_cached_click_never_reaches_django_nor_the_database(
    link_a: Link, settings: Any, mode: str, django_assert_num_queries: Any
) -> None:
    settings.TRACKING_BUFFER = mode

    link_entry_load(link_a.slug)  # the cache in the buffer's store
    client = AsgiClient(ClickEdge(_django_must_not_run))
    with django_assert_num_queries(0):
        response = client.get(f"/r/{link_a.slug}", **BROWSER)
    assert response.status_code == 302
    assert urlsplit(response["Location"]).hostname == "www.acme.example"
    assert drain_all() == 1
    assert Click.objects.get().click_id == parse_qs(urlsplit(response["Location"]).query)["utmi_cp"][0]


def test_a_cache_miss_is_handed_to_django_which_loads_and_caches_the_link(link_a: Link) -> None:
    link_cache_invalidate(slugs=[link_a.slug])
    asked: list[str] = []

    django_application = asgi_test_application().app

    async def django(scope: Any, receive: Any, send: Any) -> None:
        asked.append(scope["path"])
        await django_application(scope, receive, send)

    client = AsgiClient(ClickEdge(django))
    assert client.get(f"/r/{link_a.slug}", **BROWSER).status_code == 302
    assert client.get(f"/r/{link_a.slug}", **BROWSER).status_code == 302
    assert asked == [f"/r/{link_a.slug}"]  # the second click was the edge's
    assert drain_all() == 2


@pytest.mark.redis
@pytest.mark.parametrize("server", ["asgi", "wsgi"])
def test_clicks_go_to_the_spool_while_redis_is_away_and_are_stored_later(
    link_a: Link, settings: Any, server: str
) -> None:

    settings.TRACKING_BUFFER = "redis"
    settings.TRACKING_LINK_L1_SECONDS = 60
    redis_url = settings.REDIS_URL
    client = AsgiClient() if server == "asgi" else Client()
    first = client.get(f"/r/{link_a.slug}", **BROWSER)  # warms this process's copy of the link
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    settings.TRACKING_LINK_L1_SECONDS = 60
    second = client.get(f"/r/{link_a.slug}", **{**BROWSER, "HTTP_USER_AGENT": BROWSER["HTTP_USER_AGENT"] + " 2"})
    assert (first.status_code, second.status_code) == (302, 302)
    spooled = list(Path(settings.TRACKING_SPOOL_DIR).glob("clicks-*.jsonl"))
    assert len(spooled) == 1
    settings.REDIS_URL = redis_url

    buffer = click_buffer()
    assert isinstance(buffer, RedisClickBuffer)
    buffer.drain()

    SpoolClickBuffer(settings.TRACKING_SPOOL_DIR).drain(include_open=True)  # the spool's minute is still open
    ids = {parse_qs(urlsplit(r["Location"]).query)["utmi_cp"][0] for r in (first, second)}
    assert set(Click.objects.values_list("click_id", flat=True)) == ids


def test_django_requests_beyond_the_queue_get_503_at_once_and_clicks_still_flow(link_a: Link) -> None:
    release = asyncio.Event()
    started = 0

    async def slow_django(scope: Any, receive: Any, send: Any) -> None:
        nonlocal started
        started += 1
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    link_entry_load(link_a.slug)
    edge = ClickEdge(slow_django, concurrency=1, queue=1)
    statuses: list[int] = []

    async def call(path: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        scope = {"type": "http", "method": "GET", "path": path, "headers": headers or [], "client": ("127.0.0.1", 1)}
        messages: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            messages.append(message)

        await edge(scope, receive, send)
        statuses.append(messages[0]["status"])

    async def scenario() -> None:
        running = asyncio.ensure_future(call("/portal/"))  # takes the one slot
        queued = asyncio.ensure_future(call("/portal/"))  # waits: the queue holds one
        await asyncio.sleep(0.05)
        await call("/admin/")  # queue full: 503 now
        ua = [(b"user-agent", BROWSER["HTTP_USER_AGENT"].encode()), (b"sec-fetch-mode", b"navigate")]
        await call(f"/r/{link_a.slug}", ua)  # clicks do not queue behind Django
        assert statuses == [503, 302]
        release.set()
        await asyncio.gather(running, queued)

    async_to_sync(scenario)()
    assert statuses == [503, 302, 200, 200]
    assert started == 2


def _serve(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "asgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--no-ws",
            "--log-level",
            "error",
            "config.asgi:application",
        ],
        cwd=django_settings.BASE_DIR,
        env=env,
        start_new_session=True,  # its own process group: SIGKILL reaches the worker too
    )


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_server_killed_mid_load_loses_no_click_it_answered(
    campaign_a: Any, influencer_a: Any, settings: Any, tmp_path: Path
) -> None:

    settings.TRACKING_BUFFER = "redis"
    link = link_create(campaign=campaign_a, influencer=influencer_a, destination_url="https://www.acme.example/")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    port = 18810 + int(worker[2:] or 0) if worker.startswith("gw") else 18810
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.tracking.server_settings",
        "MGM_TEST_DATABASE_NAME": connection.settings_dict["NAME"],
        "MGM_TEST_REDIS_URL": settings.REDIS_URL,
        "MGM_TEST_STREAM_KEY": settings.TRACKING_STREAM_KEY,
        "MGM_TEST_SPOOL_DIR": str(tmp_path / "server-spool"),
    }
    server = _serve(port, env)
    answered: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def shopper(n: int) -> None:
        i = 0
        while not stop.is_set():
            i += 1
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", f"/r/{link.slug}", headers={"User-Agent": f"{BROWSER['HTTP_USER_AGENT']} {n}.{i}"})
                response = conn.getresponse()
                response.read()
                conn.close()
            except OSError:
                time.sleep(0.02)
                continue
            if response.status == 302:
                click_id = parse_qs(urlsplit(response.getheader("Location") or "").query)["utmi_cp"][0]
                with lock:
                    answered.append(click_id)

    threads = [threading.Thread(target=shopper, args=(n,)) for n in range(8)]
    try:
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while len(answered) < 300 and time.monotonic() < deadline:  # mid-load: clicks flowing
            time.sleep(0.05)
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(10)
        time.sleep(0.3)  # answers already on their way are read by the shoppers
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
    assert len(answered) >= 300

    entries = tracking_redis().xrange(settings.TRACKING_STREAM_KEY)
    in_stream = {json.loads(fields["c"])["click_id"] for _id, fields in entries}
    assert set(answered) <= in_stream
    buffer = click_buffer()
    assert isinstance(buffer, RedisClickBuffer)
    buffer.drain(max_batches=10_000)
    stored = set(Click.objects.filter(link=link).values_list("click_id", flat=True))
    assert set(answered) <= stored
    assert len(stored) == len(in_stream)
