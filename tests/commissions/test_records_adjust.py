from typing import Any

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from commissions.models import Commission
from commissions.services.adjustments import CommissionAdjustmentInvalid, commission_adjust
from orders.services import order_apply
from payments.models import CommissionPosition, LedgerTransaction
from payments.services.ledger import Posting, accounts_lock, post
from tests.orders.conftest import (  # noqa: F401 - fixtures
    campaign_a,
    code_maria,
    influencer_balances,
    maria,
    order_doc,
    setup,
)

pytestmark = pytest.mark.django_db


def test_a_manager_adjusts_a_commission_with_a_reason_audited(setup: dict[str, Any], manager_a: Any) -> None:  # noqa: F811
    order_apply(brand=setup["brand"], data=order_doc(), source="t")
    commission = Commission.objects.order_by("line__item_index").first()
    assert commission is not None
    commission_adjust(commission_id=commission.pk, amount_cents=100, reason="agreed bonus", actor=manager_a)
    commission_adjust(commission_id=commission.pk, amount_cents=-50, reason="typo", actor=manager_a)
    commission.refresh_from_db()
    assert (commission.adjustment_cents, commission.net_cents) == (50, 642)
    assert influencer_balances(setup["brand"], setup["influencer"]) == {"estimated": 1191 + 50}
    assert AuditEvent.objects.filter(action="commission.adjusted").count() == 2
    # Invoicing confirms the commission and its positive adjustment.
    order_apply(
        brand=setup["brand"], data=order_doc(status="invoiced", last_change="2024-02-06T00:00:00+00:00"), source="t"
    )
    assert influencer_balances(setup["brand"], setup["influencer"]) == {"hold": 1191 + 50}


def test_an_adjustment_without_reason_or_below_zero_changes_nothing(setup: dict[str, Any]) -> None:  # noqa: F811
    order_apply(brand=setup["brand"], data=order_doc(), source="t")
    commission = Commission.objects.order_by("line__item_index").first()
    assert commission is not None
    with pytest.raises(CommissionAdjustmentInvalid):
        commission_adjust(commission_id=commission.pk, amount_cents=10, reason=" ")
    with pytest.raises(CommissionAdjustmentInvalid):
        commission_adjust(commission_id=commission.pk, amount_cents=-10_000, reason="too much")
    commission.refresh_from_db()
    assert commission.adjustment_cents == 0
    assert not commission.adjustments.exists()
    assert influencer_balances(setup["brand"], setup["influencer"]) == {"estimated": 1191}


def test_a_return_after_payout_is_a_clawback_not_an_edit(setup: dict[str, Any]) -> None:  # noqa: F811
    brand = setup["brand"]
    order_apply(brand=brand, data=order_doc(status="invoiced", last_change="2024-02-05T10:00:00+00:00"), source="t")
    commission = Commission.objects.get(line__item_index=1)
    # Simulate the release after the hold period through the ledger's own bookkeeping.
    position = CommissionPosition.objects.get(commission_ref=commission.ledger_ref)

    accounts = accounts_lock(brand=brand, influencer_ids=[setup["influencer"].pk])
    post(
        brand=brand,
        posting=Posting(
            kind="release",
            reference="test-release",
            occurred_at=position.confirmed_at,
            lines=[
                (accounts[(setup["influencer"].pk, "hold")], "D", 449),
                (accounts[(setup["influencer"].pk, "available")], "C", 449),
            ],
        ),
    )
    CommissionPosition.objects.filter(pk=position.pk).update(held_cents=0, released_cents=449)
    order_apply(
        brand=brand,
        data=order_doc(
            status="invoiced", last_change="2024-03-01T00:00:00+00:00", returns=[{"number": "R", "items": [(1, 1)]}]
        ),
        source="t",
    )
    assert LedgerTransaction.objects.filter(kind="clawback", commission_ref=commission.ledger_ref).count() == 1
    assert influencer_balances(brand, setup["influencer"])["hold"] == 1191 - 449
    assert influencer_balances(brand, setup["influencer"]).get("available", 0) == 0


def _adjust_url(commission: Commission) -> str:
    return reverse("admin:commissions_commission_adjust", args=[commission.pk])


def test_the_admin_adjust_form_takes_the_amount_in_major_units(
    setup: dict[str, Any],  # noqa: F811
    manager_a: Any,
    verified_client: Any,
) -> None:
    order_apply(brand=setup["brand"], data=order_doc(), source="t")
    commission = Commission.objects.order_by("line__item_index").first()
    assert commission is not None
    response = verified_client(manager_a).post(_adjust_url(commission), {"amount": "150", "reason": "agreed bonus"})
    assert response.status_code == 302
    commission.refresh_from_db()
    assert commission.adjustment_cents == 15000
    assert list(commission.adjustments.values_list("amount_cents", flat=True)) == [15000]


def test_the_admin_adjust_form_refuses_an_amount_that_is_not_a_number_and_changes_nothing(
    setup: dict[str, Any],  # noqa: F811
    manager_a: Any,
    verified_client: Any,
) -> None:
    order_apply(brand=setup["brand"], data=order_doc(), source="t")
    commission = Commission.objects.order_by("line__item_index").first()
    assert commission is not None
    client = verified_client(manager_a)
    for typed, message in (("abc", "Enter an amount as you write it"), ("1.005", "Use at most 2 decimal places")):
        response = client.post(_adjust_url(commission), {"amount": typed, "reason": "bonus"})
        assert response.status_code == 200
        assert message in response.content.decode()
    commission.refresh_from_db()
    assert commission.adjustment_cents == 0
    assert not commission.adjustments.exists()
    assert not AuditEvent.objects.filter(action="commission.adjusted").exists()
    assert influencer_balances(setup["brand"], setup["influencer"]) == {"estimated": 1191}
