from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class OperatorJob(models.Model):
    """A job that used to need `manage.py` (the VTEX hook, reconciling a day, verifying the
    ledger, rebuilding report rollups, re-applying stored orders), started from the back
    office, run by a worker (or fanned out to several), with its progress and result kept for
    the person who started it. Started and finished audited."""

    BRAND_FIELD = "brand"

    class Kind(models.TextChoices):
        HOOK_CHECK = "hook_check", _("Check the VTEX hook")
        HOOK_REGISTER = "hook_register", _("Register the VTEX hook")
        RECONCILE_DAY = "reconcile_day", _("Reconcile a day with VTEX")
        LEDGER_VERIFY = "ledger_verify", _("Verify the ledger")
        ROLLUPS_REBUILD = "rollups_rebuild", _("Rebuild the reports of a period")
        REPROCESS_ORDERS = "reprocess_orders", _("Re-apply the stored orders that changed")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Finished")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("job"), max_length=20, choices=Kind.choices)
    brand = models.ForeignKey(
        "brands.Brand", on_delete=models.PROTECT, related_name="+", null=True, blank=True, verbose_name=_("brand")
    )
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress_done = models.PositiveIntegerField(_("done"), default=0)
    progress_total = models.PositiveIntegerField(_("total"), default=0)
    result = models.JSONField(_("result"), default=list, blank=True)
    error = models.TextField(_("error"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("started by")
    )
    created_at = models.DateTimeField(_("started at"), auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("operator job")
        verbose_name_plural = _("operator jobs")
        ordering = ["-created_at", "-id"]
        default_permissions = ("view",)
        permissions = [
            ("hook_operatorjob", _("Can check and register the VTEX hook")),
            ("reconcile_operatorjob", _("Can reconcile a day with VTEX")),
            ("verifyledger_operatorjob", _("Can verify the ledger")),
            ("rebuild_operatorjob", _("Can rebuild report rollups")),
            ("reprocess_operatorjob", _("Can re-apply stored orders")),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.progress_total:
            return 0
        return min(100, int(self.progress_done * 100 / self.progress_total))

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


# Which permission starts which job (accounts.roles gives them to managers and finance).
KIND_PERMISSIONS: dict[str, str] = {
    OperatorJob.Kind.HOOK_CHECK: "backoffice.hook_operatorjob",
    OperatorJob.Kind.HOOK_REGISTER: "backoffice.hook_operatorjob",
    OperatorJob.Kind.RECONCILE_DAY: "backoffice.reconcile_operatorjob",
    OperatorJob.Kind.LEDGER_VERIFY: "backoffice.verifyledger_operatorjob",
    OperatorJob.Kind.ROLLUPS_REBUILD: "backoffice.rebuild_operatorjob",
    OperatorJob.Kind.REPROCESS_ORDERS: "backoffice.reprocess_operatorjob",
}
