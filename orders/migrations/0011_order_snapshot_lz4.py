"""VTEX's order document (`Order.snapshot`, ~15 KB of JSON) compressed with lz4 instead of
PostgreSQL's default pglz. Every new or changed order stores it again, and pglz was the largest
single cost of PostgreSQL's CPU in the order pipeline (8 % under bench/pipeline_bench.py); lz4
compresses several times faster for a similar size. Only values written from now on use it;
both read the same. A server built without lz4 keeps pglz (the migration does nothing there),
and SQLite has no such setting."""

from django.db import migrations

SQL = """
DO $$
BEGIN
    ALTER TABLE orders_order ALTER COLUMN snapshot SET COMPRESSION {method};
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    RAISE NOTICE 'lz4 is not available on this server; orders_order.snapshot keeps pglz';
END $$;
"""


def compression(method):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(SQL.format(method=method))

    return apply


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0010_hook_event_drop_redundant_indexes"),
    ]

    operations = [
        migrations.RunPython(compression("lz4"), compression("pglz"), elidable=True),
    ]
