"""The ASGI→WSGI bridge (config/wsgi_bridge.py): Django's WSGI handler behind the click edge,
on a bounded pool of threads."""

import asyncio
import io
import threading
import time
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.http import HttpResponse

from config.click_edge import ClickEdge
from config.wsgi_bridge import BODY_IN_MEMORY, WsgiBridge, wsgi_environ
from tests.asgi_client import AsgiClient


def _call(app: Any, scope: dict[str, Any], chunks: list[bytes] | None = None) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    chunks = chunks or [b""]
    pending = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop(0)
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    async_to_sync(app)(scope, receive, send)
    return messages


def _scope(**extra: Any) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "GET",
        "path": "/",
        "query_string": b"",
        "headers": [],
        "client": ("203.0.113.9", 5555),
        "server": ("testserver", 80),
        **extra,
    }


def test_the_environ_carries_path_query_headers_and_client() -> None:
    environ = wsgi_environ(
        _scope(
            method="POST",
            path="/portal/ação",
            query_string=b"a=1&b=%C3%A7",
            scheme="https",
            headers=[
                (b"content-type", b"application/x-www-form-urlencoded"),
                (b"content-length", b"3"),
                (b"x-forwarded-for", b"198.51.100.1"),
                (b"cookie", b"a=1"),
                (b"cookie", b"b=2"),
            ],
        ),
        io.BytesIO(b"x=1"),
    )
    assert environ["REQUEST_METHOD"] == "POST"
    # PEP 3333: the UTF-8 bytes of the path, decoded as latin-1.
    assert environ["PATH_INFO"].encode("latin-1").decode("utf-8") == "/portal/ação"
    assert environ["QUERY_STRING"] == "a=1&b=%C3%A7"
    assert environ["CONTENT_TYPE"] == "application/x-www-form-urlencoded"
    assert environ["CONTENT_LENGTH"] == "3"
    assert environ["HTTP_X_FORWARDED_FOR"] == "198.51.100.1"
    assert environ["HTTP_COOKIE"] == "a=1; b=2"
    assert environ["REMOTE_ADDR"] == "203.0.113.9"
    assert environ["wsgi.url_scheme"] == "https"
    assert "HTTP_CONTENT_TYPE" not in environ


@pytest.mark.parametrize("threads", [0, 2])
def test_a_wsgi_app_answers_with_its_status_headers_and_streamed_body(threads: int) -> None:
    seen: dict[str, Any] = {}
    closed = threading.Event()

    class Body:
        def __iter__(self) -> Any:
            seen["iter_thread"] = threading.get_ident()
            yield b"one,"
            yield b""
            yield b"two"

        def close(self) -> None:
            seen["close_thread"] = threading.get_ident()
            closed.set()

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        seen["body"] = environ["wsgi.input"].read()
        seen["app_thread"] = threading.get_ident()
        start_response("201 Created", [("Content-Type", "text/plain"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])
        return Body()

    bridge = WsgiBridge(app, threads=threads)
    messages = _call(bridge, _scope(method="POST"), [b"hello ", b"world"])
    bridge.shutdown()
    assert messages[0]["status"] == 201
    assert messages[0]["headers"] == [
        (b"content-type", b"text/plain"),
        (b"set-cookie", b"a=1"),
        (b"set-cookie", b"b=2"),
    ]
    assert b"".join(m.get("body", b"") for m in messages[1:]) == b"one,two"
    assert messages[-1] == {"type": "http.response.body", "body": b""}
    assert seen["body"] == b"hello world"
    # The app, the iteration and close() (Django's request_finished) share one thread.
    assert closed.is_set()
    assert seen["app_thread"] == seen["iter_thread"] == seen["close_thread"]
    if threads:
        assert seen["app_thread"] != threading.get_ident()


@pytest.mark.parametrize("threads", [0, 2])
def test_a_response_held_in_memory_is_sent_whole_by_the_loop_after_its_thread_is_done(threads: int) -> None:
    """Django's HttpResponse (streaming = False): the thread runs the view and close(), and is
    free at once; the loop sends the start and the whole body, two messages in all."""
    seen: dict[str, Any] = {}

    class Page(list[bytes]):
        streaming = False

        def close(self) -> None:
            seen["close_thread"] = threading.get_ident()

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        seen["app_thread"] = threading.get_ident()
        start_response("200 OK", [("Content-Type", "text/html")])
        return Page([b"<p>", b"hola", b"</p>"])

    sent_from: list[int] = []
    bridge = WsgiBridge(app, threads=threads)

    async def run() -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        request = [{"type": "http.request", "body": b"", "more_body": False}]

        async def receive() -> dict[str, Any]:
            return request.pop(0) if request else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent_from.append(threading.get_ident())
            messages.append(message)

        await bridge(_scope(), receive, send)
        return messages

    messages = async_to_sync(run)()
    bridge.shutdown()
    assert messages == [
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]},
        {"type": "http.response.body", "body": b"<p>hola</p>"},
    ]
    assert seen["close_thread"] == seen["app_thread"]
    # Sent by the loop, never by the thread that ran the view (with a pool of threads).
    assert len(set(sent_from)) == 1
    if threads:
        assert seen["app_thread"] not in sent_from


def test_a_large_body_is_spooled_to_a_file_and_read_whole() -> None:
    seen: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        seen["kind"] = type(environ["wsgi.input"]).__name__
        seen["size"] = len(environ["wsgi.input"].read())
        start_response("200 OK", [])
        return [b"ok"]

    chunk = b"x" * (BODY_IN_MEMORY // 2 + 1)
    _call(WsgiBridge(app, threads=0), _scope(method="POST"), [chunk, chunk, chunk])
    assert seen["size"] == len(chunk) * 3
    assert seen["kind"] != "BytesIO"


def test_a_client_gone_before_its_body_arrives_never_reaches_the_app() -> None:
    called: list[bool] = []

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        called.append(True)
        return []

    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    async_to_sync(WsgiBridge(app, threads=1))(_scope(method="POST"), receive, send)
    assert called == []
    assert messages == []


def test_an_app_that_fails_before_answering_raises_to_the_server() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        _call(WsgiBridge(app, threads=1), _scope())


def test_no_more_than_threads_requests_run_at_once() -> None:
    lock = threading.Lock()
    running = 0
    peak = 0

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        threading.Event().wait(0.05)
        with lock:
            running -= 1
        start_response("200 OK", [])
        return [b"ok"]

    bridge = WsgiBridge(app, threads=2)

    async def many() -> None:
        async def one() -> None:
            async def receive() -> dict[str, Any]:
                return {"type": "http.request", "body": b""}

            async def send(message: dict[str, Any]) -> None:
                return None

            await bridge(_scope(), receive, send)

        await asyncio.gather(*(one() for _ in range(6)))

    async_to_sync(many)()
    bridge.shutdown()
    assert peak == 2


@pytest.mark.django_db
def test_django_pages_answer_through_the_bridge_in_front_of_the_edge() -> None:
    """The production composition: a real Django page (the sign-in form, translated) and a
    POST that Django's CSRF check refuses, both through config.asgi's layers."""

    client = AsgiClient()
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="pt-BR")
    assert page.status_code == 200
    assert "csrftoken" in page.cookies
    assert 'lang="pt-br"' in page.content.decode().lower()


def test_behind_the_edge_a_finishing_thread_takes_the_next_request_without_the_event_loop() -> None:
    """The bridge queues what its threads cannot run yet; the edge only counts (503 past
    concurrency + queue). A thread that finishes starts the next request itself: here while the
    event loop is blocked, which a semaphore on the loop could not do."""
    release = threading.Event()
    started: list[tuple[str, float]] = []

    def app(environ: dict[str, Any], start_response: Any) -> HttpResponse:
        started.append((environ["PATH_INFO"], time.perf_counter()))
        if environ["PATH_INFO"] == "/first":
            release.wait(5)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return HttpResponse(b"ok")  # in memory, as Django's pages are: handed back whole

    bridge = WsgiBridge(app, threads=1)
    edge = ClickEdge(bridge, concurrency=1, queue=1)
    statuses: list[tuple[str, int]] = []

    async def call(path: str) -> None:
        messages: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            messages.append(message)

        await edge(_scope(path=path), receive, send)
        statuses.append((path, messages[0]["status"]))

    async def scenario() -> float:
        first = asyncio.ensure_future(call("/first"))
        second = asyncio.ensure_future(call("/second"))
        await asyncio.sleep(0.1)
        await call("/third")  # one running, one queued in the bridge: full
        assert statuses == [("/third", 503)]
        release.set()
        time.sleep(0.3)  # the loop is blocked: only the bridge's thread can start /second now
        loop_free = time.perf_counter()
        await asyncio.gather(first, second)
        return loop_free

    try:
        loop_free = async_to_sync(scenario)()
    finally:
        bridge.shutdown()
    assert sorted(statuses) == [("/first", 200), ("/second", 200), ("/third", 503)]
    assert [path for path, _at in started] == ["/first", "/second"]
    assert started[1][1] < loop_free
