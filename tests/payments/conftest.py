"""Payments fixtures: money made available through the ledger's own services, payout data on
file through the affiliates model, finance users."""

from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.db import transaction
from django.utils import timezone

from payments.models import PayoutBatch
from payments.services import ledger_commission_accrue, ledger_commission_confirm
from payments.services.cutoff import payout_period_for
from payments.services.ledger import ledger_release_due
from tests.factories import StaffFactory

_counter = {"n": 0}


def give_payout_account(influencer: Any, **overrides: Any) -> Any:
    model = apps.get_model("affiliates", "PayoutAccount")
    fields = {
        "influencer": influencer,
        "account_holder": "=cmd|' /C calc'!A0 " + influencer.display_name,
        "holder_document_type": "CO_CC",
        "holder_document_number": "1020304050",
        "bank_name": "Bancolombia",
        "bank_code": "007",
        "account_type": "savings",
        "account_number": "12345678",
        **overrides,
    }
    return model.objects.create(**fields)


def make_available(brand: Any, influencer: Any, cents: int, *, ref: str | None = None) -> str:
    """Accrue, confirm with an ended hold, and release `cents` for the influencer."""
    _counter["n"] += 1
    ref = ref or f"c-{influencer.pk}-{_counter['n']}"
    past = timezone.now() - timedelta(days=40)
    ledger_commission_accrue(
        brand=brand, influencer=influencer, commission_ref=ref, amount_cents=cents, occurred_at=past
    )
    ledger_commission_confirm(
        brand=brand, influencer=influencer, commission_ref=ref, occurred_at=past, hold_until=past + timedelta(days=1)
    )
    start, end = payout_period_for((timezone.now() - timedelta(days=30)).date())
    batch, _ = PayoutBatch.objects.get_or_create(brand=brand, period_start=start, defaults={"period_end": end})
    with transaction.atomic():
        ledger_release_due(brand=brand, influencer_ids=[influencer.pk], due_at=timezone.now(), batch=batch)
    return ref


@pytest.fixture
def payout_account(influencer_a: Any) -> Any:
    return give_payout_account(influencer_a)


@pytest.fixture
def funded(brand_a: Any, influencer_a: Any, payout_account: Any) -> Any:
    """influencer_a with 1,000.00 available at brand_a (minimum 50.00)."""
    brand_a.min_withdrawal_cents = 50_00
    brand_a.save(update_fields=["min_withdrawal_cents"])
    make_available(brand_a, influencer_a, 1_000_00)
    return influencer_a


@pytest.fixture
def finance_a2(brand_a: Any) -> Any:
    return StaffFactory(email="finance.a2@example.com", role="Finance", brands=[brand_a])
