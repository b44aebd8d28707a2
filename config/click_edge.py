"""The ASGI edge: `/r/<slug>` answered in front of Django's ASGI application, in the same
process (config/asgi.py), with the tracking context's own rules (`tracking.click`).

A click is a cached link entry, a few keyed hashes and a share of one Redis call (group
commit, `tracking.buffer.click_apush`). Django's request cycle (18 middlewares, URL resolution,
a thread hop for sync code) costs several times that, and a click needs none of it: no
session, no user, no CSRF, no template. So for `GET|HEAD /r/<slug>` the edge reads the link
entry (process memory, else Redis through the event loop's asyncio client), decides with
`tracking.click.click_decide`, awaits the click's append to the Redis stream (with the other
clicks of its group; the spool file when Redis is away) and only then sends the 302. It never
queries the database: a cache miss, an unknown or inactive slug and a link whose host left the
brand's allowlist are handed to Django, whose view (the same rules) loads the entry and renders
the translated 404 page.

Everything else goes to Django (its WSGI handler on a pool of threads, config/wsgi_bridge.py),
at most `WEB_DJANGO_CONCURRENCY` requests at a time per process (each one holds a thread and,
while it queries, a pooled database connection); up to `WEB_DJANGO_QUEUE` more wait their turn
in the bridge's queue, and past that the edge answers 503 with `Retry-After` at once instead of
letting latency grow without bound (backpressure). An application that does not queue for
itself (Django's own ASGI handler, in the benchmarks) waits on a semaphore here instead.
"""

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from django.conf import settings
from django.http.cookie import parse_cookie
from django.utils.encoding import iri_to_uri

from core.request_context import client_ip_from
from tracking.buffer import click_apush
from tracking.click import (
    Click,
    ClickRequest,
    Headers,
    click_decide,
    click_response_headers,
    visitor_cookie_header,
)
from tracking.conf import tracking_settings
from tracking.link_cache import link_entry_aget
from tracking.stores import tracking_aredis_close

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Django's `<slug:slug>` converter, under `/r/` (tracking/urls.py).
CLICK_PATH = re.compile(r"^/r/([-a-zA-Z0-9_]+)$")

_BUSY_BODY = b"The service is busy. Please try again in a moment.\n"


class ClickEdge:
    def __init__(self, app: Any, *, concurrency: int | None = None, queue: int | None = None) -> None:
        self.app = app
        self.concurrency = concurrency or settings.WEB_DJANGO_CONCURRENCY
        self.queue = settings.WEB_DJANGO_QUEUE if queue is None else queue
        self._slots: asyncio.Semaphore | None = None
        self._waiting = 0  # requests waiting for a slot; with an app that queues itself, all of them

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            if scope["method"] in ("GET", "HEAD"):
                match = CLICK_PATH.match(scope["path"])
                if match and await self.click(match.group(1), scope, send):
                    return
            await self.django(scope, receive, send)
        elif kind == "lifespan":
            await self.lifespan(receive, send)
        else:
            await self.app(scope, receive, send)

    async def click(self, slug: str, scope: Scope, send: Send) -> bool:
        """Answer a click on a cached link; False hands the request to Django."""
        found, entry = await link_entry_aget(slug)
        if not found or entry is None:
            return False
        headers = Headers(scope["headers"])
        client = scope.get("client")
        conf = tracking_settings()
        cookies = parse_cookie(headers.get("cookie")) if headers.get("cookie") else {}
        decision = click_decide(
            entry,
            ClickRequest(
                method=scope["method"],
                headers=headers,
                visitor_cookie=cookies.get(conf.cookie_name, ""),
                ip=client_ip_from(client[0] if client else None, headers.get("x-forwarded-for")),
            ),
        )
        if decision is None:
            return False
        outcome = ""
        response = [(b"location", iri_to_uri(decision.target).encode("ascii")), (b"content-length", b"0")]
        if isinstance(decision, Click):
            # Awaited before the 302 is sent: an answered click is in Redis (or the spool).
            outcome = await click_apush(decision.record, screen=decision.screen)
            response.append((b"set-cookie", visitor_cookie_header(decision).encode("ascii")))
        response += [
            (n.lower().encode("ascii"), v.encode("latin-1"))
            for n, v in click_response_headers(decision, outcome=outcome)
        ]
        await send({"type": "http.response.start", "status": 302, "headers": response})
        await send({"type": "http.response.body", "body": b""})
        return True

    async def django(self, scope: Scope, receive: Receive, send: Send) -> None:
        if getattr(self.app, "queues_itself", False):
            await self._django_queued_by_app(scope, receive, send)
            return
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.concurrency)
        slots = self._slots
        if slots.locked() and self._waiting >= self.queue:
            await self.busy(send)
            return
        self._waiting += 1
        try:
            await slots.acquire()
        finally:
            self._waiting -= 1
        try:
            await self.app(scope, receive, send)
        finally:
            slots.release()

    async def _django_queued_by_app(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The WSGI bridge runs `concurrency` requests on its threads and queues the rest itself:
        a thread that finishes takes the next request from the executor's queue at once. Gating
        them here instead (a semaphore on the loop) made every hand-over wait for the event loop
        to get the GIL back from the other Django threads, twice: 3-4 idle threads' worth of
        milliseconds per request under load. Here the edge only counts: past `concurrency +
        queue` requests in the process, 503."""
        if self._waiting >= self.concurrency + self.queue:
            await self.busy(send)
            return
        self._waiting += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self._waiting -= 1

    async def busy(self, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"retry-after", b"1"),
                    (b"cache-control", b"no-store"),
                    (b"content-length", str(len(_BUSY_BODY)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": _BUSY_BODY})

    async def lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    await tracking_aredis_close()
                except Exception:
                    logger.warning("closing the click edge's Redis client failed", exc_info=True)
                shutdown = getattr(self.app, "shutdown", None)  # the WSGI bridge's threads
                if shutdown is not None:
                    shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return
