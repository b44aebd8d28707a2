"""Reads of reports and dashboards from a read replica, when one is configured.

`DATABASE_REPLICA_URL` adds the `replica` database (a PostgreSQL streaming replica of the
primary). Code that only aggregates (dashboard and portal panels through core/panel_cache.py,
the report builder, the live panel, exports) runs its reads inside `replica_reads()`; the
router sends them to the replica. Everything else, and every write, stays on the primary:
nothing reads a replica by accident, and a request that wrote never reads its own write from a
replica that may lag (inside an atomic block on the primary, reads stay there too).

Lag: a replica is usually well under a second behind. Panels cached from it could keep a
pre-refresh number under a new generation, so core/panel_cache.py caches what it built within
`DATABASE_REPLICA_MAX_LAG_SECONDS` of the rollups moving only for that long.

Migrations never run against the replica (it is read-only and follows the primary).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"

_replica_reads: ContextVar[bool] = ContextVar("replica_reads", default=False)


def replica_configured() -> bool:
    return REPLICA in connections.settings


def read_alias() -> str:
    """Where a read inside `replica_reads()` goes: the replica when there is one (and the
    primary is not inside a transaction of this thread), else the primary."""
    if _replica_reads.get() and replica_configured() and not connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return REPLICA
    return DEFAULT_DB_ALIAS


@contextmanager
def replica_reads() -> Iterator[str]:
    """Route this block's reads to the replica (when configured); yields the alias they use."""
    token = _replica_reads.set(True)
    try:
        yield read_alias()
    finally:
        _replica_reads.reset(token)


class ReplicaRouter:
    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        alias = read_alias()
        return alias if alias == REPLICA else None

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return True  # the same data on both: an object read from the replica relates to the primary's

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool | None:
        return None if db == DEFAULT_DB_ALIAS else False
