from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommissionsConfig(AppConfig):
    name = "commissions"
    verbose_name = _("Commissions")

    def ready(self) -> None:
        # Affiliates (below) records referrals and payout data; tracking (below) resolves fraud
        # flags and asks what they hold. The money follows here.
        from commissions import handlers
        from commissions.selectors import commission_held_by_order, commission_hold_subject
        from core import events
        from tracking.fraud_holds import fraud_holds_register

        events.subscribe("referral.recorded", handlers.on_referral_recorded)
        events.subscribe("referral.changed", handlers.on_referral_changed)
        events.subscribe("payout_account.changed", handlers.on_payout_account_changed)
        events.subscribe("fraud.flag_resolved", handlers.on_fraud_flag_resolved)
        fraud_holds_register(subject_of=commission_hold_subject, held_by_order=commission_held_by_order)
