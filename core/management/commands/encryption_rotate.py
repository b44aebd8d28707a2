from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from core.crypto import EncryptedTextField, rotate_str


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted column with the newest key in FIELD_ENCRYPTION_KEYS. "
        "Run after prepending a new key; drop the old key only after this finishes."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        for model in apps.get_models():
            fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
            if not fields:
                continue
            names = [str(f.column) for f in fields]
            table = model._meta.db_table
            self.stdout.write(f"{model._meta.label}: {', '.join(names)}")
            # Work on the raw tokens (values_list through the field would decrypt them).
            from django.db import connection

            pk_column = str(model._meta.pk.column)
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {pk_column}, {', '.join(names)} FROM {table}")  # noqa: S608 - identifiers from models
                rows = cursor.fetchall()
            done = 0
            for start in range(0, len(rows), options["batch_size"]):
                with transaction.atomic(), connection.cursor() as cursor:
                    for row in rows[start : start + options["batch_size"]]:
                        pk, *tokens = row
                        new = [rotate_str(t) if t else t for t in tokens]
                        assignments = ", ".join(f"{n} = %s" for n in names)
                        cursor.execute(f"UPDATE {table} SET {assignments} WHERE {pk_column} = %s", [*new, pk])  # noqa: S608
                done += len(rows[start : start + options["batch_size"]])
                self.stdout.write(f"  {done}/{len(rows)} rows")
            total += len(rows)
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {total} rows with the newest key."))
