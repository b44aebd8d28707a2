"""core.bulk: Django's bulk_update and bulk_create in one UPDATE … FROM unnest(…) or INSERT …
SELECT * FROM unnest(…) on PostgreSQL, the same rows as Django's own."""

from datetime import timedelta
from decimal import Decimal

import psycopg
import pytest
from django.db import DataError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core import bulk
from core.bulk import rows_insert, rows_update
from orders.models import Order, OrderLine
from payments.models import CommissionPosition
from webhooks.models import WebhookEndpoint

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


@pytest.mark.parametrize(("count", "shape"), [(3, "VALUES ("), (12, "unnest(")])  # 30 values, 120
def test_rows_insert_writes_rows_as_bulk_create_does_with_their_ids_and_timestamps(brand_a, influencer_a, count, shape):
    """Up to 50 values go as VALUES (psycopg caches the parsing of such statements only), more
    as one array per column; both give each row its id."""
    assert psycopg._queries.MAX_CACHED_STATEMENT_PARAMS == bulk._VALUES_MAX_PARAMS
    rows = [
        CommissionPosition(brand=brand_a, influencer=influencer_a, commission_ref=f"i{i}", estimated_cents=i)
        for i in range(count)
    ]
    with CaptureQueriesContext(connection) as captured:
        rows_insert(rows)
    assert len(captured.captured_queries) == 1
    if connection.vendor == "postgresql":
        assert shape in captured.captured_queries[0]["sql"]
    stored = {p.commission_ref: p for p in CommissionPosition.objects.all()}
    assert [row.pk for row in rows] == [stored[f"i{i}"].pk for i in range(count)]
    assert all(not row._state.adding for row in rows)
    assert [stored[f"i{i}"].estimated_cents for i in range(count)] == list(range(count))

    # The same references again, skipped on the unique constraint; a new one goes in.
    again = [
        CommissionPosition(brand=brand_a, influencer=influencer_a, commission_ref=ref, estimated_cents=99)
        for ref in ("i0", "new")
    ]
    rows_insert(again, ignore_conflicts=True)
    assert CommissionPosition.objects.get(commission_ref="i0").estimated_cents == 0
    assert CommissionPosition.objects.get(commission_ref="new").estimated_cents == 99


def test_rows_insert_refuses_a_value_too_long_instead_of_cutting_it(brand_a, influencer_a):
    too_long = CommissionPosition(brand=brand_a, influencer=influencer_a, commission_ref="x" * 201)
    fine = CommissionPosition(brand=brand_a, influencer=influencer_a, commission_ref="ok")
    if connection.vendor != "postgresql":
        pytest.skip("SQLite does not enforce a column's length")
    more = [CommissionPosition(brand=brand_a, influencer=influencer_a, commission_ref=f"m{i}") for i in range(9)]
    with pytest.raises(DataError), transaction.atomic():
        rows_insert([*more, too_long])  # arrays, cast to the bare type
    with pytest.raises(DataError), transaction.atomic():
        rows_insert([fine, too_long])  # a few rows go as VALUES, without the arrays' casts
    with pytest.raises(DataError), transaction.atomic():
        rows_insert([too_long])
    assert not CommissionPosition.objects.exists()


def test_rows_update_refuses_a_value_too_long_instead_of_cutting_it(brand_a, influencer_a):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite does not enforce a column's length")
    row = CommissionPosition.objects.create(brand=brand_a, influencer=influencer_a, commission_ref="short")
    row.commission_ref = "y" * 201
    with pytest.raises(DataError), transaction.atomic():
        rows_update([row], ["commission_ref"])
    assert CommissionPosition.objects.get(pk=row.pk).commission_ref == "short"


# Values the arrays must carry as Django's own statements would: quotes, braces, backslashes, the
# word NULL, the empty string, non-ASCII text, integers past 32 bits beside small ones, JSON of
# every shape, booleans, decimals, datetimes and columns left NULL.
_AWKWARD_TEXTS = ['say "hi"', "{a,b}", "back\\slash", "NULL", "", "ação ñ 🛒", "tab\there", " lead"]


def _awkward_lines(order, start):
    return [
        OrderLine(
            order=order,
            item_index=start + i,
            sku_id=text,
            name=text * 3,
            quantity=i + 1,
            unit_price_cents=(2**40 if i % 2 else 7) * (-1 if i == 3 else 1),
            total_cents=i,
            is_gift=bool(i % 2),
            category_ids=[["1", "2"], {"k": text, "n": None}, [], 0, 3.5, text, True, {}][i],
            collection_ids=[],
        )
        for i, text in enumerate(_AWKWARD_TEXTS)
    ]


def test_rows_insert_writes_awkward_values_exactly_as_bulk_create(brand_a):
    order = Order.objects.create(brand=brand_a, vtex_order_id="bulk-01", fx_rate=Decimal("4123.123456"))
    fields = [f.attname for f in OrderLine._meta.concrete_fields if not f.primary_key]
    OrderLine.objects.bulk_create(_awkward_lines(order, 0))
    lines = _awkward_lines(order, 100)
    for start in range(0, len(lines), 2):
        rows_insert(lines[start : start + 2])  # two rows of 18 values: as VALUES
    rows_insert(_awkward_lines(order, 200) + _awkward_lines(order, 300))  # as arrays
    stored = {line["item_index"]: line for line in OrderLine.objects.filter(order=order).values(*fields)}
    assert len(stored) == 4 * len(_AWKWARD_TEXTS)
    for start in (100, 200, 300):
        for i in range(len(_AWKWARD_TEXTS)):
            ours, django = dict(stored[start + i]), dict(stored[i])
            assert ours.pop("item_index") == start + i
            assert django.pop("item_index") == i
            assert ours == django

    again = Order(brand=brand_a, vtex_order_id="bulk-02", fx_rate=Decimal("4123.123456"), coupon="{x}")
    rows_insert([again])
    assert Order.objects.filter(pk=again.pk).values_list("fx_rate", "coupon", "created_at").get() == (
        Decimal("4123.123456"),
        "{x}",
        again.created_at,
    )


def test_rows_insert_prepares_a_field_subclass_its_own_way(brand_a):
    """An encrypted field (a TextField subclass) is stored encrypted, as `save()` stores it."""
    endpoint = WebhookEndpoint(brand=brand_a, url="https://example.com/hook", secret="s3cret-value")
    rows_insert([endpoint])
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM webhooks_webhookendpoint WHERE id = %s", [endpoint.pk])
        (raw,) = cursor.fetchone()
    assert "s3cret-value" not in raw
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).secret == "s3cret-value"
