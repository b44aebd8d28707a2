"""The click edge's Redis connection: one pipelined connection per event loop, speaking RESP on
asyncio's transport and parsed by hiredis (the C parser redis-py itself uses when installed).

The edge sends two commands: the click group's `EVALSHA` (`tracking.buffer`) and the link
cache's `GET` (`tracking.link_cache`). redis-py's asyncio client costs ~75 µs of CPU per round
trip on this machine kind (connection pool, retry wrapper, a timeout context, metrics hooks),
against ~35 µs for the same `GET` on a bare transport, and a click under load shares a round
trip with one or two others: that difference is a sixth of what a click costs (decision 0056).
Everything else in the platform keeps redis-py.

What callers rely on, the same as with redis-py:
- failures raise redis-py's exception classes (`ConnectionError`, `TimeoutError`,
  `ResponseError`, `NoScriptError`), so a failed group goes to the spool as before;
- a reply not back within the timeout fails the connection and every command in flight on it
  (replies on it could no longer be matched to their commands); the next command connects again;
- `redis://[[user]:password@]host:port/db`, `rediss://` (TLS, verified) and
  `unix:///path?db=n` URLs; through Sentinel (`REDIS_SENTINELS`), each new connection asks the
  sentinels for the current master, and a `READONLY` reply (a demoted master) drops it.
"""

import asyncio
import collections
import ssl
from typing import Any
from urllib.parse import parse_qs, urlsplit

import hiredis
import redis.exceptions

from core.redis import sentinel_hosts, sentinel_master_address, url_options

Arg = str | int | float


def resp_command(args: tuple[Arg, ...]) -> bytes:
    """A command as a RESP array of bulk strings. The edge's arguments are ASCII (keys, hex
    hashes, JSON with non-ASCII escaped), whose length in characters is their length in bytes."""
    parts = [f"*{len(args)}\r\n"]
    for arg in args:
        text = arg if isinstance(arg, str) else str(arg)
        size = len(text) if text.isascii() else len(text.encode())
        parts.append(f"${size}\r\n{text}\r\n")
    return "".join(parts).encode()


def _reply_error(reply: hiredis.ReplyError) -> redis.exceptions.RedisError:
    message = str(reply)
    if message.startswith("NOSCRIPT"):
        return redis.exceptions.NoScriptError(message)
    if message.startswith("READONLY"):
        return redis.exceptions.ReadOnlyError(message)
    return redis.exceptions.ResponseError(message)


class _Connection(asyncio.Protocol):
    """One connection: commands are written as they come (pipelined) and their futures
    answered in order as replies arrive."""

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float) -> None:
        self.loop, self.timeout = loop, timeout
        self.reader = hiredis.Reader(encoding="utf-8", errors="replace")
        self.waiting: collections.deque[tuple[asyncio.Future[Any], float]] = collections.deque()
        self.transport: asyncio.Transport | None = None
        self.watchdog: asyncio.TimerHandle | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def call(self, payload: bytes) -> "asyncio.Future[Any]":
        future = self.loop.create_future()
        if self.closed or self.transport is None:
            future.set_exception(redis.exceptions.ConnectionError("the connection to Redis is closed"))
            return future
        deadline = self.loop.time() + self.timeout
        self.waiting.append((future, deadline))
        self.transport.write(payload)
        if self.watchdog is None:  # one timer for all commands in flight, not one each
            self.watchdog = self.loop.call_at(deadline, self._check_deadline)
        return future

    def _check_deadline(self) -> None:
        self.watchdog = None
        if not self.waiting:
            return
        _future, deadline = self.waiting[0]
        if deadline <= self.loop.time():
            self.fail(redis.exceptions.TimeoutError(f"Redis did not answer within {self.timeout} s"))
        else:
            self.watchdog = self.loop.call_at(deadline, self._check_deadline)

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        while True:
            try:
                reply = self.reader.gets()
            except hiredis.ProtocolError as exc:
                self.fail(redis.exceptions.ConnectionError(f"unreadable reply from Redis: {exc}"))
                return
            if reply is False:
                return
            if not self.waiting:
                self.fail(redis.exceptions.ConnectionError("Redis sent a reply nobody asked for"))
                return
            future, _deadline = self.waiting.popleft()
            if isinstance(reply, hiredis.ReplyError):
                error = _reply_error(reply)
                if not future.done():
                    future.set_exception(error)
                if isinstance(error, redis.exceptions.ReadOnlyError):
                    self.fail(redis.exceptions.ConnectionError("Redis is no longer the master"))
                    return
            elif not future.done():
                future.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.fail(redis.exceptions.ConnectionError(f"Redis closed the connection ({exc or 'end of stream'})"))

    def fail(self, error: Exception) -> None:
        self.closed = True
        if self.watchdog is not None:
            self.watchdog.cancel()
            self.watchdog = None
        waiting, self.waiting = self.waiting, collections.deque()
        for future, _deadline in waiting:
            if not future.done():
                future.set_exception(error)
        if self.transport is not None:
            self.transport.close()


class EdgeRedis:
    """The subset of redis-py's asyncio client the edge uses, on one connection per loop."""

    def __init__(self, url: str, *, timeout: float) -> None:
        self.url, self.timeout = url, timeout
        self._connection: _Connection | None = None
        self._attempt: asyncio.Task[_Connection] | None = None

    async def evalsha(self, sha: str, numkeys: int, *keys_and_args: Arg) -> Any:
        return await self.execute("EVALSHA", sha, numkeys, *keys_and_args)

    async def eval(self, script: str, numkeys: int, *keys_and_args: Arg) -> Any:
        return await self.execute("EVAL", script, numkeys, *keys_and_args)

    async def get(self, key: str) -> Any:
        return await self.execute("GET", key)

    async def execute(self, *args: Arg) -> Any:
        connection = self._connection
        if connection is None or connection.closed:
            connection = await self._connected()
        return await connection.call(resp_command(args))

    async def aclose(self) -> None:
        if self._connection is not None:
            self._connection.fail(redis.exceptions.ConnectionError("the edge closed its Redis connection"))
            self._connection = None

    async def _connected(self) -> _Connection:
        """Commands that find no connection share one attempt to open it (a cancelled request
        does not cancel it for the others)."""
        attempt = self._attempt
        if attempt is None:
            attempt = self._attempt = asyncio.get_running_loop().create_task(self._connect())
            attempt.add_done_callback(self._attempt_done)
        return await asyncio.shield(attempt)

    def _attempt_done(self, attempt: "asyncio.Task[_Connection]") -> None:
        self._attempt = None
        if not attempt.cancelled() and attempt.exception() is None:
            self._connection = attempt.result()

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        parts = urlsplit(self.url)
        options = url_options(self.url)
        connection: _Connection | None = None
        try:
            async with asyncio.timeout(self.timeout):
                if parts.scheme == "unix":
                    _transport, connection = await loop.create_unix_connection(
                        lambda: _Connection(loop, self.timeout), parts.path
                    )
                    db = int(parse_qs(parts.query).get("db", ["0"])[0])
                else:
                    host, port = parts.hostname or "localhost", parts.port or 6379
                    if sentinel_hosts():
                        host, port = await sentinel_master_address(timeout=self.timeout)
                    context = ssl.create_default_context() if parts.scheme == "rediss" else None
                    _transport, connection = await loop.create_connection(
                        lambda: _Connection(loop, self.timeout), host, port, ssl=context
                    )
                    db = options["db"]
                hello: list[tuple[Arg, ...]] = []
                if options.get("password"):
                    hello.append(
                        ("AUTH", *([options["username"]] if options.get("username") else []), options["password"])
                    )
                if db:
                    hello.append(("SELECT", db))
                for command in hello:
                    await connection.call(resp_command(command))
        except TimeoutError as exc:
            if connection is not None:
                connection.fail(redis.exceptions.TimeoutError("connecting to Redis timed out"))
            raise redis.exceptions.TimeoutError(f"connecting to Redis took more than {self.timeout} s") from exc
        except OSError as exc:
            raise redis.exceptions.ConnectionError(f"cannot connect to Redis: {exc}") from exc
        except redis.exceptions.RedisError:
            if connection is not None:
                connection.fail(redis.exceptions.ConnectionError("Redis refused the connection's setup"))
            raise
        return connection
