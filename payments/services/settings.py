"""Finance's configuration of payouts: withholding rules and per-brand payout settings."""

from typing import Any

from django.db import transaction
from django.forms.models import model_to_dict

from audit.services import audit_record
from payments.models import PayoutSettings, WithholdingRule


def withholding_rule_save(*, rule: WithholdingRule, actor: Any, changed: list[str] | None = None) -> WithholdingRule:
    """Create or change a rule. Payouts already approved keep the withholdings they froze."""
    created = rule.pk is None
    with transaction.atomic():
        before = None if created else model_to_dict(WithholdingRule.objects.get(pk=rule.pk))
        rule.full_clean()
        rule.save()
        audit_record(
            action="withholding_rule.created" if created else "withholding_rule.changed",
            target=rule,
            actor=actor,
            brand_id=rule.brand_id,
            before=before,
            after={**model_to_dict(rule), "changed": changed or []},
        )
    return rule


def payout_settings_save(
    *, settings_row: PayoutSettings, actor: Any, changed: list[str] | None = None
) -> PayoutSettings:
    created = settings_row.pk is None
    with transaction.atomic():
        before = None if created else model_to_dict(PayoutSettings.objects.get(pk=settings_row.pk))
        settings_row.full_clean()
        settings_row.save()
        audit_record(
            action="payout_settings.changed",
            target=settings_row,
            actor=actor,
            brand_id=settings_row.brand_id,
            before=before,
            after={**model_to_dict(settings_row), "changed": changed or []},
        )
    return settings_row
