"""core.counting.counts_at_once: several counts in one statement, each exactly what its own
`count()` says, with its filters and brand scoping; empty querysets ask nothing."""

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from affiliates.models import Membership
from brands.scoping import scope_queryset
from core.counting import counts_at_once
from tests.factories import BrandFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def test_counts_asked_together_are_each_querysets_own_count_in_one_statement() -> None:
    brand_a, brand_b = BrandFactory(), BrandFactory()
    for status, n in ((Membership.Status.PENDING, 3), (Membership.Status.APPROVED, 2)):
        for _ in range(n):
            MembershipFactory(brand=brand_a, status=status)
    MembershipFactory(brand=brand_b, status=Membership.Status.PENDING)
    pending = Membership.objects.filter(status=Membership.Status.PENDING)
    querysets: dict[str, Any] = {
        "pending_a": scope_queryset(pending, {brand_a.pk}, brand_field="brand"),
        "pending_everywhere": pending,
        "approved_b": Membership.objects.filter(brand=brand_b, status=Membership.Status.APPROVED),
        "no_brand": scope_queryset(pending, set(), brand_field="brand"),  # staff with no brand
        "none": Membership.objects.none(),
        "ordered": pending.order_by("-created_at").select_related("brand"),
    }
    expected = {name: queryset.count() for name, queryset in querysets.items()}
    assert expected == {
        "pending_a": 3,
        "pending_everywhere": 4,
        "approved_b": 0,
        "no_brand": 0,
        "none": 0,
        "ordered": 4,
    }
    with CaptureQueriesContext(connection) as queries:
        assert counts_at_once(querysets) == expected
    assert len(queries) == 1
    assert list(counts_at_once(querysets)) == list(querysets)  # in the order asked


def test_nothing_to_count_asks_nothing() -> None:
    with CaptureQueriesContext(connection) as queries:
        assert counts_at_once({}) == {}
        assert counts_at_once({"none": Membership.objects.none()}) == {"none": 0}
    assert len(queries) == 0
