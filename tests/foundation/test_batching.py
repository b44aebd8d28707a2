"""core.batching: reads made once per batch, rows inserted together at its end, and what a
rolled-back order deferred dropped with it."""

import pytest
from django.db import transaction

from audit.models import AuditEvent
from audit.services import audit_record
from core import batching


def test_memo_computes_once_inside_a_scope_and_every_time_outside() -> None:
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert batching.memo("k", compute) == 1
    assert batching.memo("k", compute) == 2
    with batching.batch_scope():
        assert batching.memo("k", compute) == 3
        assert batching.memo("k", compute) == 3
        with batching.batch_scope() as inner:  # a nested scope is the outer one
            assert batching.memo("k", compute) == 3
            assert inner is batching.current()
    assert batching.current() is None


@pytest.mark.django_db
def test_deferred_rows_are_inserted_in_order_when_the_scope_ends() -> None:
    with transaction.atomic(), batching.batch_scope():
        for n in range(3):
            audit_record(action=f"test.batched_{n}")
        assert not AuditEvent.objects.filter(action__startswith="test.batched_").exists()
    rows = list(AuditEvent.objects.filter(action__startswith="test.batched_").order_by("pk"))
    assert [row.action for row in rows] == ["test.batched_0", "test.batched_1", "test.batched_2"]


@pytest.mark.django_db
def test_rollback_to_drops_what_was_deferred_since_the_mark_and_forgets_the_memo() -> None:
    with transaction.atomic(), batching.batch_scope():
        audit_record(action="test.kept")
        batching.memo("k", lambda: "before")
        mark = batching.checkpoint()
        audit_record(action="test.dropped")
        batching.rollback_to(mark)
        assert batching.memo("k", lambda: "after") == "after"
    assert AuditEvent.objects.filter(action="test.kept").count() == 1
    assert not AuditEvent.objects.filter(action="test.dropped").exists()


@pytest.mark.django_db
def test_an_exception_drops_the_deferred_rows() -> None:
    def failing_batch() -> None:
        with transaction.atomic(), batching.batch_scope():
            audit_record(action="test.never")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        failing_batch()
    assert not AuditEvent.objects.filter(action="test.never").exists()


@pytest.mark.django_db
def test_outside_a_scope_audit_rows_are_written_at_once() -> None:
    event = audit_record(action="test.at_once")
    assert event.pk is not None
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_collected_items_are_flushed_once_per_key_in_order_and_dropped_with_a_rollback() -> None:
    flushed: list[tuple[str, list[int]]] = []

    def flush_a(items: list[int]) -> None:
        flushed.append(("a", items))

    def flush_b(items: list[int]) -> None:
        flushed.append(("b", items))

    assert batching.defer_collect("a", 0, flush_a) is False  # outside a scope: the caller acts
    with batching.batch_scope():
        assert batching.defer_collect("a", 1, flush_a) is True
        batching.defer_collect("b", 2, flush_b)
        mark = batching.checkpoint()
        batching.defer_collect("a", 3, flush_a)  # a rolled-back order's item
        batching.rollback_to(mark)
        batching.defer_collect("a", 4, flush_a)
        assert flushed == []  # nothing before the scope ends
    assert flushed == [("a", [1, 4]), ("b", [2])]


@pytest.mark.django_db
def test_rows_a_collection_defers_while_flushing_are_inserted_too() -> None:
    def flush(items: list[str]) -> None:
        for action in items:
            audit_record(action=action)  # deferred again: the scope is still open

    with transaction.atomic(), batching.batch_scope():
        batching.defer_collect("audit", "collected.one", flush)
        batching.defer_collect("audit", "collected.two", flush)
        assert not AuditEvent.objects.filter(action__startswith="collected.").exists()
    assert list(
        AuditEvent.objects.filter(action__startswith="collected.").order_by("pk").values_list("action", flat=True)
    ) == [
        "collected.one",
        "collected.two",
    ]


def test_collected_lists_what_is_held_under_a_key_until_flushed_or_rolled_back() -> None:
    flushed: list[list[str]] = []
    assert batching.collected("k") == []
    with batching.batch_scope():
        batching.defer_collect("k", "a", flushed.append)
        batching.defer_collect("other", "x", lambda items: None)
        mark = batching.checkpoint()
        batching.defer_collect("k", "b", flushed.append)
        assert batching.collected("k") == ["a", "b"]
        batching.rollback_to(mark)
        assert batching.collected("k") == ["a"]
        batching.defer_collect("k", "c", flushed.append)
        assert batching.collected("k") == ["a", "c"]
        assert batching.collected("other") == ["x"]
    assert flushed == [["a", "c"]]
    assert batching.collected("k") == []
