from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = _("Payments")

    def ready(self) -> None:
        from core import events
        from payments import handlers

        events.subscribe("payout_account.changing", handlers.on_payout_account_changing)
        events.subscribe("payout_account.changed", handlers.on_payout_account_changed)
        try:
            from affiliates.portal_nav import NavItem, portal_nav_register
        except ImportError:  # the portal navigation is optional for payments
            return
        portal_nav_register(NavItem("withdrawals", _("Withdrawals"), "payments:portal_withdrawals", 45))
        portal_nav_register(NavItem("statements", _("Statements"), "payments:portal_statements", 50))
