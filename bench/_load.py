"""A small asyncio HTTP/1.1 load generator for the benchmarks (no wrk on this machine kind):
keep-alive connections, raw sockets, latencies measured from the request's first byte to the
response's last. Two shapes:

- `closed_loop`: N connections, each sending the next request as soon as the last answered
  (throughput and latency at saturation).
- `paced_users`: one connection per user, each user acting every `think` seconds (uniform), the
  way people use a site: the offered load is users / mean think time, whatever the server does.
"""

import asyncio
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench._common import percentile


@dataclass
class Result:
    kind: str
    status: int
    ms: float
    at: float = 0.0  # seconds from the measured start to the request's first byte


@dataclass
class Run:
    results: list[Result] = field(default_factory=list)
    failures: int = 0  # connection errors and timeouts (no HTTP answer)
    seconds: float = 0.0

    def summary(self, kind: str | None = None) -> dict[str, float]:
        rows = [r for r in self.results if kind is None or r.kind == kind]
        ms = [r.ms for r in rows] or [float("nan")]
        errors = sum(1 for r in rows if r.status >= 500 or r.status == 0)
        return {
            "requests": len(rows),
            "rps": len(rows) / self.seconds if self.seconds else 0.0,
            "p50": percentile(ms, 0.50),
            "p95": percentile(ms, 0.95),
            "p99": percentile(ms, 0.99),
            "errors": errors + (self.failures if kind is None else 0),
            "status_503": sum(1 for r in rows if r.status == 503),
        }

    def timeline(self, window: float = 10.0) -> list[tuple[float, int, float]]:
        """(window start, requests, p95 ms) per `window` seconds of the run: whether latency grows
        (offered load above what is served) or comes in bursts."""
        by_window: dict[int, list[float]] = {}
        for r in self.results:
            by_window.setdefault(int(r.at // window), []).append(r.ms)
        return [(w * window, len(ms), percentile(ms, 0.95)) for w, ms in sorted(by_window.items())]


class Connection:
    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, path: str, headers: dict[str, str], timeout: float = 30.0) -> int:
        """Send one GET, read the whole answer; returns the status. Reconnects when needed."""
        for attempt in (1, 2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            assert self.reader is not None
            lines = [f"GET {path} HTTP/1.1", f"Host: {self.host}", *(f"{k}: {v}" for k, v in headers.items())]
            self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
            try:
                return await asyncio.wait_for(self._response(self.reader), timeout)
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _response(self, reader: asyncio.StreamReader) -> int:
        status_line = await reader.readuntil(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        length, chunked, close = None, False, False
        while True:
            line = await reader.readuntil(b"\r\n")
            if line == b"\r\n":
                break
            name, _sep, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value:
                chunked = True
            elif name == "connection" and value == "close":
                close = True
        if chunked:
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                await reader.readexactly(size + 2)
                if size == 0:
                    break
        elif length:
            await reader.readexactly(length)
        if close:
            self.close()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def closed_loop(
    *, port: int, path: str, headers: dict[str, str] | None = None, connections: int, seconds: float
) -> Run:
    run = Run()
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        connection = Connection(port)
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                status = await connection.request(path, headers or {})
            except (OSError, TimeoutError, asyncio.IncompleteReadError):
                run.failures += 1
                connection.close()
                continue
            run.results.append(Result("", status, (time.perf_counter() - started) * 1000))
        connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    run.seconds = time.perf_counter() - started
    return run


#: A user's next action: (kind, path, headers).
Action = tuple[str, str, dict[str, str]]


def steady_first_wait(rng: random.Random, think: tuple[float, float]) -> float:
    """Seconds until a person's next action, seen at a random moment of a long run in which they
    act every uniform(think) seconds: the moment falls in a gap with probability proportional to
    its length (the length-biased density, ∝ length on [low, high], drawn by inverting its CDF),
    and anywhere in that gap alike."""
    low, high = think
    gap = math.sqrt(low * low + rng.random() * (high * high - low * low))
    return gap * rng.random()


async def paced_users(
    *,
    port: int,
    users: list[Callable[[random.Random], Action]],
    seconds: float,
    think: tuple[float, float] = (5.0, 15.0),
    ramp: float = 5.0,
    seed: int = 7,
) -> Run:
    """Each user (a function choosing its next action) acts once at a random moment of the `ramp`
    (not counted: it warms the server the way a running site is warm, with the person's session,
    connection and cached panels), then from the end of the ramp every uniform(think) seconds
    after the last action began, for `seconds`. Only actions after the ramp count.

    A person's first counted action comes after a wait drawn from the steady state of that
    rhythm (`steady_first_wait`), so the measured minute offers the steady load from its first
    second: users / mean(think) requests per second.

    History, since each changed what the first seconds measured:
    - Until 2026-12-07 the first action came at a random moment of the first `think[1]` seconds
      after the ramp. Nothing warmed the server: every person's first request, with its session
      and panels still to cache, landed in the measured minute.
    - Later that day, a person kept acting every uniform(think) seconds from its ramp action on.
      The ramp's first actions and the follow-ups of those who started early overlapped (~150
      requests/s offered at the ramp's end for 1,000 users, against a steady 100), and the
      measured minute began with that surge's queue."""
    run = Run()
    start = time.perf_counter() + ramp
    deadline = start + seconds

    async def user(index: int, choose: Callable[[random.Random], Action]) -> None:
        rng = random.Random(seed * 100_003 + index)
        connection = Connection(port)
        if ramp > 0:
            await asyncio.sleep(ramp * rng.random())
            kind, path, headers = choose(rng)
            try:
                await connection.request(path, headers)
            except (OSError, TimeoutError, asyncio.IncompleteReadError):
                run.failures += 1
                connection.close()
        next_at = start + steady_first_wait(rng, think)
        while True:
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
            if time.perf_counter() >= deadline:
                break
            kind, path, headers = choose(rng)
            began = time.perf_counter()
            try:
                status = await connection.request(path, headers)
            except (OSError, TimeoutError, asyncio.IncompleteReadError):
                run.failures += 1
                connection.close()
                status = 0
            run.results.append(Result(kind, status, (time.perf_counter() - began) * 1000, began - start))
            next_at = began + rng.uniform(*think)
        connection.close()

    await asyncio.gather(*(user(i, choose) for i, choose in enumerate(users)))
    run.seconds = seconds
    return run
