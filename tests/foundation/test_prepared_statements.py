"""PostgreSQL binds parameters on the server and prepares what a connection runs again
(decision 0058): the same query text each time, parsed and planned once per connection."""

import pytest
from django.db import connection
from django.db.models import Count, Value
from django.db.models.functions import Concat

from orders.models import Order

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _prepared_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ['%"orders_order"%'])
        return int(cursor.fetchone()[0])


def test_a_query_run_again_is_prepared_with_its_parameters_bound_apart(brand_a):
    Order.objects.create(brand=brand_a, vtex_order_id="prep-01", coupon="it's {x}")
    before = _prepared_count()
    for _ in range(6):
        # A value that client binding would have to quote into the SQL text.
        assert list(Order.objects.filter(coupon="it's {x}").values_list("vtex_order_id", flat=True)) == ["prep-01"]
    assert _prepared_count() == before + 1


def test_an_aggregate_grouped_by_a_parameterised_expression_still_runs(brand_a):
    """The classic case server binding can break: the same parameter in SELECT and GROUP BY."""
    Order.objects.create(brand=brand_a, vtex_order_id="prep-02", status="invoiced")
    rows = list(
        Order.objects.annotate(label=Concat(Value("status: "), "status"))
        .values("label")
        .annotate(n=Count("id"))
        .order_by("label")
    )
    assert rows == [{"label": "status: invoiced", "n": 1}]
