"""Demo money for the demo brand, through the ledger's own services: every approved demo
influencer gets estimated, on-hold and available commissions; one withdrawal waits in the
finance queue; Colombia has a withholding rule. The demo brand needs two finance approvals above
COP 50.000 (the queued withdrawal is above it), so the two demo finance users can take it from
request to paid in the admin (README, "A payout run"). Idempotent: postings are keyed by
reference."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from affiliates.models import Membership
from brands.models import Brand
from payments.models import Withdrawal, WithholdingRule
from payments.services import (
    ledger_commission_accrue,
    ledger_commission_confirm,
    payout_cutoff_run,
    withdrawal_request_create,
)
from payments.services.cutoff import previous_period
from payments.services.withdrawals import payout_settings_for

# (reference suffix, amount in cents, confirmed?, days the hold still runs: negative = ended)
COMMISSIONS = [
    ("a", 80_000_00, True, -40),
    ("b", 45_500_00, True, -35),
    ("c", 30_000_00, True, 10),
    ("d", 12_750_00, False, 0),
]


def seed(*, out: Any) -> None:
    brand = Brand.objects.get(slug="demo")
    options = payout_settings_for(brand=brand)
    if options.second_approval_threshold_cents is None:
        options.second_approval_threshold_cents = 50_000_00
        options.payout_change_2fa_threshold_cents = 1_000_000_00
        options.save(update_fields=["second_approval_threshold_cents", "payout_change_2fa_threshold_cents"])
    WithholdingRule.objects.get_or_create(
        brand=brand,
        name="Retención en la fuente (honorarios)",
        country="CO",
        defaults={"rate": Decimal("10.0000"), "base": WithholdingRule.Base.GROSS, "effective_from": date(2026, 1, 1)},
    )
    now = timezone.now()
    memberships = Membership.objects.filter(brand=brand, status=Membership.Status.APPROVED).select_related(
        "influencer__user"
    )
    for membership in memberships.order_by("pk"):
        influencer = membership.influencer
        for suffix, cents, confirm, hold_days in COMMISSIONS:
            ref = f"demo-{influencer.pk}-{suffix}"
            occurred = now - timedelta(days=60 if hold_days < 0 else 5)
            ledger_commission_accrue(
                brand=brand, influencer=influencer, commission_ref=ref, amount_cents=cents, occurred_at=occurred
            )
            if confirm:
                ledger_commission_confirm(
                    brand=brand,
                    influencer=influencer,
                    commission_ref=ref,
                    occurred_at=occurred + timedelta(days=1),
                    hold_until=now + timedelta(days=hold_days),
                )
    start, end = previous_period(timezone.localtime(now, brand.tz).date())
    batch = payout_cutoff_run(brand=brand, period_start=start)
    out.write(f"  cutoff {start} – {end}: released {batch.released_count} commission(s)")

    first = memberships.order_by("pk").first()
    if first and not Withdrawal.objects.filter(brand=brand, influencer=first.influencer).exists():
        try:
            withdrawal = withdrawal_request_create(
                influencer=first.influencer,
                brand=brand,
                amount="60000.00",
                requested_by=first.influencer.user,
            )
        except Exception as exc:
            out.write(f"  no demo withdrawal: {exc}")
        else:
            out.write(
                f"  withdrawal {withdrawal} of {first.influencer} waits in the finance queue "
                "(two approvals: finance@demo.mgm and finance2@demo.mgm)"
            )
