"""Many rows of one model written in one statement, without Django's per-value compiler.

A batch of a hundred orders (orders.services.batch) writes a few thousand rows at its end:
history, audit, notifications, ledger legs, changed commissions. Django's `bulk_update` writes
`SET f = CASE WHEN id = 1 THEN … END` for every field, built expression by expression, and its
`bulk_create` compiles every value through several layers; for such batches that cost more CPU
than the rest of the work. On PostgreSQL these helpers send one array per column instead:

    UPDATE t SET f = v.f, … FROM unnest(%s::bigint[], …) AS v(id, f, …) WHERE t.id = v.id
    INSERT INTO t (f, …) SELECT * FROM unnest(%s::bigint[], …) [ON CONFLICT DO NOTHING]

(a row or two, up to 50 values: `INSERT INTO t (f, …) VALUES (%s, …), (%s, …)`),

the statement Django itself sends for a bulk insert on PostgreSQL, with its conditions: only
columns of the backend's own types, without a per-value placeholder or a database default,
cast to the array of the bare type (`varchar[]`, not `varchar(50)[]`, whose cast would cut a
value too long for its column instead of refusing it), bound on the server in binary
(`_bound_cursor`). Anything else (another database, such a column, an expression as a value)
goes through Django's own `bulk_update` / `bulk_create`.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from django.db import connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model


def _unnest_columns(
    fields: Sequence[Field[Any, Any]], connection: BaseDatabaseWrapper
) -> tuple[list[str], list[str]] | None:
    """Each column's quoted name and array element type, or None when one of them cannot be
    unnested. Worked out once per process for each set of columns (a batch asks on every flush,
    a new order on every INSERT)."""
    key = (connection.alias, tuple(fields))
    if key not in _UNNEST:
        _UNNEST[key] = _unnest_columns_of(fields, connection)
    return _UNNEST[key]


_UNNEST: dict[tuple[str, tuple[Field[Any, Any], ...]], tuple[list[str], list[str]] | None] = {}


def _unnest_columns_of(
    fields: Sequence[Field[Any, Any]], connection: BaseDatabaseWrapper
) -> tuple[list[str], list[str]] | None:
    if connection.vendor != "postgresql":
        return None
    names, types = [], []
    for field in fields:
        target = field.target_field if field.is_relation else field  # type: ignore[attr-defined]
        db_type = bare_db_type(field, connection)
        if (
            db_type is None
            or field.column is None
            or hasattr(field, "get_placeholder")
            or field.has_db_default()
            or getattr(field, "generated", False)
            or target.get_internal_type() not in connection.data_types
        ):
            return None
        names.append(connection.ops.quote_name(field.column))
        types.append(db_type)
    return names, types


def bare_db_type(field: Field[Any, Any], connection: BaseDatabaseWrapper) -> str | None:
    """The column's type without its modifiers (`varchar`, not `varchar(50)`), for casting an
    array of its values: a cast to `varchar(50)[]` would cut a value too long for the column
    (which then could match, or be stored as, what it is not) instead of refusing it."""
    db_type = field.db_type(connection)
    return None if db_type is None else db_type.split("(")[0]


@contextmanager
def _bound_cursor(connection: BaseDatabaseWrapper) -> Iterator[Any]:
    """Django's cursor (its error translation, execute wrappers and query log) over the
    driver's server-binding cursor, whatever the connection's own binding
    (`DATABASE_SERVER_SIDE_BINDING`, decision 0058). Bound on the client, psycopg quotes and
    escapes every element of every array into the SQL text (a tenth of a batch's CPU) and
    PostgreSQL parses that text again; bound on the server, the arrays go in binary. These
    statements need nothing client binding gives: no parameter sits where PostgreSQL must
    infer its type, because each array is cast and each single value is assigned to its
    column."""
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = psycopg.Cursor(connection.connection)
    with connection._prepare_cursor(raw) as cursor:  # type: ignore[attr-defined]
        yield cursor


def _columns(model: type[Model], names: Sequence[str]) -> list[Field[Any, Any]]:
    columns: list[Field[Any, Any]] = []
    for name in names:
        field = model._meta.get_field(name)
        if not isinstance(field, Field):  # a reverse relation has no column of its own
            raise TypeError(f"{model.__name__}.{name} is not a column")
        columns.append(field)
    return columns


def _has_expression(values: Sequence[Any]) -> bool:
    return any(
        type(value) not in _SCALARS and (hasattr(value, "resolve_expression") or hasattr(value, "as_sql"))
        for value in values
    )


_SCALARS = frozenset({str, int, bool, type(None)})
# Rows go as `VALUES (…), (…)`, one parameter per value, while they have at most this many
# values: cheaper than an array per column for a row or two. psycopg caches how it parses a
# statement's placeholders only up to 50 parameters (`psycopg._queries`); past that it parses
# the text again on every call, which for an order's three lines (54 values) cost more than
# the arrays it saved.
_VALUES_MAX_PARAMS = 50
# Django's own field classes (not subclasses, which may prepare values their own way: an
# encrypted field) whose preparation returns a value of these Python types unchanged:
# `to_python` of a str is the str, `int()` of an int the int (PostgreSQL's integer adaptation
# only picks a client-side type, and every array here is cast). Their values skip Django's
# per-value chain, two thirds of these statements' CPU for a few thousand values.
_PLAIN: dict[type, type] = {
    **dict.fromkeys((models.CharField, models.TextField, models.SlugField, models.EmailField, models.URLField), str),
    **dict.fromkeys(
        (
            models.AutoField,
            models.BigAutoField,
            models.SmallAutoField,
            models.IntegerField,
            models.BigIntegerField,
            models.SmallIntegerField,
            models.PositiveIntegerField,
            models.PositiveSmallIntegerField,
            models.PositiveBigIntegerField,
        ),
        int,
    ),
    models.BooleanField: bool,
}


def _plain_type(field: Field[Any, Any]) -> type | None:
    """The Python type whose values `field` prepares unchanged, if any."""
    if type(field) in (models.ForeignKey, models.OneToOneField):
        field = field.target_field  # type: ignore[attr-defined]
    return _PLAIN.get(type(field))


def _prepared(
    field: Field[Any, Any], values: Sequence[Any], connection: BaseDatabaseWrapper, *, pre_save: Sequence[Model] = ()
) -> list[Any]:
    """`field.get_db_prep_save` of each value (after `field.pre_save` of each of `pre_save`'s
    instances, when given), except values that preparation returns unchanged."""
    if pre_save:
        values = [field.pre_save(obj, True) for obj in pre_save]
    plain = _plain_type(field)
    if plain is None:
        return [field.get_db_prep_save(value, connection) for value in values]
    return [
        value if value is None or type(value) is plain else field.get_db_prep_save(value, connection)
        for value in values
    ]


def rows_update(objs: Sequence[Model], fields: Sequence[str]) -> int:
    """Django's `bulk_update(objs, fields)` (one model, saved rows: the fields' current values
    are written as they are, no `pre_save`, no signals), in one statement; returns the number
    of rows updated."""
    if not objs:
        return 0
    model = type(objs[0])
    using = router.db_for_write(model, instance=objs[0])
    connection = connections[using]
    columns = [model._meta.pk, *_columns(model, fields)]
    unnest = _unnest_columns(columns, connection)
    if unnest is None:
        return model._default_manager.db_manager(using).bulk_update(objs, list(fields))
    arrays = [_prepared(field, [getattr(obj, field.attname) for obj in objs], connection) for field in columns]
    if any(_has_expression(values) for values in arrays):
        return model._default_manager.db_manager(using).bulk_update(objs, list(fields))
    names, types = unnest
    table = connection.ops.quote_name(model._meta.db_table)
    assignments = ", ".join(f"{name} = v.{name}" for name in names[1:])
    arrays_sql = ", ".join(f"%b::{db_type}[]" for db_type in types)
    # Table, column and type names come from the model's meta, quoted; every value is a parameter.
    values, pk = f"unnest({arrays_sql}) AS v({', '.join(names)})", names[0]
    sql = f"UPDATE {table} SET {assignments} FROM {values} WHERE {table}.{pk} = v.{pk}"  # noqa: S608
    with _bound_cursor(connection) as cursor:
        cursor.execute(sql, arrays)
        return cursor.rowcount


def rows_insert(objs: Sequence[Model], *, ignore_conflicts: bool = False) -> None:
    """Django's `bulk_create(objs, ignore_conflicts=…)` for rows of one model that nothing
    reads back through the instances but their ids (a batch's deferred rows, core.batching):
    `pre_save` runs (timestamps), then one INSERT of every row. Rows without an id get the
    one the database gives them, as `bulk_create` gives it (not with `ignore_conflicts`, where
    a skipped row has none). No signals, as `bulk_create`."""
    if not objs:
        return
    model = type(objs[0])
    opts = model._meta
    using = router.db_for_write(model, instance=objs[0])
    connection = connections[using]
    with_pk = [obj.pk is not None for obj in objs]
    if opts.parents or any(with_pk) != all(with_pk):
        model._default_manager.db_manager(using).bulk_create(objs, ignore_conflicts=ignore_conflicts)
        return
    columns = [field for field in opts.concrete_fields if all(with_pk) or field is not opts.pk]
    unnest = _unnest_columns(columns, connection)
    if unnest is None:
        model._default_manager.db_manager(using).bulk_create(objs, ignore_conflicts=ignore_conflicts)
        return
    for obj in objs:
        # What bulk_create checks first: a related object assigned unsaved is refused, and one
        # saved since its assignment gives its id.
        obj._prepare_related_fields_for_save(operation_name="bulk_create")  # type: ignore[attr-defined]
    arrays = [_prepared(field, (), connection, pre_save=objs) for field in columns]
    if any(_has_expression(values) for values in arrays):
        model._default_manager.db_manager(using).bulk_create(objs, ignore_conflicts=ignore_conflicts)
        return
    quote = connection.ops.quote_name
    names, types = unnest
    if len(objs) * len(names) <= _VALUES_MAX_PARAMS:
        # A row or two (a new order): their values as they are, without an array each to
        # build (psycopg dumps an array element by element in Python). No cast:
        # INSERT coerces every VALUES row to its columns, so a value too long for its column
        # is refused on assignment, as with the arrays.
        row = f"({', '.join(['%b'] * len(names))})"
        source = "VALUES " + ", ".join([row] * len(objs))
        params = [values[index] for index in range(len(objs)) for values in arrays]
    else:
        arrays_sql = ", ".join(f"%b::{db_type}[]" for db_type in types)
        source, params = f"SELECT * FROM unnest({arrays_sql})", arrays  # noqa: S608 - types from the model's meta
    returning = not all(with_pk) and not ignore_conflicts
    # Table, column and type names come from the model's meta, quoted; every value is a parameter.
    sql = (
        f"INSERT INTO {quote(opts.db_table)} ({', '.join(names)}) {source}"
        + (" ON CONFLICT DO NOTHING" if ignore_conflicts else "")
        + (f" RETURNING {quote(str(opts.pk.column))}" if returning else "")
    )
    with _bound_cursor(connection) as cursor:
        cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()] if returning else []
    for index, obj in enumerate(objs):
        if returning:
            obj.pk = ids[index]
        obj._state.adding = False
        obj._state.db = using
