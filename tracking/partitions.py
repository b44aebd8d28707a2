"""Monthly partitions of `tracking_click` (PostgreSQL; decision 0039, docs/scaling.md).

At a billion clicks a month one table would grow without end, every index with it, and
deleting old clicks would mean deleting rows one by one (bloat, vacuum, WAL). Partitioned by
month of `occurred_at` (UTC), a month is a table of its own: queries over recent days touch
recent partitions only (pruning), and retiring a month is DETACH + archive + DROP, no row
deletes.

Layout (migration tracking/0003): `tracking_click` partitioned by RANGE (occurred_at), one
partition per month named `tracking_click_pYYYYMM`, and `tracking_click_default` for anything
outside them (a clock far off, a replayed spool file from long ago). The primary key is
(id, occurred_at) and the click id is unique per (click_id, occurred_at): PostgreSQL requires
the partition key in every unique constraint. A click's `occurred_at` is set once at the
redirect and travels with it, so a batch drained twice still inserts nothing twice.

`click_partitions_maintain` (Celery Beat, daily) creates the coming months ahead of time and
retires the months older than `TRACKING_CLICK_RETENTION_MONTHS`: each is detached, written to
private storage as gzipped CSV (`click-archive/tracking_click_pYYYYMM.csv.gz`, header + every
row, counted against the table before it is dropped), then dropped. Rollups of archived months
stay; rebuilding them needs the archive restored first (docs/scaling.md).
"""

import gzip
import io
import logging
import re
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from django.conf import settings
from django.core.files import File
from django.db import connection, transaction

from core.storage import private_storage

logger = logging.getLogger(__name__)

PARENT = "tracking_click"
DEFAULT = "tracking_click_default"
_NAME = re.compile(r"^tracking_click_p(\d{4})(\d{2})$")


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_add(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"tracking_click_p{month.year:04d}{month.month:02d}"


def _bound(month: date) -> str:
    return datetime(month.year, month.month, 1, tzinfo=UTC).isoformat()


def is_partitioned() -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_partitioned_table WHERE partrelid = %s::regclass", [PARENT])
        return cursor.fetchone() is not None


def partition_months() -> list[date]:
    """Months that have a partition attached now, oldest first."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
            [PARENT],
        )
        names = [row[0] for row in cursor.fetchall()]
    months = []
    for name in names:
        match = _NAME.match(name)
        if match:
            months.append(date(int(match.group(1)), int(match.group(2)), 1))
    return sorted(months)


def partition_ensure(month: date) -> bool:
    """Attach the partition of `month` if missing; True when it was created. Rows of that month
    already in the default partition move into it, in the same transaction (PostgreSQL refuses
    to attach a range the default partition holds rows of)."""
    month = month_start(month)
    if month in partition_months():
        return False
    name, lower, upper = partition_name(month), _bound(month), _bound(month_add(month, 1))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f'CREATE TABLE "{name}" (LIKE "{PARENT}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS)')
        # Table names are ours (partition_name: digits only), never input.
        cursor.execute(
            f'WITH moved AS (DELETE FROM "{DEFAULT}" WHERE occurred_at >= %s AND occurred_at < %s RETURNING *) '  # noqa: S608
            f'INSERT INTO "{name}" SELECT * FROM moved',
            [lower, upper],
        )
        cursor.execute(
            f"ALTER TABLE \"{PARENT}\" ATTACH PARTITION \"{name}\" FOR VALUES FROM ('{lower}') TO ('{upper}')"
        )
    return True


@dataclass
class Archived:
    partition: str
    rows: int
    file: str


@dataclass
class MaintainReport:
    created: list[str] = field(default_factory=list)
    archived: list[Archived] = field(default_factory=list)


def partition_archive(month: date) -> Archived:
    """Detach the month's partition, write it to private storage (gzipped CSV with a header),
    check the archive holds every row, then drop it. Runs in one transaction: a failure leaves
    the partition attached and nothing dropped."""
    name = partition_name(month)
    file_name = f"click-archive/{name}.csv.gz"
    with transaction.atomic(), connection.cursor() as cursor:
        # Deferred foreign-key checks of rows written in this transaction must run before the
        # table is dropped (only ever the case when the caller wrote clicks in it, as tests do).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f'ALTER TABLE "{PARENT}" DETACH PARTITION "{name}"')
        cursor.execute(f'SELECT count(*) FROM "{name}"')  # noqa: S608 - partition_name: digits only
        expected = int(cursor.fetchone()[0])
        with tempfile.TemporaryFile() as raw:
            with (
                gzip.GzipFile(fileobj=raw, mode="wb") as archive,
                cursor.cursor.copy(f'COPY "{name}" TO STDOUT WITH (FORMAT csv, HEADER true)') as copy,
            ):
                for chunk in copy:
                    archive.write(bytes(chunk))
            raw.seek(0)
            with gzip.GzipFile(fileobj=raw, mode="rb") as check:
                lines = sum(1 for _line in io.TextIOWrapper(check, encoding="utf-8", newline=""))
            # CSV quoting keeps newlines inside fields (user agents never hold one; a header line).
            if lines - 1 < expected:
                raise RuntimeError(f"archive of {name} holds {lines - 1} rows, the table {expected}")
            raw.seek(0)
            if private_storage().exists(file_name):
                private_storage().delete(file_name)  # a previous attempt that failed before DROP
            saved = private_storage().save(file_name, File(raw, name=file_name))
        cursor.execute(f'DROP TABLE "{name}"')
    logger.info("archived %s clicks of %s to %s", expected, name, saved)
    return Archived(partition=name, rows=expected, file=saved)


def click_partitions_maintain(*, today: date | None = None) -> MaintainReport:
    """Beat (daily): the partitions of this month and the next TRACKING_CLICK_PARTITIONS_AHEAD
    months exist; months older than TRACKING_CLICK_RETENTION_MONTHS are archived and dropped.
    Does nothing on a database without partitions (SQLite)."""
    report = MaintainReport()
    if not is_partitioned():
        return report
    this_month = month_start(today or datetime.now(UTC).date())
    for ahead in range(settings.TRACKING_CLICK_PARTITIONS_AHEAD + 1):
        month = month_add(this_month, ahead)
        if partition_ensure(month):
            report.created.append(partition_name(month))
    oldest_kept = month_add(this_month, -settings.TRACKING_CLICK_RETENTION_MONTHS)
    for month in partition_months():
        if month < oldest_kept:
            report.archived.append(partition_archive(month))
    return report
