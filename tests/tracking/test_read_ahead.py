"""What a batch of orders reads ahead for attribution (orders.services.orders.orders_read_ahead):
the conversions of its orders and the codes typed as their coupons, one query each, answered
as each order's own query would answer."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from codes.models import Code
from codes.selectors import code_get_by_text, codes_read_ahead
from core import batching
from tracking.models import Conversion
from tracking.touchpoints import _conversions_of, conversions_read_ahead

pytestmark = pytest.mark.django_db


def _conversion(brand, ref: str, minutes: int, visitor: str) -> Conversion:
    return Conversion.objects.create(
        brand=brand,
        order_ref=ref,
        visitor_id=visitor,
        source="script",
        occurred_at=timezone.now() - timedelta(minutes=minutes),
    )


def test_conversions_read_ahead_answer_as_the_query_would(brand_a, brand_b):
    a_old = _conversion(brand_a, "1001-01", 30, "v" * 32)
    a_new = _conversion(brand_a, "1001", 5, "w" * 32)  # the order group
    _conversion(brand_a, "1002-01", 1, "x" * 32)
    _conversion(brand_b, "1001-01", 1, "y" * 32)  # another brand's
    alone = list(Conversion.objects.filter(brand=brand_a, order_ref__in={"1001-01", "1001"}))

    with batching.batch_scope():
        with CaptureQueriesContext(connection) as ahead:
            conversions_read_ahead(brand_id=brand_a.pk, refs=["1001-01", "1001", "1003-01", "1003", ""])
        assert len(ahead.captured_queries) == 1
        with CaptureQueriesContext(connection) as reads:
            assert _conversions_of(brand=brand_a, refs={"1001-01", "1001"}) == alone == [a_new, a_old]
            assert _conversions_of(brand=brand_a, refs={"1003-01", "1003"}) == []
        assert reads.captured_queries == []
        # A reference the batch did not ask about is read as before.
        with CaptureQueriesContext(connection) as other:
            assert [c.order_ref for c in _conversions_of(brand=brand_a, refs={"1002-01"})] == ["1002-01"]
        assert len(other.captured_queries) == 1

    # Outside a batch: the query, every time.
    with CaptureQueriesContext(connection) as outside:
        assert _conversions_of(brand=brand_a, refs={"1001-01", "1001"}) == alone
    assert len(outside.captured_queries) == 1


def test_codes_read_ahead_answer_as_code_get_by_text_would(brand_a, brand_b, campaign_a, influencer_a):
    code = Code.objects.create(brand=brand_a, campaign=campaign_a, influencer=influencer_a, text="MARIA10")
    with batching.batch_scope():
        with CaptureQueriesContext(connection) as ahead:
            found = codes_read_ahead(brand=brand_a, texts=["maria10", " Maria10 ", "NOPE", "", "ÑANDÚ"])
        assert len(ahead.captured_queries) == 1
        assert found == [code]
        assert found[0].influencer.user is not None  # handed on with its user, no query later
        with CaptureQueriesContext(connection) as reads:
            assert code_get_by_text(brand=brand_a, text="maria10") == code
            assert code_get_by_text(brand=brand_a, text="MARIA10") == code
            assert code_get_by_text(brand=brand_a, text="nope") is None  # known absent
        assert reads.captured_queries == []
        # Not ASCII: left to its own case-insensitive query; another brand is another memo.
        with CaptureQueriesContext(connection) as others:
            assert code_get_by_text(brand=brand_a, text="ñandú") is None
            assert code_get_by_text(brand=brand_b, text="MARIA10") is None
        assert len(others.captured_queries) == 2

    # Outside a batch nothing is read ahead.
    with CaptureQueriesContext(connection) as outside:
        assert codes_read_ahead(brand=brand_a, texts=["MARIA10"]) == []
    assert outside.captured_queries == []
