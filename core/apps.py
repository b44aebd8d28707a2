from django.apps import AppConfig

from core import events, health
from core.lookups import lookups_register
from core.panel_cache import on_rollups_moved


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from core import health_probes  # noqa: PLC0415 apps.py ready(): loads models, needs the app registry

        lookups_register()
        # Cached dashboard and portal panels follow the rollups they sum (core/panel_cache.py).
        events.subscribe("rollups.moved", on_rollups_moved)
        health.collector_register()
        health.probe_register("celery", health_probes.celery_queue_probe)
        health.probe_register("integrity", health_probes.integrity_probe)
