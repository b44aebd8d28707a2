"""Finance's back office: change-list totals count each withdrawal once, the ledger account
list sums balances in one query, and the bulk approve action reports per row."""

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.money import format_minor
from payments.models import LedgerAccount, PayoutSettings, Withdrawal
from payments.selectors import balances_for
from payments.services import withdrawal_approve, withdrawal_reject, withdrawal_request_create
from tests.factories import InfluencerFactory, MembershipFactory
from tests.payments.conftest import give_payout_account, make_available

pytestmark = pytest.mark.django_db


def _request(brand: Any, influencer: Any, amount: str) -> Withdrawal:
    return withdrawal_request_create(influencer=influencer, brand=brand, amount=amount, requested_by=influencer.user)


def test_changelist_totals_count_a_withdrawal_with_two_approvals_once(
    brand_a: Any, funded: Any, finance_a: Any, finance_a2: Any, verified_client: Any
) -> None:
    PayoutSettings.objects.create(brand=brand_a, second_approval_threshold_cents=100_00)
    withdrawal = _request(brand_a, funded, "500.00")
    withdrawal_approve(withdrawal=withdrawal, approver=finance_a)
    withdrawal = withdrawal_approve(withdrawal=withdrawal, approver=finance_a2)
    assert (withdrawal.status, withdrawal.approvals.count()) == (Withdrawal.Status.APPROVED, 2)

    response = verified_client(finance_a).get(reverse("admin:payments_withdrawal_changelist"))

    assert response.status_code == 200
    assert response.context["totals"] == [
        {
            "currency": brand_a.currency,
            "status": Withdrawal.Status.APPROVED.label,
            "count": 1,
            "total": format_minor(500_00, brand_a.currency),
            "net": format_minor(500_00, brand_a.currency),
        }
    ]
    assert "2/2" in response.content.decode()


def test_changelist_totals_follow_the_waiting_for_second_approval_filter(
    brand_a: Any, funded: Any, finance_a: Any, verified_client: Any
) -> None:
    PayoutSettings.objects.create(brand=brand_a, second_approval_threshold_cents=100_00)
    waiting = _request(brand_a, funded, "300.00")
    withdrawal_approve(withdrawal=waiting, approver=finance_a)
    other = _funded_influencer(brand_a, 500_00)
    give_payout_account(other)
    _request(brand_a, other, "200.00")  # no approval yet: filtered out

    response = verified_client(finance_a).get(
        reverse("admin:payments_withdrawal_changelist"), {"approvals": "waiting_second"}
    )

    totals = response.context["totals"]
    assert [(row["count"], row["total"]) for row in totals] == [(1, format_minor(300_00, brand_a.currency))]


def _funded_influencer(brand: Any, cents: int) -> Any:
    influencer = MembershipFactory(brand=brand, influencer=InfluencerFactory(), status="approved").influencer
    make_available(brand, influencer, cents)
    return influencer


def test_ledger_account_list_shows_balances_without_a_query_per_row(
    brand_a: Any, superuser: Any, verified_client: Any
) -> None:
    client = verified_client(superuser)
    url = reverse("admin:payments_ledgeraccount_changelist")
    first = _funded_influencer(brand_a, 123_45)
    client.get(url)  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as few:
        page = client.get(url)
    for cents in (10_00, 20_00, 30_00):
        _funded_influencer(brand_a, cents)
    with CaptureQueriesContext(connection) as many:
        client.get(url)

    assert LedgerAccount.objects.count() > 8
    assert len(many) == len(few)
    available = balances_for(brand=brand_a, influencer=first)["available"]
    assert available == 123_45
    assert format_minor(available, brand_a.currency) in page.content.decode()


def test_bulk_approve_reports_each_refusal_and_counts_the_rest(
    brand_a: Any, funded: Any, finance_a: Any, verified_client: Any
) -> None:
    refused = _request(brand_a, funded, "200.00")
    withdrawal_reject(withdrawal=refused, actor=finance_a, reason="Duplicated")
    good = _request(brand_a, funded, "100.00")

    response = verified_client(finance_a).post(
        reverse("admin:payments_withdrawal_changelist"),
        {"action": "approve_selected", "_selected_action": [good.pk, refused.pk]},
    )

    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert "1 approval recorded." in texts
    assert any(text.startswith(f"{refused}: ") for text in texts)
    good.refresh_from_db()
    refused.refresh_from_db()
    assert (good.status, refused.status) == (Withdrawal.Status.APPROVED, Withdrawal.Status.REJECTED)


def test_bulk_approve_says_which_wait_for_a_second_approval(
    brand_a: Any, funded: Any, finance_a: Any, verified_client: Any
) -> None:
    PayoutSettings.objects.create(brand=brand_a, second_approval_threshold_cents=100_00)
    big = _request(brand_a, funded, "500.00")

    response = verified_client(finance_a).post(
        reverse("admin:payments_withdrawal_changelist"), {"action": "approve_selected", "_selected_action": [big.pk]}
    )

    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert texts == ["1 approval recorded.", "1 withdrawal now waits for a second approval by someone else."]
    big.refresh_from_db()
    assert big.status == Withdrawal.Status.REQUESTED
    assert big.approvals.count() == 1
