"""Django's WSGI handler served from the ASGI process, on a bounded pool of threads.

Why not Django's own ASGI handler: for the synchronous views this platform has, it costs several
times the CPU of the WSGI handler (measured side by side in `bench/serving_bench.py`): every
request gets a fresh thread-sensitive executor, the request body is spooled, the middleware chain
is adapted between sync and async, and the response crosses back to the loop. The click edge
(config/click_edge.py) needs an event loop; Django's views do not. So the edge answers `/r/` on
the loop and hands everything else here: the request is turned into a WSGI environ and Django's
`WSGIHandler` runs in one of `threads` worker threads, the way granian's WSGI interface would run
it. Each thread keeps its own database connection slot (psycopg's pool lends it per request).
A response Django holds in memory (every page but downloads) is handed back whole and sent by the
loop; only streamed ones are sent chunk by chunk from the thread.

Requests beyond the threads wait in the executor's queue, and a thread that finishes takes the
next one from there itself; the edge counts what it has handed over and answers 503 past
`threads + WEB_DJANGO_QUEUE`, so the queue stays bounded.

`threads=0` runs Django through asgiref's thread-sensitive executor instead: under
`async_to_sync` that is the calling thread, which is what tests need (their database transaction
lives on the test's thread; tests/asgi_client.py).
"""

import asyncio
import io
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import IO, Any

from asgiref.sync import sync_to_async

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: Request bodies up to this size stay in memory; larger ones (uploads) go to a temporary file.
BODY_IN_MEMORY = 1024 * 1024


class ClientGone(Exception):
    """The client disconnected before sending the whole request body."""


class WsgiBridge:
    #: At most `threads` requests run at once; the others wait in the executor's queue, from
    #: which a thread that finishes takes the next without going back to the event loop (the
    #: click edge only counts them: config/click_edge.py).
    queues_itself = True

    def __init__(self, app: WSGIApp, *, threads: int) -> None:
        self.app = app
        self.threads = threads
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="django") if threads else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            # Lifespan is the edge's; websockets are off (granian --no-ws).
            return
        try:
            body = await self._read_body(receive)
        except ClientGone:
            return
        loop = asyncio.get_running_loop()
        environ = wsgi_environ(scope, body)

        async def sending(message: MutableMapping[str, Any]) -> None:
            await send(message)  # granian's send returns an awaitable, not a coroutine

        def send_from_thread(message: MutableMapping[str, Any]) -> None:
            asyncio.run_coroutine_threadsafe(sending(message), loop).result()

        call = _Call(self.app, environ, send_from_thread)
        try:
            if self.executor is None:
                whole = await sync_to_async(call.run, thread_sensitive=True)()
            else:
                whole = await loop.run_in_executor(self.executor, call.run)
        finally:
            body.close()
        if whole is not None:
            # A whole response comes back with the thread's result and is sent from here: the
            # thread is free for the next request at once instead of waiting, three times, for
            # the loop to take a message (which, under load, waits for the GIL).
            status, headers, content = whole
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": content})

    async def _read_body(self, receive: Receive) -> IO[bytes]:
        body: IO[bytes] = io.BytesIO()
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                body.close()
                raise ClientGone
            chunk = message.get("body", b"")
            if chunk:
                size += len(chunk)
                if size > BODY_IN_MEMORY and isinstance(body, io.BytesIO):
                    spooled = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the caller
                    spooled.write(body.getvalue())
                    body = spooled
                body.write(chunk)
            if not message.get("more_body", False):
                break
        body.seek(0)
        return body

    def shutdown(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=False, cancel_futures=True)


class _Call:
    """One WSGI call, run entirely in a worker thread: the application, the iteration of its
    body and its `close()` (Django's `request_finished`, which hands the database connection back)
    happen on the same thread, as WSGI requires."""

    def __init__(self, app: WSGIApp, environ: dict[str, Any], send: Callable[[MutableMapping[str, Any]], None]):
        self.app, self.environ, self.send = app, environ, send
        self.status = 500
        self.headers: list[tuple[bytes, bytes]] = []
        self.started = False

    def start_response(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[..., None]:
        if exc_info and self.started:
            raise exc_info[1].with_traceback(exc_info[2])
        self.status = int(status.split(" ", 1)[0])
        self.headers = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]
        return self._write_unsupported

    def _write_unsupported(self, data: bytes) -> None:
        raise NotImplementedError("the legacy WSGI write() callable is not supported")

    def _start(self) -> None:
        if not self.started:
            self.started = True
            self.send({"type": "http.response.start", "status": self.status, "headers": self.headers})

    def run(self) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
        """Run the application; a response that is not streamed is returned whole (status,
        headers, body) for the caller to send, a streamed one is sent chunk by chunk from here."""
        result = self.app(self.environ, self.start_response)
        if not getattr(result, "streaming", True):
            # Django's HttpResponse: its content is already in memory.
            try:
                content = b"".join(result)
            finally:
                result.close()  # type: ignore[attr-defined]
            return self.status, self.headers, content
        try:
            for chunk in result:
                if chunk:
                    self._start()
                    self.send({"type": "http.response.body", "body": bytes(chunk), "more_body": True})
            self._start()
            self.send({"type": "http.response.body", "body": b""})
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return None


def wsgi_environ(scope: Scope, body: IO[bytes]) -> dict[str, Any]:
    """The PEP 3333 environ of an ASGI HTTP scope (the same fields granian's WSGI interface sets)."""
    script_name = scope.get("root_path", "")
    path = scope["path"]
    if script_name and path.startswith(script_name):
        path = path[len(script_name) :]
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        # WSGI strings are latin-1-decoded bytes; ASGI paths are already-decoded UTF-8 text.
        "SCRIPT_NAME": script_name.encode("utf-8").decode("latin-1"),
        "PATH_INFO": path.encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]) if server[1] is not None else "80",
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": client[0],
        "REMOTE_PORT": str(client[1]),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        key = name if name == "CONTENT_TYPE" or name == "CONTENT_LENGTH" else f"HTTP_{name}"
        # Repeated headers are joined as one, as CGI does (cookies with "; ").
        if key in environ:
            environ[key] += ("; " if key == "HTTP_COOKIE" else ",") + value
        else:
            environ[key] = value
    return environ
