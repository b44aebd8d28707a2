"""The click edge's own Redis connection (tracking/edge_redis.py): the answers redis-py would
give, in order under pipelining, and redis-py's errors when Redis refuses, stalls, goes away or
is demoted, after which the next command connects again."""

import asyncio
import hashlib
import time
from typing import Any

import pytest
import redis as redis_py
import redis.exceptions
from asgiref.sync import async_to_sync
from django.conf import settings as django_settings

from tracking.edge_redis import EdgeRedis, resp_command


class FakeRedis:
    """A local RESP server: records the commands it reads and answers each with `answer(command)`
    (bytes to send, or None to stay silent)."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.commands: list[list[str]] = []
        self.connections = 0
        self.server: asyncio.AbstractServer | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"redis://127.0.0.1:{port}/0"

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                header = await reader.readline()
                if not header:
                    return
                command = []
                for _ in range(int(header[1:])):
                    size = int((await reader.readline())[1:])
                    command.append((await reader.readexactly(size + 2))[:-2].decode())
                self.commands.append(command)
                reply = self.answer(command)
                if reply is None:
                    continue
                writer.write(reply)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()


def test_a_command_is_a_resp_array_of_bulk_strings() -> None:
    assert resp_command(("GET", "k")) == b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
    assert resp_command(("EVALSHA", "ab", 1, "ç", 0.5)) == (
        b"*5\r\n$7\r\nEVALSHA\r\n$2\r\nab\r\n$1\r\n1\r\n$2\r\n\xc3\xa7\r\n$3\r\n0.5\r\n"
    )


@pytest.mark.redis
def test_answers_match_redis_py_and_stay_in_order_when_pipelined() -> None:
    url = django_settings.REDIS_URL
    plain = redis_py.Redis.from_url(url, decode_responses=True)
    plain.set("mgm-test:edge:k", '{"a": "ç"}')
    script = "return {KEYS[1], ARGV[1], redis.call('GET', KEYS[1])}"
    sha = hashlib.sha1(script.encode()).hexdigest()  # noqa: S324 - Redis names scripts by SHA-1
    plain.script_flush()

    async def scenario() -> tuple[Any, ...]:
        edge = EdgeRedis(url, timeout=1.0)
        try:
            with pytest.raises(redis.exceptions.NoScriptError):
                await edge.evalsha(sha, 1, "mgm-test:edge:k", "x")
            by_eval = await edge.eval(script, 1, "mgm-test:edge:k", "x")
            by_sha = await edge.evalsha(sha, 1, "mgm-test:edge:k", "y")
            gets = await asyncio.gather(
                *(edge.get("mgm-test:edge:k" if n % 2 else "mgm-test:edge:none") for n in range(200))
            )
            with pytest.raises(redis.exceptions.ResponseError):
                await edge.execute("INCR", "mgm-test:edge:k")  # not an integer
            after_error = await edge.get("mgm-test:edge:k")  # the connection still serves
            return by_eval, by_sha, gets, after_error
        finally:
            await edge.aclose()

    by_eval, by_sha, gets, after_error = async_to_sync(scenario)()
    assert by_eval == ["mgm-test:edge:k", "x", '{"a": "ç"}']
    assert by_sha == ["mgm-test:edge:k", "y", '{"a": "ç"}']
    assert gets == [('{"a": "ç"}' if n % 2 else None) for n in range(200)]
    assert after_error == '{"a": "ç"}'
    plain.delete("mgm-test:edge:k")


def test_password_and_database_are_sent_before_the_first_command() -> None:
    fake = FakeRedis(lambda command: b"$-1\r\n" if command[0] == "GET" else b"+OK\r\n")

    async def scenario() -> Any:
        url = (await fake.start()).replace("redis://", "redis://app:s3cret@").replace("/0", "/7")
        edge = EdgeRedis(url, timeout=1.0)
        try:
            return await edge.get("k")
        finally:
            await edge.aclose()
            await fake.stop()

    assert async_to_sync(scenario)() is None
    assert fake.commands == [["AUTH", "app", "s3cret"], ["SELECT", "7"], ["GET", "k"]]


def test_a_refused_password_is_a_redis_error_and_nothing_is_sent() -> None:
    fake = FakeRedis(lambda command: b"-WRONGPASS invalid password\r\n" if command[0] == "AUTH" else b"+OK\r\n")

    async def scenario() -> None:
        url = (await fake.start()).replace("redis://", "redis://:wrong@")
        edge = EdgeRedis(url, timeout=1.0)
        try:
            with pytest.raises(redis.exceptions.ResponseError):
                await edge.get("k")
        finally:
            await fake.stop()

    async_to_sync(scenario)()
    assert [command[0] for command in fake.commands] == ["AUTH"]


def test_a_silent_redis_times_out_every_command_in_flight_and_the_next_one_reconnects() -> None:
    silent = {"on": True}
    fake = FakeRedis(lambda command: None if silent["on"] else b"$1\r\nv\r\n")

    async def scenario() -> tuple[list[Any], float, Any, int]:
        edge = EdgeRedis(await fake.start(), timeout=0.2)
        try:
            started = time.monotonic()
            outcomes = await asyncio.gather(*(edge.get(f"k{n}") for n in range(3)), return_exceptions=True)
            waited = time.monotonic() - started
            silent["on"] = False
            return outcomes, waited, await edge.get("again"), fake.connections
        finally:
            await edge.aclose()
            await fake.stop()

    outcomes, waited, again, connections = async_to_sync(scenario)()
    assert all(isinstance(outcome, redis.exceptions.TimeoutError) for outcome in outcomes)
    assert 0.15 < waited < 1.0
    assert again == "v"
    assert connections == 2


def test_redis_going_away_fails_what_is_in_flight_and_a_restarted_redis_is_used_again() -> None:
    fake = FakeRedis(lambda command: None)

    async def scenario() -> tuple[Any, Any, Any]:
        url = await fake.start()
        edge = EdgeRedis(url, timeout=2.0)
        try:
            in_flight = asyncio.ensure_future(edge.get("k"))
            await asyncio.sleep(0.05)
            await fake.stop()
            for task in asyncio.all_tasks():  # the server's handlers: close their connections
                if task is not asyncio.current_task() and task is not in_flight:
                    task.cancel()
            lost = await asyncio.gather(in_flight, return_exceptions=True)
            with pytest.raises(redis.exceptions.ConnectionError):
                await edge.get("k")  # nothing listens: refused at once
            port = int(url.rsplit(":", 1)[1].split("/")[0])
            back = FakeRedis(lambda command: b":1\r\n")
            back.server = await asyncio.start_server(back._serve, "127.0.0.1", port)
            try:
                return lost[0], await edge.get("k"), back.commands
            finally:
                await back.stop()
        finally:
            await edge.aclose()

    lost, answer, commands = async_to_sync(scenario)()
    assert isinstance(lost, redis.exceptions.ConnectionError)
    assert answer == 1
    assert commands == [["GET", "k"]]


def test_a_demoted_master_drops_the_connection() -> None:
    fake = FakeRedis(lambda command: b"-READONLY You can't write against a read only replica.\r\n")

    async def scenario() -> int:
        edge = EdgeRedis(await fake.start(), timeout=1.0)
        try:
            for _ in range(2):
                with pytest.raises(redis.exceptions.ReadOnlyError):
                    await edge.evalsha("sha", 0)
            return fake.connections
        finally:
            await edge.aclose()
            await fake.stop()

    assert async_to_sync(scenario)() == 2  # the second command asked for a new connection


def test_through_sentinel_the_connection_goes_to_the_master_the_sentinels_name(settings: Any, monkeypatch: Any) -> None:
    fake = FakeRedis(lambda command: b"+PONG\r\n")
    asked: list[str] = []

    async def scenario() -> Any:
        url = await fake.start()
        port = int(url.rsplit(":", 1)[1].split("/")[0])

        async def discover_master(self: Any, service: str) -> tuple[str, int]:
            asked.append(service)
            return "127.0.0.1", port

        monkeypatch.setattr("redis.asyncio.sentinel.Sentinel.discover_master", discover_master)
        edge = EdgeRedis("redis://ignored.invalid:6379/0", timeout=1.0)
        try:
            return await edge.execute("PING")
        finally:
            await edge.aclose()
            await fake.stop()

    settings.REDIS_SENTINELS = ["127.0.0.1:26379"]
    settings.REDIS_SENTINEL_MASTER = "mgm-master"
    assert async_to_sync(scenario)() == "PONG"
    assert asked == ["mgm-master"]
