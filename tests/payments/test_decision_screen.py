"""Finance's withdrawal screen: the context to decide, and only the buttons the person may use."""

from typing import Any

import pytest
from django.urls import reverse

from payments.models import Withdrawal
from payments.services import withdrawal_request_create
from tracking.models import FraudFlag

pytestmark = pytest.mark.django_db


@pytest.fixture
def withdrawal(funded: Any, brand_a: Any) -> Withdrawal:
    return withdrawal_request_create(influencer=funded, brand=brand_a, amount="300", requested_by=funded.user)


def test_the_withdrawal_page_shows_balances_account_risk_and_history(verified_client, finance_a, withdrawal, brand_a):
    FraudFlag.objects.create(
        brand=brand_a, influencer=withdrawal.influencer, rule="coupon_leak", subject="order", subject_ref="77-01"
    )
    html = verified_client(finance_a).get(reverse("admin:payments_withdrawal_change", args=[withdrawal.pk])).content
    page = html.decode()
    assert 'data-testid="withdrawal-context"' in page
    assert "700" in page.split('data-testid="context-available"')[1][:80]  # 1,000 − 300 requested
    assert "•••• 5678" in page
    assert "Coupon leak" in page.split('data-testid="context-flags"')[1][:400]
    assert "1 more approval needed" in page
    assert "This is the first withdrawal." in page
    assert 'data-testid="withdrawal-approve"' in page


def test_a_manager_sees_no_decision_buttons_and_is_refused_politely(verified_client, manager_a, withdrawal):
    client = verified_client(manager_a)
    page = client.get(reverse("admin:payments_withdrawal_change", args=[withdrawal.pk])).content.decode()
    for testid in ("withdrawal-approve", "withdrawal-reject", "withdrawal-pay"):
        assert f'data-testid="{testid}"' not in page
    response = client.post(reverse("admin:payments_withdrawal_approve", args=[withdrawal.pk]))
    assert response.status_code == 403
    assert b'data-testid="refusal"' in response.content
    withdrawal.refresh_from_db()
    assert withdrawal.status == Withdrawal.Status.REQUESTED
    assert not withdrawal.approvals.exists()
