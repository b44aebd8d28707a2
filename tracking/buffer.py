"""The click buffer: the redirect appends a click here and returns; a worker drains it into
PostgreSQL in batches. Two backends, chosen by whether Redis is configured:

- `RedisClickBuffer` (production): one Lua call does the dedupe and flood counters and `XADD`s
  the click to a stream, atomically, in one round trip; on an event loop (the ASGI edge) one
  call carries every click that arrived while the previous call was in flight (group commit,
  `click_apush`). The drain worker reads with
  `XREADGROUP` in a consumer group, inserts a batch with `bulk_create(ignore_conflicts=True)` on
  the unique `click_id`, then `XACK`s and `XDEL`s it. A worker killed between the read and the
  ack leaves its entries pending; the next drain re-claims entries idle longer than
  `TRACKING_CLAIM_IDLE_MS` with `XAUTOCLAIM`, and the unique click id makes the re-insert a
  no-op. Nothing is acknowledged before it is committed, so no click is lost.
- `SpoolClickBuffer` (no Redis: demo and tests): each process appends JSON lines to a file per
  minute under `TRACKING_SPOOL_DIR`; dedupe and flood counters use the Django cache. The drain
  processes closed files (older minutes) and deletes a file only after its rows committed; a
  drain killed midway leaves the file, which the next drain inserts again (idempotent). It
  survives a process crash (the kernel has the bytes) but not a power cut (no fsync), and
  counters are per process with the local-memory cache: it is a fallback, not the production
  path.
"""

import asyncio
import functools
import hashlib
import json
import logging
import os
import socket
import threading
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import redis
import redis.exceptions
from django.core.cache import cache
from django.db import transaction

from core.events import facts_changed
from core.redis import redis_client
from tracking.conf import tracking_settings
from tracking.models import Click, Link
from tracking.stores import tracking_aredis, tracking_redis

logger = logging.getLogger(__name__)

# Fields of a buffered click, in the order they are written.
FIELDS = (
    "click_id",
    "link",
    "brand",
    "campaign",
    "influencer",
    "ts",
    "visitor",
    "ip_hash",
    "ip_prefix",
    "fp",
    "ua",
    "lang",
    "ref",
)


@dataclass(frozen=True)
class Screen:
    """The counters the buffer checks atomically with the append."""

    reason: str  # "" or a reason found from the request alone
    dedupe_key: str  # the visitor on this link
    flood_key: str
    dedupe_alt_key: str = ""  # the fingerprint on this link (browsers that drop cookies)


@dataclass(frozen=True)
class DrainReport:
    read: int = 0
    stored: int = 0
    reclaimed: int = 0


class ClickBuffer(Protocol):
    def push(self, record: dict[str, str], *, screen: Screen) -> str: ...

    def drain(self, *, consumer: str | None = None, max_batches: int = 100) -> DrainReport: ...


def clicks_store(records: Iterable[dict[str, Any]]) -> int:
    """Insert buffered clicks; those already stored (same click id) are skipped. Clicks whose
    link no longer exists are dropped with a warning, so one bad record cannot block a batch."""

    rows = list(records)
    if not rows:
        return 0
    readable = [r for r in rows if str(r.get("link", "")).isdigit()]
    if len(readable) < len(rows):
        logger.warning("dropping %d click records without a link id", len(rows) - len(readable))
        rows = readable
    link_ids = {int(r["link"]) for r in rows}
    known = set(Link.objects.filter(pk__in=link_ids).values_list("pk", flat=True))
    clicks = []
    for r in rows:
        if int(r["link"]) not in known:
            logger.warning("dropping click %s of unknown link %s", r.get("click_id"), r.get("link"))
            continue
        reason = r.get("reason", "")
        clicks.append(
            Click(
                click_id=r["click_id"],
                link_id=int(r["link"]),
                brand_id=int(r["brand"]),
                campaign_id=int(r["campaign"]),
                influencer_id=int(r["influencer"]),
                occurred_at=datetime.fromtimestamp(float(r["ts"]), tz=UTC),
                visitor_id=r.get("visitor", "")[:32],
                is_valid=not reason,
                screen_reason=reason,
                ip_hash=r.get("ip_hash", "")[:32],
                ip_prefix=r.get("ip_prefix", "")[:50],
                fingerprint=r.get("fp", "")[:32],
                user_agent=r.get("ua", "")[:300],
                accept_language=r.get("lang", "")[:40],
                referrer_host=r.get("ref", "")[:255],
            )
        )
    with transaction.atomic():
        Click.objects.bulk_create(clicks, batch_size=1000, ignore_conflicts=True)

        facts_changed(points={(c.brand_id, c.occurred_at) for c in clicks})
    return len(clicks)


def default_consumer() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


# --- Redis ----------------------------------------------------------------------------------

# One call appends a group of clicks, in order: KEYS[1] is the stream, then three keys per
# click (dedupe, flood, dedupe by fingerprint); ARGV[1..3] the dedupe window, the flood limit
# and the flood window, then two arguments per click (the reason found from the request, the
# packed click). Returns each click's outcome, in order. The clicks are screened one after the
# other inside the script, so the same visitor twice in one group is a duplicate the second
# time, exactly as with two calls.
_PUSH_LUA = """
local dedupe_s, flood_limit, flood_s = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local outcomes = {}
for i = 1, (#KEYS - 1) / 3 do
  local k, a = 3 * i - 1, 2 * i + 2
  local reason = ARGV[a]
  local n = redis.call('INCR', KEYS[k + 1])
  if n == 1 then redis.call('EXPIRE', KEYS[k + 1], flood_s) end
  if reason == '' then
    local fresh = redis.call('SET', KEYS[k], '1', 'NX', 'EX', dedupe_s)
    local fresh_alt = redis.call('SET', KEYS[k + 2], '1', 'NX', 'EX', dedupe_s)
    if not fresh or not fresh_alt then
      reason = 'duplicate'
    elseif n > flood_limit then
      reason = 'flood'
    end
  end
  redis.call('XADD', KEYS[1], '*', 'reason', reason, 'c', ARGV[a + 1])
  outcomes[i] = reason
end
return outcomes
"""

_pack = json.JSONEncoder(separators=(",", ":")).encode


def _packed(record: dict[str, str]) -> str:
    """The click as the stream's one JSON field `c`, its fields in `FIELDS` order."""
    if len(record) == len(FIELDS) and tuple(record) == FIELDS:  # click_decide's records
        return _pack(record)
    return _pack({name: record.get(name, "") for name in FIELDS})


def _push_arguments(clicks: Iterable[tuple[dict[str, str], Screen]]) -> tuple[list[str], list[str | int]]:
    """KEYS and ARGV of `_PUSH_LUA` for a group of clicks (the sync client sends a group of one)."""
    conf = tracking_settings()
    keys: list[str] = [conf.stream_key]
    args: list[str | int] = [conf.dedupe_seconds, conf.flood_limit, conf.flood_seconds]
    for record, screen in clicks:
        keys += (screen.dedupe_key, screen.flood_key, screen.dedupe_alt_key or screen.dedupe_key + ":fp")
        args += (screen.reason, _packed(record))
    return keys, args


def _stream_record(fields: dict[str, str]) -> dict[str, str]:
    """A stream entry as a click record: `reason` plus the click packed as one JSON field `c`
    (one argument instead of 26 to pack, send and parse per click), or, for entries written
    before that change, one stream field per click field."""
    packed = fields.get("c")
    if packed is None:
        return fields
    try:
        record = json.loads(packed)
    except ValueError:
        logger.warning("skipping an unreadable click entry")
        return {}
    return {**record, "reason": fields.get("reason", "")} if isinstance(record, dict) else {}


class RedisClickBuffer:
    def __init__(self, url: str) -> None:
        # The drain's client waits longer than a click may (`TRACKING_REDIS_TIMEOUT`).
        self.client = redis_client(url, decode_responses=True, health_check_interval=30, socket_timeout=10)
        self._push = tracking_redis().register_script(_PUSH_LUA)
        self._group_ready: set[str] = set()

    def push(self, record: dict[str, str], *, screen: Screen) -> str:
        keys, args = _push_arguments([(record, screen)])
        return str(self._push(keys=keys, args=args)[0])

    def _ensure_group(self, stream: str, group: str) -> None:
        if stream in self._group_ready:
            return
        try:
            self.client.xgroup_create(stream, group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready.add(stream)

    def _store_and_ack(self, stream: str, group: str, messages: list[Any]) -> int:
        ids = [mid for mid, _ in messages]
        records = [record for _, fields in messages if fields and (record := _stream_record(fields))]
        stored = clicks_store(records)
        # Acknowledge only after the rows committed: a crash before this line leaves the
        # entries pending, to be re-claimed and re-inserted (a no-op for stored click ids).
        pipe = self.client.pipeline(transaction=False)
        pipe.xack(stream, group, *ids)
        pipe.xdel(stream, *ids)
        pipe.execute()
        return stored

    def drain(self, *, consumer: str | None = None, max_batches: int = 100) -> DrainReport:
        conf = tracking_settings()
        stream, group, consumer = conf.stream_key, conf.stream_group, consumer or default_consumer()
        self._ensure_group(stream, group)
        read = stored = reclaimed = 0
        # 1. Entries another (dead or stuck) consumer read but never acknowledged.
        start = "0-0"
        for _ in range(max_batches):
            start, messages, *_ = self.client.xautoclaim(
                stream, group, consumer, min_idle_time=conf.claim_idle_ms, start_id=start, count=conf.drain_batch
            )
            if messages:
                reclaimed += len(messages)
                read += len(messages)
                stored += self._store_and_ack(stream, group, messages)
            if start == "0-0":
                break
        # 2. New entries.
        for _ in range(max_batches):
            response: Any = self.client.xreadgroup(group, consumer, {stream: ">"}, count=conf.drain_batch)
            if not response:
                break
            messages = response[0][1]
            if not messages:
                break
            read += len(messages)
            stored += self._store_and_ack(stream, group, messages)
        # 3. Clicks a web process spooled to disk while Redis was unreachable (`click_push`).
        spooled = SpoolClickBuffer(conf.spool_dir).drain(max_batches=max_batches)
        return DrainReport(read=read + spooled.read, stored=stored + spooled.stored, reclaimed=reclaimed)

    def pending(self) -> int:
        conf = tracking_settings()
        self._ensure_group(conf.stream_key, conf.stream_group)
        return int(self.client.xlen(conf.stream_key))


# --- Spool files (no Redis) -----------------------------------------------------------------


class SpoolClickBuffer:
    def __init__(self, directory: str) -> None:
        self.directory = Path(directory)
        self._lock = threading.Lock()
        self._handle: Any = None
        self._minute = -1

    def _file_for(self, minute: int) -> Path:
        return self.directory / f"clicks-{minute:010d}-{os.getpid()}.jsonl"

    def push(self, record: dict[str, str], *, screen: Screen) -> str:
        conf = tracking_settings()
        reason = screen.reason
        flood = cache_incr(screen.flood_key, conf.flood_seconds)
        if not reason:
            fresh = cache.add(screen.dedupe_key, 1, conf.dedupe_seconds)
            fresh_alt = cache.add(screen.dedupe_alt_key or screen.dedupe_key + ":fp", 1, conf.dedupe_seconds)
            if not (fresh and fresh_alt):
                reason = "duplicate"
            elif flood > conf.flood_limit:
                reason = "flood"
        self.append(record, reason=reason)
        return reason

    def append(self, record: dict[str, str], *, reason: str) -> None:
        """Write one click line (no counters): `push`, and the fallback while Redis is away."""
        self.append_many([(record, reason)])

    def append_many(self, clicks: Iterable[tuple[dict[str, str], str]]) -> None:
        """Write click lines, each with its reason, in one write (a group Redis did not take)."""
        lines = "".join(_pack({**record, "reason": reason}) + "\n" for record, reason in clicks)
        minute = int(time.time() // 60)
        with self._lock:
            if self._handle is None or minute != self._minute or not os.path.exists(self._handle.name):
                if self._handle is not None:
                    self._handle.close()
                self.directory.mkdir(parents=True, exist_ok=True)
                self._handle = open(self._file_for(minute), "a", encoding="utf-8")  # noqa: SIM115
                self._minute = minute
            self._handle.write(lines)
            # In the kernel before the redirect is answered: a killed process loses nothing.
            self._handle.flush()

    def drain(self, *, consumer: str | None = None, max_batches: int = 100, include_open: bool = False) -> DrainReport:
        """Insert closed spool files (all files with `include_open`, for tests and one-process
        setups) and delete each once its rows committed."""
        if not self.directory.exists():
            return DrainReport()
        current = int(time.time() // 60)
        read = stored = 0
        for path in sorted(self.directory.glob("clicks-*.jsonl"))[: max_batches or None]:
            minute = int(path.name.split("-")[1])
            # A file is closed once its minute is over; one more minute of grace covers a writer
            # that picked the name just before the minute turned.
            if minute >= current - 1 and not include_open:
                continue
            with self._lock:
                if self._handle is not None and self._handle.name == str(path):
                    self._handle.close()
                    self._handle = None
            records = []
            with path.open(encoding="utf-8") as handle:
                for line in handle:
                    try:
                        records.append(json.loads(line))
                    except ValueError:
                        logger.warning("skipping a torn line in %s", path.name)
            read += len(records)
            stored += clicks_store(records)
            path.unlink()
        return DrainReport(read=read, stored=stored)


def cache_incr(key: str, ttl: int) -> int:
    """Count one more hit on `key` in the Django cache, in a window of `ttl` seconds that
    starts at the first hit; returns the count."""
    if cache.add(key, 1, ttl):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.add(key, 1, ttl)
        return 1


_buffer: ClickBuffer | None = None
_buffer_config: tuple[str, str, str] | None = None


def click_buffer() -> ClickBuffer:
    """The process's buffer, Redis when `REDIS_URL` is set (unless `TRACKING_BUFFER="spool"`)."""
    global _buffer, _buffer_config
    conf = tracking_settings()
    config = (conf.buffer_mode, conf.redis_url, conf.spool_dir)
    if _buffer is None or config != _buffer_config:
        _buffer = RedisClickBuffer(conf.redis_url) if conf.buffer_mode == "redis" else SpoolClickBuffer(conf.spool_dir)
        _buffer_config = config
    return _buffer


# --- Pushing a click (sync for Django's view, asyncio for the ASGI edge) ---------------------

_fallback: SpoolClickBuffer | None = None


def _fallback_spool() -> SpoolClickBuffer:
    global _fallback
    directory = tracking_settings().spool_dir
    if _fallback is None or str(_fallback.directory) != directory:
        _fallback = SpoolClickBuffer(directory)
    return _fallback


def _spool_when_redis_fails(clicks: list[tuple[dict[str, str], Screen]]) -> list[str]:
    """Redis did not take these clicks (a whole group: the call failed as one): keep them on
    disk (drained with the stream), without the dedupe and flood counters, which live in Redis.
    Returns each click's outcome for its response."""
    logger.warning(
        "click buffer unreachable; %d click(s) spooled to disk (first %s)",
        len(clicks),
        clicks[0][0].get("click_id") if clicks else "",
        exc_info=True,
    )
    try:
        _fallback_spool().append_many([(record, screen.reason) for record, screen in clicks])
    except OSError:
        logger.exception("%d click(s) not recorded: neither Redis nor the spool took them", len(clicks))
        return ["unrecorded"] * len(clicks)
    return [screen.reason for _, screen in clicks]


def click_push(record: dict[str, str], *, screen: Screen) -> str:
    """Append a click, checked against its counters; returns "" (valid) or the screen reason.
    Returns only once the click is in Redis (or, Redis away, in the spool file)."""
    buffer = click_buffer()
    if isinstance(buffer, SpoolClickBuffer):
        return buffer.push(record, screen=screen)
    try:
        return buffer.push(record, screen=screen)
    except Exception:
        return _spool_when_redis_fails([(record, screen)])[0]


#: At most this many clicks in one call: the script runs ~5 commands per click while Redis
#: serves nobody else (500 clicks: a few milliseconds).
GROUP_MAX = 500


class _ClickGroups:
    """Group commit for one event loop: a click waits while the loop's previous call is in
    flight, then goes with every click that arrived meanwhile in one `EVALSHA`. Each caller
    awaits its own click's outcome, which exists only once the call that carried it returned
    (or its group was spooled): nothing is answered from memory."""

    __slots__ = ("pending", "writer")

    def __init__(self) -> None:
        self.pending: list[tuple[dict[str, str], Screen, asyncio.Future[str]]] = []
        self.writer: asyncio.Task[None] | None = None

    def push(self, record: dict[str, str], screen: Screen) -> "asyncio.Future[str]":
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.pending.append((record, screen, future))
        if self.writer is None:
            # Runs once the loop has taken every request already waiting (the first group).
            self.writer = asyncio.get_running_loop().create_task(self._write())
        return future

    async def _write(self) -> None:
        group: list[tuple[dict[str, str], Screen, asyncio.Future[str]]] = []
        try:
            while self.pending:
                group, self.pending = self.pending[:GROUP_MAX], self.pending[GROUP_MAX:]
                outcomes = await _group_write([(record, screen) for record, screen, _ in group])
                for (_, _, future), outcome in zip(group, outcomes, strict=True):
                    if not future.done():  # its request may have been cancelled
                        future.set_result(outcome)
                group = []
        except BaseException as exc:
            # Not answered: a caller whose click's fate is unknown must not send its 302.
            for _, _, future in group + self.pending:
                if future.done():
                    continue
                if isinstance(exc, Exception):
                    future.set_exception(exc)
                else:
                    future.cancel()
            self.pending = []
            raise
        finally:
            self.writer = None


_groups: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _ClickGroups]" = weakref.WeakKeyDictionary()


async def _group_write(clicks: list[tuple[dict[str, str], Screen]]) -> list[str]:
    """One call for the group; the whole group to the spool when it fails."""
    keys, args = _push_arguments(clicks)
    try:
        client = tracking_aredis()
        try:
            outcomes = await client.evalsha(_push_sha(), len(keys), *keys, *args)
        except redis.exceptions.NoScriptError:  # Redis restarted or flushed its scripts
            outcomes = await client.eval(_PUSH_LUA, len(keys), *keys, *args)
        if len(outcomes) != len(clicks):
            raise redis.exceptions.ResponseError(f"{len(outcomes)} outcomes for {len(clicks)} clicks")
        return [str(outcome) for outcome in outcomes]
    except Exception:
        return _spool_when_redis_fails(clicks)


async def click_apush(record: dict[str, str], *, screen: Screen) -> str:
    """`click_push` for an event loop, with group commit: the click joins the loop's next call
    (the same script, through the loop's asyncio client) and this returns once that call
    returned or its group was spooled, with this click's own outcome."""
    conf = tracking_settings()
    if conf.buffer_mode != "redis":
        # Local file and in-process counters: no network wait to hand to the loop.
        return click_buffer().push(record, screen=screen)
    loop = asyncio.get_running_loop()
    groups = _groups.get(loop)
    if groups is None:
        groups = _groups[loop] = _ClickGroups()
    return await groups.push(record, screen)


@functools.cache
def _push_sha() -> str:
    return hashlib.sha1(_PUSH_LUA.encode()).hexdigest()  # noqa: S324 - Redis names scripts by SHA-1
