from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from campaigns.performance import performance_source_set
from core import events
from orders import reactions as order_reactions
from payments.origins import ledger_origin_register
from tracking.fraud_holds import fraud_holds_register


class CommissionsConfig(AppConfig):
    name = "commissions"
    verbose_name = _("Commissions")

    def ready(self) -> None:
        from commissions import handlers  # noqa: PLC0415 apps.py ready(): loads models, needs the app registry
        from commissions.selectors import (  # noqa: PLC0415 apps.py ready(): loads models, needs the app registry
            commission_held_by_order,
            commission_hold_subject,
            commission_origins,
            commission_performance,
            order_attribution_settled,
        )
        from commissions.services.order_sync import (  # noqa: PLC0415 apps.py ready(): loads models, needs the app registry
            commissions_prefetch,
            commissions_sync_for_order,
        )

        # Tier evaluation (campaigns, below) reads confirmed performance from the commission records.
        performance_source_set(commission_performance)
        # Orders (below) reconciles an order: its commissions follow it, and a confirmed
        # commission settles its attribution.
        order_reactions.attribution_settled_register("commissions", order_attribution_settled)
        order_reactions.order_applied_register("commissions", commissions_sync_for_order)
        order_reactions.batch_prefetch_register("commissions", commissions_prefetch)
        # Payments (below) describes a commission's ledger lines by the order behind them.
        ledger_origin_register("commissions", commission_origins)
        # Affiliates (below) records referrals and payout data; tracking (below) resolves fraud
        # flags and asks what they hold. The money follows here.
        events.subscribe("referral.recorded", handlers.on_referral_recorded)
        events.subscribe("referral.changed", handlers.on_referral_changed)
        events.subscribe("payout_account.changed", handlers.on_payout_account_changed)
        events.subscribe("fraud.flag_resolved", handlers.on_fraud_flag_resolved)
        fraud_holds_register(subject_of=commission_hold_subject, held_by_order=commission_held_by_order)
