from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from core.crypto import EncryptedTextField, rotate_str


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted column with the newest key in FIELD_ENCRYPTION_KEYS. "
        "Run after prepending a new key; drop the old key only after this finishes."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch-size", type=int, default=500, help="rows locked and rewritten per transaction")

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        for model in apps.get_models():
            columns = [str(f.column) for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
            if not columns:
                continue
            self.stdout.write(f"{model._meta.label}: {', '.join(columns)}")
            done = self._rotate_table(str(model._meta.db_table), str(model._meta.pk.column), columns, options)
            total += done
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {total} rows with the newest key."))

    def _rotate_table(self, table: str, pk: str, columns: list[str], options: dict[str, Any]) -> int:
        # Raw tokens (reading through the field would decrypt them). A batch at a time, its rows
        # locked where the database can, and each UPDATE only applies if the tokens are still
        # the ones read: a value changed meanwhile by the application is never overwritten.
        quoted = connection.ops.quote_name
        select = f"SELECT {quoted(pk)}, {', '.join(quoted(c) for c in columns)} FROM {quoted(table)} "  # noqa: S608
        select += f"WHERE {quoted(pk)} > %s ORDER BY {quoted(pk)} LIMIT %s"
        if connection.features.has_select_for_update:
            select += " FOR UPDATE"
        assignments = ", ".join(f"{quoted(c)} = %s" for c in columns)
        unchanged = " AND ".join(f"{quoted(c)} IS NOT DISTINCT FROM %s" for c in columns)
        if connection.vendor == "sqlite":
            unchanged = " AND ".join(f"{quoted(c)} IS %s" for c in columns)
        update = f"UPDATE {quoted(table)} SET {assignments} WHERE {quoted(pk)} = %s AND {unchanged}"  # noqa: S608
        last, done = 0, 0
        while True:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(select, [last, options["batch_size"]])
                rows = cursor.fetchall()
                if not rows:
                    return done
                for row_pk, *tokens in rows:
                    new = [rotate_str(t) if t else t for t in tokens]
                    cursor.execute(update, [*new, row_pk, *tokens])
                    if cursor.rowcount == 0:
                        self.stderr.write(f"  {table} {row_pk} changed during the rotation; run the command again")
                last = rows[-1][0]
            done += len(rows)
            self.stdout.write(f"  {done} rows")
