from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from core import events


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Above the apps whose facts it tells influencers about: it hears of them through
        # core.events only, and none of them imports it (decision 0040).
        from notifications.handlers import EVENT_HANDLERS  # noqa: PLC0415 apps.py ready(): loads models, needs the app registry

        for name, handler in EVENT_HANDLERS.items():
            events.subscribe(name, handler)
