from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from core import events
from core.health import probe_register


class CodesConfig(AppConfig):
    name = "codes"
    verbose_name = _("Discount codes")

    def ready(self) -> None:
        from codes import handlers  # noqa: PLC0415 apps.py ready(): loads models, needs the app registry
        from codes.health import codes_probe  # noqa: PLC0415 apps.py ready(): loads models, needs the app registry

        probe_register("codes", codes_probe)
        # Codes follow the campaign, the influencer's place in it and their membership, all
        # decided on lower floors (core/events.py).
        events.subscribe("membership.changed", handlers.on_membership_changed)
        events.subscribe("campaign.changed", handlers.on_campaign_changed)
        events.subscribe("assignment.changed", handlers.on_assignment_changed)
