"""Primary keys handed out before the INSERT, so a row can be referenced (a ledger posting
names `commission:<id>`) and still be written once, complete, instead of inserted empty and
updated right after."""

from django.db import connections, router
from django.db.models import Model


def ids_reserve(model: type[Model], count: int) -> list[int | None]:
    """`count` ids from the table's own sequence (PostgreSQL, one query): the rows are then
    inserted with them (`save(force_insert=True)`). Elsewhere (SQLite) a None for each: the
    caller inserts to get its id, as without this."""
    if count <= 0:
        return []
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        return [None] * count
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, count],  # type: ignore[union-attr]
        )
        return [int(row[0]) for row in cursor.fetchall()]
