"""Counting what a test sends to Redis: `redis_commands_sent(monkeypatch)` returns the list of
command names (GET, EVALSHA, ...) sent from then on, through any redis-py client."""

from typing import Any

from redis.client import Redis


def redis_commands_sent(monkeypatch: Any) -> list[str]:
    sent: list[str] = []
    original = Redis.execute_command

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(str(args[0]))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Redis, "execute_command", counted)
    return sent
