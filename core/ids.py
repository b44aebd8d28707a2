"""Primary keys handed out before the INSERT, so a row can be referenced (a ledger posting
names `commission:<id>`) and still be written once, complete, instead of inserted empty and
updated right after."""

from typing import Any

from django.db import connections, router
from django.db.models import Model

from core import batching

#: Ids a batch (core.batching) reserves at a time: one query for the new rows of many items.
BATCH_RESERVE = 64


def ids_reserve(model: type[Model], count: int) -> list[int | None]:
    """`count` ids from the table's own sequence (PostgreSQL, one query): the rows are then
    inserted with them (`save(force_insert=True)`). Elsewhere (SQLite) a None for each: the
    caller inserts to get its id, as without this.

    Inside a batch, ids are reserved `BATCH_RESERVE` at a time and handed out from the batch's
    memo, so a batch of new orders asks the sequence once per few dozen commissions, not once
    per order. They are still handed out in increasing order; those a batch reserved and did
    not use are skipped, as a sequence skips the ids of a rolled-back transaction (ids are
    unique, never gapless)."""
    if count <= 0:
        return []
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        return [None] * count
    if batching.current() is None:
        return list(_nextval(connection, model, count))
    pool: list[int] = batching.memo(("core.ids", model._meta.label), list)
    if len(pool) < count:
        pool.extend(_nextval(connection, model, max(count - len(pool), BATCH_RESERVE)))
    taken: list[int | None] = list(pool[:count])
    del pool[:count]
    return taken


def _nextval(connection: Any, model: type[Model], count: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, count],  # type: ignore[union-attr]
        )
        return [int(row[0]) for row in cursor.fetchall()]
