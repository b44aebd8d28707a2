from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackofficeConfig(AppConfig):
    """The back office: the admin site, its dashboard and operator pages, the landing page and
    the demo seed. An edge over every context, beside the portal; nothing below imports it."""

    name = "backoffice"
    verbose_name = _("Back office")

    def ready(self) -> None:
        from backoffice.risk import withdrawal_risk  # noqa: PLC0415 apps.py ready(): loads models, needs the app registry
        from payments.selectors import withdrawal_risk_register  # noqa: PLC0415 apps.py ready(): loads models, needs the app registry

        # Finance weighs tracking's fraud flags and risk score when approving a withdrawal.
        withdrawal_risk_register(withdrawal_risk)
