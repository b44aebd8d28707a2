"""A small client that drives an ASGI application (config.asgi: the click edge in front of
Django's WSGI handler) the way Django's test `Client` drives the WSGI side, so the same tests
run against both: `get`/`head` with `HTTP_*` keyword headers, cookies kept between requests,
and a response with `status_code`, `response["Header"]`, `"Header" in response`, `cookies`,
`content`.

Requests run through `async_to_sync` from the test's thread, and Django's side runs in the
thread-sensitive executor (WsgiBridge(threads=0)), that is on this thread, inside the test's
transaction. As Django's test client does, it keeps `close_old_connections` off the request
signals meanwhile."""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import unquote

from asgiref.sync import async_to_sync
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections

from config.click_edge import ClickEdge
from config.wsgi_bridge import WsgiBridge


class AsgiResponse:
    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.status_code = status
        self.cookies: SimpleCookie = SimpleCookie()
        self.headers: dict[str, str] = {}
        for raw_name, raw_value in headers:
            name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
            if name == "set-cookie":
                self.cookies.load(value)
            else:
                self.headers[name] = value
        self.content = body

    def __getitem__(self, name: str) -> str:
        return self.headers[name.lower()]

    def __contains__(self, name: str) -> bool:
        return name.lower() in self.headers


@contextmanager
def _connections_kept() -> Iterator[None]:
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def asgi_test_application() -> Any:
    """config.asgi's application with Django on the calling thread (WsgiBridge(threads=0)): the
    production pool's threads would not see the test's open transaction."""

    return ClickEdge(WsgiBridge(get_wsgi_application(), threads=0))


class AsgiClient:
    def __init__(self, app: Any = None, *, client_addr: str = "127.0.0.1") -> None:
        if app is None:
            app = asgi_test_application()
        self.app = app
        self.client_addr = client_addr
        self.cookies: SimpleCookie = SimpleCookie()

    def get(self, path: str, **extra: str) -> AsgiResponse:
        return self.request("GET", path, **extra)

    def head(self, path: str, **extra: str) -> AsgiResponse:
        return self.request("HEAD", path, **extra)

    def request(self, method: str, path: str, **extra: str) -> AsgiResponse:
        path, _sep, query = path.partition("?")
        headers = [(b"host", b"testserver")]
        for key, value in extra.items():
            if key.startswith("HTTP_"):
                headers.append((key[5:].replace("_", "-").lower().encode("latin-1"), str(value).encode("latin-1")))
        if self.cookies:
            jar = "; ".join(f"{name}={morsel.value}" for name, morsel in self.cookies.items())
            headers.append((b"cookie", jar.encode("latin-1")))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": unquote(path),
            "raw_path": path.encode("latin-1"),
            "query_string": query.encode("latin-1"),
            "root_path": "",
            "headers": headers,
            "client": (self.client_addr, 50123),
            "server": ("testserver", 80),
        }
        messages: list[dict[str, Any]] = []
        state: dict[str, Any] = {"sent_request": False, "done": None}

        async def receive() -> dict[str, Any]:
            if not state["sent_request"]:
                state["sent_request"] = True
                return {"type": "http.request", "body": b"", "more_body": False}
            # Then the client is "connected" until the response is complete.
            if state["done"] is None:
                state["done"] = asyncio.Event()
            await state["done"].wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            messages.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                if state["done"] is None:
                    state["done"] = asyncio.Event()
                state["done"].set()

        with _connections_kept():
            async_to_sync(self.app)(scope, receive, send)
        start = next(m for m in messages if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
        response = AsgiResponse(start["status"], start.get("headers", []), body)
        for name, morsel in response.cookies.items():
            self.cookies[name] = morsel.value
        return response
