from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from core import events
from core.health import probe_register


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = _("Outgoing webhooks")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from webhooks.health import webhooks_probe  # noqa: PLC0415 apps.py ready(): loads models, needs the app registry

        probe_register("webhooks", webhooks_probe)
        # Above every app it listens to: it learns of their facts through core.events only.
        from webhooks.services import EVENT_HANDLERS  # noqa: PLC0415 apps.py ready(): loads models, needs the app registry

        for name, handler in EVENT_HANDLERS.items():
            events.subscribe(name, handler)
