"""`field__any=[…]`: `__in` with the whole list as one array parameter on PostgreSQL.

Django's `__in` writes one placeholder per value and prepares each value through the field's
lookup chain. For a batch's 1,200 commission references (payments.services.ledger) that was a
twentieth of the batch's CPU, and every list length gives another statement text, which
PostgreSQL parses and plans anew and psycopg never prepares. `__any` sends

    "t"."commission_ref" = ANY(%s::varchar[])

whatever the list's length: one text, one array. The cast is to the bare type (`varchar[]`, not
`varchar(150)[]`, which would cut a value too long for the column down to one that may match
another row). Other databases, and a subquery or expressions as the right-hand side, get
`__in`'s SQL.
"""

from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field
from django.db.models.lookups import In
from django.db.models.sql.compiler import SQLCompiler
from django.utils.datastructures import OrderedSet

from core.bulk import bare_db_type


class AnyOf(In):
    lookup_name = "any"

    def as_postgresql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> tuple[str, Any]:
        if not self.rhs_is_direct_value() or any(hasattr(value, "resolve_expression") for value in self.rhs):
            return super().as_sql(compiler, connection)
        field = self.lhs.output_field
        db_type = bare_db_type(field, connection)
        if db_type is None:
            return super().as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        # The values went through the field's `get_prep_value` when the lookup was made.
        values = [
            field.get_db_prep_value(value, connection, prepared=True)
            for value in OrderedSet(self.rhs)
            if value is not None
        ]
        return f"{lhs} = ANY(%s::{db_type}[])", (*lhs_params, values)


def lookups_register() -> None:
    """Make `__any` available on every field (CoreConfig.ready)."""
    Field.register_lookup(AnyOf)
