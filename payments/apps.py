from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from core import events


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = _("Payments")

    def ready(self) -> None:
        from payments import handlers  # noqa: PLC0415 apps.py ready(): loads models, needs the app registry

        events.subscribe("payout_account.changing", handlers.on_payout_account_changing)
        events.subscribe("payout_account.changed", handlers.on_payout_account_changed)
