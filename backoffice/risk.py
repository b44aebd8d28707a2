"""Risk shown on finance's withdrawal screen (payments.selectors.withdrawal_context_get): the
tracking context sits above payments, so the back office, above both, hands it over."""

from typing import Any

from django.urls import reverse

from payments.models import Withdrawal
from tracking.selectors import fraud_flag_list_open, influencer_risk_get


def withdrawal_risk(*, withdrawal: Withdrawal) -> dict[str, Any]:
    flags = fraud_flag_list_open(brand=withdrawal.brand, influencer=withdrawal.influencer).order_by("-created_at")
    return {
        "risk_score": influencer_risk_get(influencer=withdrawal.influencer, brand=withdrawal.brand),
        "flags": [
            {
                "reason": str(flag),
                "opened_at": flag.created_at,
                "url": reverse("admin:tracking_fraudflag_change", args=[flag.pk]),
            }
            for flag in flags[:10]
        ],
    }
