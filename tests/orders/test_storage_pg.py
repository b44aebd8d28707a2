"""How orders are stored on PostgreSQL (decision 0058): the VTEX document compressed with lz4,
history tables indexed only for how they are read (by object, by time, by user)."""

import pytest
from django.db import connection

from orders.models import Order

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _indexed_columns(table: str) -> set[str]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {",".join(c["columns"]) for c in constraints.values() if c["index"] or c["primary_key"]}


@pytest.mark.parametrize("table", ["orders_historicalorder", "commissions_historicalcommission"])
def test_history_keeps_only_the_indexes_it_is_read_by(table):
    assert _indexed_columns(table) == {"history_id", "id", "history_date", "history_user_id"}


def test_the_vtex_document_is_compressed_with_lz4(brand_a):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)")
        if cursor.fetchone() is None:
            pytest.skip("this PostgreSQL was built without lz4")
    # Large and varied enough to be compressed inline.
    items = [{"id": str(i), "name": f"Produto número {i}", "price": i * 1013} for i in range(400)]
    order = Order.objects.create(brand=brand_a, vtex_order_id="lz4-01", snapshot={"orderId": "lz4-01", "items": items})
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_column_compression(snapshot) FROM orders_order WHERE id = %s", [order.pk])
        assert cursor.fetchone()[0] == "lz4"
    assert Order.objects.get(pk=order.pk).snapshot["items"][399]["price"] == 399 * 1013
