from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class IntegrityCheck(models.Model):
    """The latest result of one scheduled verification (the ledger's invariants, the audit
    chain, the audit exports): what the health panel and the `mgm_integrity_check_*` gauges
    show. One row per check, overwritten by each run; the runs themselves log and email."""

    name = models.CharField(_("check"), max_length=40, unique=True)
    ok = models.BooleanField(_("passed"))
    problems = models.PositiveIntegerField(_("problems found"), default=0)
    detail = models.TextField(_("detail"), blank=True)
    checked_at = models.DateTimeField(_("checked at"))

    class Meta:
        verbose_name = _("integrity check")
        verbose_name_plural = _("integrity checks")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name}: {'ok' if self.ok else 'failed'}"
