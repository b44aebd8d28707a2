"""Several rows of one model updated in one statement.

Django's `bulk_update` writes `SET f = CASE WHEN id = 1 THEN … WHEN id = 2 THEN … END` for
every field, which its compiler builds expression by expression: for the ledger's positions of
a batch of a hundred orders that cost more CPU than everything else the accrual does. On
PostgreSQL `rows_update` sends the new values as one array per column instead:

    UPDATE t SET f = v.f, … FROM unnest(%s::bigint[], %s::bigint[], …) AS v(id, f, …)
    WHERE t.id = v.id

Same contract as `bulk_update`: the fields' current values on the instances are written as
they are (no `pre_save`, so `auto_now` fields move only when set), nothing else of the rows
changes, no signals. Elsewhere (SQLite) it is `bulk_update`.
"""

from collections.abc import Sequence
from typing import Any

from django.db import connections, router
from django.db.models import Field, Model


def rows_update(objs: Sequence[Model], fields: Sequence[str]) -> int:
    """Write `fields` of every instance in `objs` (one model, saved rows); returns the number
    of rows updated."""
    if not objs:
        return 0
    model = type(objs[0])
    using = router.db_for_write(model, instance=objs[0])
    connection = connections[using]
    opts = model._meta
    columns: list[Field[Any, Any]] = [opts.pk]
    for name in fields:
        field = opts.get_field(name)
        if not isinstance(field, Field):  # a reverse relation has no column of its own
            raise TypeError(f"{model.__name__}.{name} is not a column")
        columns.append(field)
    if connection.vendor != "postgresql":
        return model._default_manager.db_manager(using).bulk_update(objs, list(fields))
    quote = connection.ops.quote_name
    types: list[str] = []
    names: list[str] = []
    for field in columns:
        db_type = field.db_type(connection)
        if db_type is None or field.column is None:  # pragma: no cover - no such field is updated this way
            return model._default_manager.db_manager(using).bulk_update(objs, list(fields))
        types.append(db_type)
        names.append(quote(field.column))
    table = quote(opts.db_table)
    arrays = [[field.get_db_prep_save(getattr(obj, field.attname), connection) for obj in objs] for field in columns]
    assignments = ", ".join(f"{name} = v.{name}" for name in names[1:])
    arrays_sql = ", ".join(f"%s::{db_type}[]" for db_type in types)
    # Table, column and type names come from the model's meta, quoted; every value is a parameter.
    values, pk = f"unnest({arrays_sql}) AS v({', '.join(names)})", names[0]
    sql = f"UPDATE {table} SET {assignments} FROM {values} WHERE {table}.{pk} = v.{pk}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays)
        return cursor.rowcount
