"""core.bulk.rows_update: Django's bulk_update in one UPDATE … FROM unnest(…) on PostgreSQL."""

from datetime import timedelta

import pytest
from django.db import DataError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.bulk import rows_insert, rows_update
from payments.models import CommissionPosition

pytestmark = pytest.mark.django_db


def test_rows_update_writes_the_fields_of_each_row_and_nothing_else(brand_a, influencer_a):
    rows = [
        CommissionPosition.objects.create(brand=brand_a, influencer=influencer_a, commission_ref=f"r{i}", held_cents=7)
        for i in range(4)
    ]
    when = timezone.now() - timedelta(days=1)
    changed = rows[:3]
    for i, row in enumerate(changed):
        row.estimated_cents = 1_000 * (i + 1)
        row.accrued_at = None if i == 1 else when + timedelta(minutes=i)
        row.held_cents = 999  # not among the fields written: stays 7
    with CaptureQueriesContext(connection) as captured:
        assert rows_update(changed, ["estimated_cents", "accrued_at"]) == 3
    assert len(captured.captured_queries) == 1
    if connection.vendor == "postgresql":
        sql = captured.captured_queries[0]["sql"]
        assert "unnest(" in sql
        assert "CASE" not in sql

    stored = {p.commission_ref: p for p in CommissionPosition.objects.all()}
    assert [stored[f"r{i}"].estimated_cents for i in range(4)] == [1_000, 2_000, 3_000, 0]
    assert [stored[f"r{i}"].accrued_at for i in range(4)] == [when, None, when + timedelta(minutes=2), None]
    assert {p.held_cents for p in stored.values()} == {7}


def test_rows_update_of_nothing_sends_nothing():
    with CaptureQueriesContext(connection) as captured:
        assert rows_update([], ["estimated_cents"]) == 0
    assert captured.captured_queries == []


def test_rows_update_refuses_a_reverse_relation(brand_a):
    with pytest.raises(TypeError):
        rows_update([brand_a], ["codes"])  # Code.brand's reverse side: no column of the brand


def test_rows_insert_writes_rows_as_bulk_create_does_with_their_ids_and_timestamps(brand_a, influencer_a):
    rows = [
        CommissionPosition(brand=brand_a, influencer=influencer_a, commission_ref=f"i{i}", estimated_cents=i)
        for i in range(3)
    ]
    with CaptureQueriesContext(connection) as captured:
        rows_insert(rows)
    assert len(captured.captured_queries) == 1
    if connection.vendor == "postgresql":
        assert "unnest(" in captured.captured_queries[0]["sql"]
    stored = {p.commission_ref: p for p in CommissionPosition.objects.all()}
    assert [row.pk for row in rows] == [stored[f"i{i}"].pk for i in range(3)]
    assert all(not row._state.adding for row in rows)
    assert [stored[f"i{i}"].estimated_cents for i in range(3)] == [0, 1, 2]

    # The same references again, skipped on the unique constraint; a new one goes in.
    again = [
        CommissionPosition(brand=brand_a, influencer=influencer_a, commission_ref=ref, estimated_cents=99)
        for ref in ("i0", "i9")
    ]
    rows_insert(again, ignore_conflicts=True)
    assert CommissionPosition.objects.get(commission_ref="i0").estimated_cents == 0
    assert CommissionPosition.objects.get(commission_ref="i9").estimated_cents == 99


def test_rows_insert_refuses_a_value_too_long_instead_of_cutting_it(brand_a, influencer_a):
    too_long = CommissionPosition(brand=brand_a, influencer=influencer_a, commission_ref="x" * 201)
    fine = CommissionPosition(brand=brand_a, influencer=influencer_a, commission_ref="ok")
    if connection.vendor != "postgresql":
        pytest.skip("SQLite does not enforce a column's length")
    with pytest.raises(DataError), transaction.atomic():
        rows_insert([fine, too_long])
    assert not CommissionPosition.objects.exists()


def test_rows_update_refuses_a_value_too_long_instead_of_cutting_it(brand_a, influencer_a):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite does not enforce a column's length")
    row = CommissionPosition.objects.create(brand=brand_a, influencer=influencer_a, commission_ref="short")
    row.commission_ref = "y" * 201
    with pytest.raises(DataError), transaction.atomic():
        rows_update([row], ["commission_ref"])
    assert CommissionPosition.objects.get(pk=row.pk).commission_ref == "short"
