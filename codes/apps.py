from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CodesConfig(AppConfig):
    name = "codes"
    verbose_name = _("Discount codes")

    def ready(self) -> None:
        from codes.health import codes_probe
        from core.health import probe_register

        probe_register("codes", codes_probe)
