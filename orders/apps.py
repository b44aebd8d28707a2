from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from core.health import probe_register


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self) -> None:
        from orders.health import orders_probe  # noqa: PLC0415 apps.py ready(): loads models, needs the app registry

        probe_register("orders", orders_probe)
