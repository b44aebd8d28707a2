"""`tracking_click` becomes a table partitioned by month of `occurred_at` (tracking/partitions.py,
decision 0039). PostgreSQL only; SQLite keeps the plain table.

Existing rows are copied into their month's partition inside the migration's transaction (at
10M clicks: minutes, with the table locked; schedule it in a quiet hour, docs/scaling.md). The
Django model does not change: `id` stays the ORM's key (the database's key is
(id, occurred_at), ids still come from one sequence), so `makemigrations` sees no difference.
"""

from datetime import UTC, date, datetime

from django.db import migrations


def _month_add(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _bound(month: date) -> str:
    return datetime(month.year, month.month, 1, tzinfo=UTC).isoformat()


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_partitioned_table WHERE partrelid = 'tracking_click'::regclass")
        if cursor.fetchone():
            return
        # What to recreate on the new table: secondary indexes and foreign keys, as they are.
        cursor.execute(
            """SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'tracking_click'
               AND indexname NOT IN (SELECT conname FROM pg_constraint
                                     WHERE conrelid = 'tracking_click'::regclass AND contype IN ('p', 'u'))"""
        )
        indexes = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'tracking_click'::regclass AND contype = 'f'"
        )
        foreign_keys = cursor.fetchall()
        cursor.execute("SELECT min(occurred_at), coalesce(max(id), 0) FROM tracking_click")
        oldest, max_id = cursor.fetchone()

        cursor.execute("ALTER TABLE tracking_click RENAME TO tracking_click_unpartitioned")
        cursor.execute(
            "CREATE TABLE tracking_click (LIKE tracking_click_unpartitioned INCLUDING DEFAULTS) "
            "PARTITION BY RANGE (occurred_at)"
        )
        cursor.execute("CREATE TABLE tracking_click_default PARTITION OF tracking_click DEFAULT")
        this_month = datetime.now(UTC).date().replace(day=1)
        month = oldest.astimezone(UTC).date().replace(day=1) if oldest else this_month
        while month <= _month_add(this_month, 2):
            cursor.execute(
                f"CREATE TABLE tracking_click_p{month.year:04d}{month.month:02d} PARTITION OF tracking_click "
                f"FOR VALUES FROM ('{_bound(month)}') TO ('{_bound(_month_add(month, 1))}')"
            )
            month = _month_add(month, 1)
        cursor.execute("INSERT INTO tracking_click SELECT * FROM tracking_click_unpartitioned")
        cursor.execute("DROP TABLE tracking_click_unpartitioned")

        # One sequence for the ids, as before (the identity went with the old table).
        cursor.execute("CREATE SEQUENCE tracking_click_id_seq OWNED BY tracking_click.id")
        cursor.execute("SELECT setval('tracking_click_id_seq', %s, %s)", [max(max_id, 1), max_id > 0])
        cursor.execute("ALTER TABLE tracking_click ALTER COLUMN id SET DEFAULT nextval('tracking_click_id_seq')")
        # Unique constraints must hold the partition key: (id, occurred_at), (click_id, occurred_at).
        cursor.execute("ALTER TABLE tracking_click ADD CONSTRAINT tracking_click_pkey PRIMARY KEY (id, occurred_at)")
        cursor.execute(
            "ALTER TABLE tracking_click ADD CONSTRAINT tracking_click_click_id_key UNIQUE (click_id, occurred_at)"
        )
        for indexdef in indexes:
            cursor.execute(indexdef)
        for name, definition in foreign_keys:
            cursor.execute(f'ALTER TABLE tracking_click ADD CONSTRAINT "{name}" {definition}')


class Migration(migrations.Migration):
    dependencies = [("tracking", "0002_historicalattributionpolicy")]

    # Not reversed: the partitioned table serves the same model; going back would be a copy.
    operations = [migrations.RunPython(partition, migrations.RunPython.noop, elidable=False)]
