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
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import redis.exceptions as redis_exceptions
from asgiref.sync import async_to_sync
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client

from config.click_edge import ClickEdge
from tests.asgi_client import AsgiClient, asgi_test_application
from tests.tracking.conftest import BROWSER, django_must_not_run, drain_all
from tracking import buffer as buffer_module
from tracking.buffer import RedisClickBuffer, SpoolClickBuffer, click_buffer
from tracking.link_cache import link_cache_invalidate, link_entry_get, link_entry_load
from tracking.models import Click, Link
from tracking.services import link_create
from tracking.stores import tracking_redis

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("mode", ["spool", pytest.param("redis", marks=pytest.mark.redis)])
def test_a_cached_click_never_reaches_django_nor_the_database(
    link_a: Link, settings: Any, mode: str, django_assert_num_queries: Any
) -> None:
    settings.TRACKING_BUFFER = mode

    link_entry_load(link_a.slug)  # the cache in the buffer's store
    client = AsgiClient(ClickEdge(django_must_not_run))
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


# --- Group commit: concurrent clicks of one event loop share one Redis call -------------------


def _click_scope(slug: str, *, agent: str, cookie: str = "", method: str = "GET") -> dict[str, Any]:
    headers = [
        (b"user-agent", agent.encode()),
        (b"accept-language", b"es-CO,es;q=0.9"),
        (b"sec-fetch-mode", b"navigate"),
        (b"sec-fetch-dest", b"document"),
    ]
    if cookie:
        headers.append((b"cookie", f"mgm_vid={cookie}".encode()))
    return {"type": "http", "method": method, "path": f"/r/{slug}", "headers": headers, "client": ("127.0.0.1", 1)}


async def _click(edge: ClickEdge, scope: dict[str, Any], log: list[Any] | None = None) -> dict[str, str]:
    """One click through the edge: its status, click id and outcome (`X-MGM-Click`)."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await edge(scope, receive, send)
    headers = {name.decode(): value.decode() for name, value in sent[0]["headers"]}
    click_id = parse_qs(urlsplit(headers["location"]).query)["utmi_cp"][0]
    if log is not None:
        log.append(("answered", click_id))
    return {"status": str(sent[0]["status"]), "click_id": click_id, "outcome": headers["x-mgm-click"]}


class _RecordingRedis:
    """The loop's real asyncio client, with each `EVALSHA` logged (clicks in it, their ids) and
    held by `behaviour(call_number)` before it goes on (or fails)."""

    def __init__(self, real: Any, log: list[Any], behaviour: Any = None) -> None:
        self.real, self.log, self.behaviour = real, log, behaviour
        self.groups: list[list[str]] = []

    async def evalsha(self, sha: str, numkeys: int, *rest: Any) -> Any:
        packed = rest[numkeys + 4 :: 2]  # after the keys and the three windows: reason, click, ...
        ids = [json.loads(c)["click_id"] for c in packed]
        self.groups.append(ids)
        number = len(self.groups)
        self.log.append(("write", number, ids))
        if self.behaviour is not None:
            await self.behaviour(number)
        result = await self.real.evalsha(sha, numkeys, *rest)
        self.log.append(("written", number, ids))
        return result

    async def eval(self, *args: Any) -> Any:
        return await self.real.eval(*args)


@pytest.fixture
def grouped_edge(link_a: Link, settings: Any, monkeypatch: Any) -> Any:
    """An edge on the Redis buffer whose link entry is in this process's copy (so concurrent
    clicks reach the buffer in the same turn of the loop), with each call to Redis recorded."""
    settings.TRACKING_BUFFER = "redis"
    settings.TRACKING_EXPOSE_VALIDITY = True
    settings.TRACKING_LINK_L1_SECONDS = 60
    link_entry_load(link_a.slug)
    link_entry_get(link_a.slug)  # into this process's copy
    recorders: list[_RecordingRedis] = []

    def install(log: list[Any], behaviour: Any = None) -> list[_RecordingRedis]:
        real_client = buffer_module.tracking_aredis

        def client() -> Any:
            if not recorders or recorders[-1].real is not real_client():
                recorders.append(_RecordingRedis(real_client(), log, behaviour))
            return recorders[-1]

        monkeypatch.setattr(buffer_module, "tracking_aredis", client)
        return recorders

    return ClickEdge(django_must_not_run), install


def _stream_outcomes(settings: Any) -> dict[str, str]:
    entries = tracking_redis().xrange(settings.TRACKING_STREAM_KEY)
    return {json.loads(fields["c"])["click_id"]: fields["reason"] for _id, fields in entries}


@pytest.mark.redis
def test_concurrent_clicks_share_one_call_and_keep_their_own_outcomes(
    link_a: Link, settings: Any, grouped_edge: Any
) -> None:
    edge, install = grouped_edge
    log: list[Any] = []
    recorders = install(log)
    agent = f"{BROWSER['HTTP_USER_AGENT']} {uuid.uuid4().hex}"
    visitor = "Vv" + uuid.uuid4().hex[:20]
    scopes = [_click_scope(link_a.slug, agent=f"{agent} {n}") for n in range(5)]
    scopes += [
        _click_scope(link_a.slug, agent=f"{agent} again", cookie=visitor),  # the same visitor twice
        _click_scope(link_a.slug, agent=f"{agent} again", cookie=visitor),
        _click_scope(link_a.slug, agent=f"{agent} head", method="HEAD"),
    ]

    async def scenario() -> list[dict[str, str]]:
        return list(await asyncio.gather(*(_click(edge, scope) for scope in scopes)))

    answers = async_to_sync(scenario)()

    assert [a["status"] for a in answers] == ["302"] * 8
    assert [len(group) for group in recorders[0].groups] == [8]  # one round trip for all
    outcomes = [a["outcome"] for a in answers]
    assert outcomes == ["valid"] * 5 + ["valid", "duplicate", "head"]
    in_stream = _stream_outcomes(settings)
    assert in_stream == {a["click_id"]: ("" if a["outcome"] == "valid" else a["outcome"]) for a in answers}
    assert drain_all() == 8
    assert Click.objects.filter(is_valid=True).count() == 6


@pytest.mark.redis
def test_a_redis_failure_mid_group_spools_every_click_of_that_group_and_answers_them_all(
    link_a: Link, settings: Any, grouped_edge: Any
) -> None:
    edge, install = grouped_edge
    log: list[Any] = []

    async def behaviour(number: int) -> None:
        if number == 1:
            await asyncio.sleep(0.05)  # in flight while the next group gathers
            raise redis_exceptions.ConnectionError("Redis went away mid-group")

    recorders = install(log, behaviour)
    agent = f"{BROWSER['HTTP_USER_AGENT']} {uuid.uuid4().hex}"

    async def scenario() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
        first = [asyncio.ensure_future(_click(edge, _click_scope(link_a.slug, agent=f"{agent} {n}"))) for n in range(4)]
        await asyncio.sleep(0.01)  # the first group's call is in flight
        second = [_click(edge, _click_scope(link_a.slug, agent=f"{agent} late {n}")) for n in range(3)]
        return list(await asyncio.gather(*first)), list(await asyncio.gather(*second))

    failed, later = async_to_sync(scenario)()

    groups = recorders[0].groups
    assert [len(group) for group in groups] == [4, 3]
    assert [a["status"] for a in failed + later] == ["302"] * 7
    assert [a["outcome"] for a in failed + later] == ["valid"] * 7  # the request's own reason
    spooled = [
        json.loads(line)
        for path in Path(settings.TRACKING_SPOOL_DIR).glob("clicks-*.jsonl")
        for line in path.read_text().splitlines()
    ]
    assert sorted(r["click_id"] for r in spooled) == sorted(a["click_id"] for a in failed) == sorted(groups[0])
    assert set(_stream_outcomes(settings)) == {a["click_id"] for a in later}
    assert drain_all() == 3
    SpoolClickBuffer(settings.TRACKING_SPOOL_DIR).drain(include_open=True)
    assert Click.objects.count() == 7


@pytest.mark.redis
def test_a_click_is_answered_only_after_the_call_that_carried_it_returned(
    link_a: Link, settings: Any, grouped_edge: Any
) -> None:
    edge, install = grouped_edge
    log: list[Any] = []
    release: dict[int, asyncio.Event] = {}

    async def behaviour(number: int) -> None:
        await release.setdefault(number, asyncio.Event()).wait()

    recorders = install(log, behaviour)
    agent = f"{BROWSER['HTTP_USER_AGENT']} {uuid.uuid4().hex}"

    async def scenario() -> list[dict[str, str]]:
        first = [
            asyncio.ensure_future(_click(edge, _click_scope(link_a.slug, agent=f"{agent} {n}"), log)) for n in range(3)
        ]
        await asyncio.sleep(0.05)
        assert not [entry for entry in log if entry[0] == "answered"]  # Redis has not answered
        second = [
            asyncio.ensure_future(_click(edge, _click_scope(link_a.slug, agent=f"{agent} late {n}"), log))
            for n in range(2)
        ]
        await asyncio.sleep(0.05)
        assert [entry[0] for entry in log] == ["write"]  # the late clicks wait for the next call
        release.setdefault(1, asyncio.Event()).set()
        await asyncio.gather(*first)
        await asyncio.sleep(0.05)
        answered = {entry[1] for entry in log if entry[0] == "answered"}
        assert answered == set(recorders[0].groups[0])  # not the late ones: their call is held
        release.setdefault(2, asyncio.Event()).set()
        return list(await asyncio.gather(*first, *second))

    answers = async_to_sync(scenario)()

    assert [len(group) for group in recorders[0].groups] == [3, 2]
    written_at = {}
    for position, entry in enumerate(log):
        if entry[0] == "written":
            written_at.update(dict.fromkeys(entry[2], position))
    answered_at = {entry[1]: position for position, entry in enumerate(log) if entry[0] == "answered"}
    assert set(answered_at) == {a["click_id"] for a in answers} == set(written_at)
    assert all(answered_at[click_id] > written_at[click_id] for click_id in answered_at)
    # The late clicks were not answered while their call waited (the first group was).
    late = recorders[0].groups[1]
    second_write = next(p for p, entry in enumerate(log) if entry[:2] == ("write", 2))
    assert all(answered_at[click_id] > second_write for click_id in late)
    assert set(_stream_outcomes(settings)) == set(answered_at)
