from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self) -> None:
        from core.health import probe_register
        from orders.health import orders_probe

        probe_register("orders", orders_probe)
