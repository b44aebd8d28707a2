from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """One administrative or financial action. Append-only: on PostgreSQL a trigger refuses
    DELETE and any change of content. Rows are written unsealed, in the same transaction as the
    change they record, without any lock; the sealer (`audit_chain_seal`, run by Beat every
    minute and before every verification) then gives each committed row its place in the chain
    (`seq`) and a hash over its content and the previous row's hash, the only update the trigger
    allows, once. `manage.py audit_verify` proves nothing sealed was changed or removed."""

    BRAND_FIELD = "brand"

    created_at = models.DateTimeField(_("when"), db_index=True)
    # Plain references (no FK constraint): the record must outlive the rows it talks about.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_repr = models.CharField(_("actor"), max_length=254, blank=True)
    action = models.CharField(_("action"), max_length=80, db_index=True)
    target_type = models.CharField(_("target type"), max_length=80, blank=True, db_index=True)
    target_id = models.CharField(_("target id"), max_length=64, blank=True, db_index=True)
    target_repr = models.CharField(_("target"), max_length=254, blank=True)
    brand = models.ForeignKey(
        "brands.Brand",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("brand"),
    )
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=400, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    seq = models.BigIntegerField(_("chain position"), null=True, blank=True, unique=True)
    prev_hash = models.CharField(max_length=64, null=True, blank=True)
    hash = models.CharField(max_length=64, null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-id"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_target_idx")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_repr or '-'} {self.action}"


class AuditExport(models.Model):
    """One periodic export of sealed audit events to private storage (JSON lines), with the head
    of the chain it ends at. `audit_verify` checks each file against its checksum, its own chain
    and the database's event at `head_seq`, so a log rewritten after the export is caught."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    first_seq = models.BigIntegerField(_("first event"))
    head_seq = models.BigIntegerField(_("last event (chain head)"), unique=True)
    head_hash = models.CharField(_("chain head hash"), max_length=64)
    events = models.PositiveIntegerField(_("events"))
    file_name = models.CharField(_("file"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)

    class Meta:
        verbose_name = _("audit export")
        verbose_name_plural = _("audit exports")
        ordering = ["-head_seq"]

    def __str__(self) -> str:
        return f"{self.first_seq}–{self.head_seq} {self.head_hash[:12]}"
