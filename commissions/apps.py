from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommissionsConfig(AppConfig):
    name = "commissions"
    verbose_name = _("Commissions")

    def ready(self) -> None:
        # Affiliates (below) records referrals and payout data; the money follows here.
        from commissions import handlers
        from core import events

        events.subscribe("referral.recorded", handlers.on_referral_recorded)
        events.subscribe("referral.changed", handlers.on_referral_changed)
        events.subscribe("payout_account.changed", handlers.on_payout_account_changed)
