"""The one way our services take row locks (saleor's `lock_objects.py`, one helper module per
app: `<app>/locks.py`, built on `lock_rows`).

`SELECT … FOR NO KEY UPDATE OF <the model's own table> … ORDER BY pk`:

- `OF self`: a query that joins (`select_related`) loads the brand, the influencer or the
  campaign without locking their rows, so a manager saving the brand or an influencer editing
  their profile does not wait for it;
- `NO KEY UPDATE`: what PostgreSQL's own UPDATE of non-key columns takes. It still excludes every
  other locker and writer of the row, but not the `FOR KEY SHARE` check a foreign key makes, so
  an order, a click or a code inserted for the brand, the campaign or the code being changed does
  not wait for the change to commit (tests/foundation/test_narrow_locks.py);
- primary-key order: two callers locking overlapping sets take the rows in the same order and
  cannot deadlock.

Only a transaction that deletes the row or changes its primary/unique key needs `FOR UPDATE`;
none of our services does that under these locks. Call every helper inside a transaction.
"""

from typing import Any

from django.db.models import QuerySet


def lock_rows[M: Any](queryset: QuerySet[M], *, skip_locked: bool = False) -> QuerySet[M]:
    """`queryset` locked as described above (lazily: evaluate it inside the transaction)."""
    return queryset.select_for_update(of=("self",), no_key=True, skip_locked=skip_locked).order_by("pk")


def lock_latest[M: Any](queryset: QuerySet[M], *, by: str) -> M | None:
    """The one row of `queryset` with the highest `by`, locked the same way (a single row, so
    the primary-key order does not matter): the head of a chain, which serialises its writers."""
    return queryset.select_for_update(of=("self",), no_key=True).order_by(f"-{by}").first()
