from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = _("Outgoing webhooks")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.health import probe_register
        from webhooks.health import webhooks_probe

        probe_register("webhooks", webhooks_probe)
        # Above every app it listens to: it learns of their facts through core.events only.
        from core import events
        from webhooks.services import EVENT_HANDLERS

        for name, handler in EVENT_HANDLERS.items():
            events.subscribe(name, handler)
