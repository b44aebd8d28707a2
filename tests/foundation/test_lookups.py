"""core.lookups: `__any` finds what `__in` finds, as one statement text whatever the list's length."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payments.models import CommissionPosition

pytestmark = pytest.mark.django_db


@pytest.fixture
def positions(brand_a, influencer_a):
    return [
        CommissionPosition.objects.create(brand=brand_a, influencer=influencer_a, commission_ref=ref)
        for ref in ("commission:1", "commission:2", 'it\'s "quoted"', "{a,b}", "ação")
    ]


@pytest.mark.parametrize(
    "wanted",
    [
        ["commission:1"],
        ["commission:2", 'it\'s "quoted"', "{a,b}", "ação", "commission:404"],
        ["commission:1", "commission:1", None],
        [],
    ],
)
def test_any_finds_what_in_finds(positions, wanted):
    by_in = set(CommissionPosition.objects.filter(commission_ref__in=wanted).values_list("pk", flat=True))
    by_any = set(CommissionPosition.objects.filter(commission_ref__any=wanted).values_list("pk", flat=True))
    assert by_any == by_in


def test_any_on_integers(positions):
    pks = [positions[0].pk, positions[3].pk, 2**40]
    assert set(CommissionPosition.objects.filter(pk__any=pks).values_list("commission_ref", flat=True)) == {
        "commission:1",
        "{a,b}",
    }


def test_a_value_longer_than_the_column_matches_nothing(positions):
    """The array is cast to the bare type: a longer value is not cut to the column's length
    (where it would match the row it starts like)."""
    length = CommissionPosition._meta.get_field("commission_ref").max_length
    longer = "commission:1" + "x" * length
    assert not CommissionPosition.objects.filter(commission_ref__any=[longer]).exists()


def test_one_statement_text_whatever_the_lists_length(positions):
    if connection.vendor != "postgresql":
        pytest.skip("other databases get __in's SQL")
    compiled = [
        CommissionPosition.objects.filter(commission_ref__any=[f"commission:{n}" for n in range(count)])
        .query.get_compiler(connection=connection)
        .as_sql()
        for count in (1, 3, 50)
    ]
    assert len({sql for sql, _params in compiled}) == 1
    sql, params = compiled[2]
    assert '"payments_commissionposition"."commission_ref" = ANY(%s::varchar[])' in sql
    assert params == ([f"commission:{n}" for n in range(50)],)
    with CaptureQueriesContext(connection) as captured:
        assert len(CommissionPosition.objects.filter(commission_ref__any=["commission:1", "commission:2"])) == 2
    assert len(captured.captured_queries) == 1
