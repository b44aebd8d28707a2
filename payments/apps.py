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
