from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from core import events
from core.admin_exports import large_export_register
from tracking.link_numbers import link_numbers_register


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from reports.exports import export_job_start_for_admin  # noqa: PLC0415 apps.py ready(): loads models, needs the app registry
        from reports.rollups import rollup_refresh_on_commit  # noqa: PLC0415 apps.py ready(): loads models, needs the app registry
        from reports.selectors import link_numbers_for  # noqa: PLC0415 apps.py ready(): loads models, needs the app registry

        # Orders, commissions and clicks publish the moments they touched; the rollups of those
        # brands' local days are recomputed after commit (debounced as before).
        events.subscribe("facts.changed", rollup_refresh_on_commit)
        # Admin exports past the synchronous limit run as export jobs with a progress page.
        large_export_register(export_job_start_for_admin)
        # Tracking's admin and API show each link's numbers from our link rollups.
        link_numbers_register(link_numbers_for)
