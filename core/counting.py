"""Several counts in one round trip. A back-office page shows a handful of queues ("applications
to decide", "withdrawals to approve", ...), each a COUNT(*) of its own; asked one by one they
are as many round trips, each paying Django's compiler and, under load, a wait for the GIL
when its answer comes back. Asked together they are one statement:
`SELECT (SELECT COUNT(*) FROM (<first>) AS counted), (SELECT COUNT(*) FROM (<second>) …)`."""

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet


def counts_at_once(querysets: Mapping[str, QuerySet[Any]]) -> dict[str, int]:
    """`{name: queryset.count()}` in one statement. Each queryset keeps its own filters (and
    brand scoping); querysets of different databases (a replica) are counted one by one."""
    if not querysets:
        return {}
    databases = {queryset.db for queryset in querysets.values()}
    if len(databases) != 1:
        return {name: queryset.count() for name, queryset in querysets.items()}
    counts: dict[str, int] = {}
    parts: list[str] = []
    params: list[Any] = []
    asked: list[str] = []
    for name, queryset in querysets.items():
        try:
            sql, found = queryset.order_by().values("pk").query.sql_with_params()
        except EmptyResultSet:  # `.none()`, or a filter on an empty set: nothing to ask
            counts[name] = 0
            continue
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS counted)")  # noqa: S608 Django compiled it; values stay params
        params.extend(found)
        asked.append(name)
    if parts:
        with connections[databases.pop()].cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(parts), params)
            row = cursor.fetchone()
        counts.update({name: int(n) for name, n in zip(asked, row, strict=True)})
    return {name: counts[name] for name in querysets}
