"""A batch of work in one transaction (orders.services.batch applies a hundred VTEX orders at
once): reads that do not change while it runs are made once, and rows that nothing reads back
before the commit are written together at its end.

    with transaction.atomic(), batch_scope():
        ...  # services call memo() and defer_insert()

- `memo(key, compute)`: inside a scope, `compute()` once per key (a brand, an influencer with
  its user, a campaign's rules, a brand's webhook endpoints, ledger accounts already locked in
  this transaction); outside a scope, `compute()` every time. Only for what the batch itself
  does not change, or changes only through the same memo.
- `defer_insert(obj)`: inside a scope, keep an unsaved model instance and INSERT it with the
  others of its model in one INSERT (`core.bulk.rows_insert`) when the scope ends, still inside the transaction,
  in the order they were deferred (the audit log: its rows are sealed into the hash chain in
  id order after they commit, audit.services.audit_chain_seal). Outside a scope: returns False
  and the caller saves the row itself. Only for rows without signals, history or readers
  before the commit.
- `defer_collect(key, item, flush)`: inside a scope, keep `item` under `key`; when the scope
  ends, `flush(items)` runs once per key with every item collected under it, in the order
  they came, before the deferred rows are inserted (what it defers in turn is inserted after).
  The ledger accrues an influencer's commissions of the whole batch in one posting this way.
  Outside a scope: returns False and the caller does the work itself.
- `memo_set(key, value)` / `memo_take(key, compute)` / `memo_peek(key)`: a batch reads ahead in
  one statement what each of its items would read alone (its orders, locked; their lines and
  commissions), and each item takes its part once (a second take computes afresh).
- `collected(key)`: the items collected under `key` so far and not yet flushed, in order: a
  reader of rows the batch writes at its end (fraud screening's order signals) sees those the
  batch already has in hand. What a rolled-back savepoint collected is gone from it too.
- `checkpoint()` / `rollback_to(mark)`: a caller that rolls a savepoint back (one bad order of a
  batch) drops the rows and items deferred since the mark and forgets every memo (a memoized row may have
  been created, or a lock taken, inside the savepoint).

A scope opened inside another one is the outer one. Contexts are per thread (contextvars): the
batch fetch's threads never see it.
"""

import contextvars
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db.models import Model

from core.bulk import rows_insert

# Rows per INSERT when a scope ends (one array per column, so the statement's size grows with it).
_INSERT_CHUNK = 1000


@dataclass(frozen=True)
class _Collected:
    key: Hashable
    item: Any
    flush: Callable[[list[Any]], None]


class BatchScope:
    def __init__(self) -> None:
        self.memo: dict[Hashable, Any] = {}
        # Deferred rows and collected items in one list, so a checkpoint is one position.
        self.deferred: list[tuple[Model, bool] | _Collected] = []
        # Where each key's collected items are in `deferred` (for `collected`, without a scan).
        self.positions: dict[Hashable, list[int]] = {}

    def flush(self) -> int:
        """Run the collections, then insert the rows; again for what the collections deferred."""
        inserted = 0
        while self.deferred:
            entries, self.deferred = self.deferred, []
            self.positions = {}
            collections: dict[Hashable, tuple[Callable[[list[Any]], None], list[Any]]] = {}
            by_model: dict[tuple[type[Model], bool], list[Model]] = {}
            for entry in entries:
                if isinstance(entry, _Collected):
                    collections.setdefault(entry.key, (entry.flush, []))[1].append(entry.item)
                else:
                    by_model.setdefault((type(entry[0]), entry[1]), []).append(entry[0])
            for flush, items in collections.values():
                flush(items)
            for (_model, ignore_conflicts), instances in by_model.items():
                for start in range(0, len(instances), _INSERT_CHUNK):
                    rows_insert(instances[start : start + _INSERT_CHUNK], ignore_conflicts=ignore_conflicts)
                inserted += len(instances)
        return inserted


_current: contextvars.ContextVar[BatchScope | None] = contextvars.ContextVar("mgm_batch_scope", default=None)


@contextmanager
def batch_scope() -> Iterator[BatchScope]:
    """Open a scope (or join the one already open). The deferred rows are inserted when the
    outermost scope ends normally; an exception drops them with the transaction's work."""
    outer = _current.get()
    if outer is not None:
        yield outer
        return
    scope = BatchScope()
    token = _current.set(scope)
    try:
        yield scope
        scope.flush()
    finally:
        _current.reset(token)


def current() -> BatchScope | None:
    return _current.get()


def memo[T](key: Hashable, compute: Callable[[], T]) -> T:
    scope = _current.get()
    if scope is None:
        return compute()
    if key not in scope.memo:
        scope.memo[key] = compute()
    value: T = scope.memo[key]
    return value


_MISSING: Any = object()


def memo_set(key: Hashable, value: Any) -> None:
    """Store what a batch read ahead for many items at once (the orders of a batch, locked in one
    statement), for `memo_take` or `memo` to hand out. Nothing outside a scope."""
    scope = _current.get()
    if scope is not None:
        scope.memo[key] = value


def memo_peek(key: Hashable, default: Any = None) -> Any:
    """What `memo_set` or `memo` stored under `key`, without computing or removing it."""
    scope = _current.get()
    return default if scope is None else scope.memo.get(key, default)


def memo_take[T](key: Hashable, compute: Callable[[], T]) -> T:
    """What was read ahead under `key`, removed so a second use reads afresh, else `compute()`:
    for rows the caller goes on to change (an order's lines, its commissions)."""
    scope = _current.get()
    if scope is not None:
        value = scope.memo.pop(key, _MISSING)
        if value is not _MISSING:
            taken: T = value
            return taken
    return compute()


def memo_forget(key: Hashable) -> None:
    scope = _current.get()
    if scope is not None:
        scope.memo.pop(key, None)


def defer_insert(obj: Model, *, ignore_conflicts: bool = False) -> bool:
    """Keep `obj` for the scope's INSERT (`ignore_conflicts`: a row that breaks a unique
    constraint is skipped, for rows unique per fact). False outside a scope."""
    scope = _current.get()
    if scope is None:
        return False
    scope.deferred.append((obj, ignore_conflicts))
    return True


def defer_collect(key: Hashable, item: Any, flush: Callable[[list[Any]], None]) -> bool:
    """Keep `item` for `flush(items)` of its `key` when the scope ends. False outside a scope."""
    scope = _current.get()
    if scope is None:
        return False
    scope.positions.setdefault(key, []).append(len(scope.deferred))
    scope.deferred.append(_Collected(key=key, item=item, flush=flush))
    return True


def collected(key: Hashable) -> list[Any]:
    """The items `defer_collect` holds under `key`, not flushed yet, in the order they came.
    Empty outside a scope."""
    scope = _current.get()
    if scope is None:
        return []
    entries = scope.deferred
    return [entries[position].item for position in scope.positions.get(key, ())]  # type: ignore[union-attr]


def checkpoint() -> int:
    scope = _current.get()
    return len(scope.deferred) if scope is not None else 0


def rollback_to(mark: int) -> None:
    scope = _current.get()
    if scope is None:
        return
    del scope.deferred[mark:]
    for positions in scope.positions.values():
        while positions and positions[-1] >= mark:
            positions.pop()
    scope.memo.clear()
