"""Brands' webhook endpoints, the messages sent to them and every delivery attempt."""

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.crypto import EncryptedTextField


def _message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


class WebhookEndpoint(models.Model):
    """A URL of a brand's system that receives the event types it chose, signed with its secret
    (Standard Webhooks). Only `webhooks.services` changes it."""

    BRAND_FIELD = "brand"

    brand = models.ForeignKey(
        "brands.Brand", on_delete=models.CASCADE, related_name="webhook_endpoints", verbose_name=_("brand")
    )
    url = models.URLField(_("URL"), max_length=1000, help_text=_("A public HTTPS address of your system."))
    description = models.CharField(_("description"), max_length=200, blank=True)
    event_types = models.JSONField(_("event types"), default=list)
    is_active = models.BooleanField(_("active"), default=True)
    secret = EncryptedTextField(_("signing secret"), editable=False)
    previous_secret = EncryptedTextField(_("previous signing secret"), blank=True, default="", editable=False)
    previous_secret_expires_at = models.DateTimeField(_("previous secret valid until"), null=True, blank=True)
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    disabled_reason = models.CharField(_("disabled because"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["brand", "url"]

    def __str__(self) -> str:
        return self.url


class WebhookMessage(models.Model):
    """One event as sent to endpoints: its id is the `webhook-id` header, the same on every
    attempt, so receivers can drop duplicates."""

    BRAND_FIELD = "brand"

    id = models.CharField(primary_key=True, max_length=40, default=_message_id, editable=False)
    brand = models.ForeignKey(
        "brands.Brand", on_delete=models.CASCADE, related_name="webhook_messages", verbose_name=_("brand")
    )
    event_type = models.CharField(_("event type"), max_length=60, db_index=True)
    payload = models.JSONField(_("payload"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("webhook message")
        verbose_name_plural = _("webhook messages")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.event_type} {self.id}"


class WebhookDelivery(models.Model):
    """A message on its way to one endpoint: retried with backoff until it succeeds or three
    days have passed."""

    BRAND_FIELD = "endpoint__brand"

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Delivered")
        FAILED = "failed", _("Failed (retries exhausted)")

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("endpoint")
    )
    message = models.ForeignKey(
        WebhookMessage, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("message")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    last_response_status = models.PositiveSmallIntegerField(_("last response code"), null=True, blank=True)
    last_duration_ms = models.PositiveIntegerField(_("last response time (ms)"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["endpoint", "message"], name="uniq_delivery_per_endpoint")]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due_idx")]

    def __str__(self) -> str:
        return f"{self.message_id} → {self.endpoint_id}"


class WebhookAttempt(models.Model):
    """The log of one HTTP attempt: response code (or error) and how long it took."""

    BRAND_FIELD = "delivery__endpoint__brand"

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log", verbose_name=_("delivery")
    )
    attempted_at = models.DateTimeField(_("attempted at"), default=timezone.now)
    response_status = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("response time (ms)"))
    error = models.CharField(_("error"), max_length=500, blank=True)
    response_excerpt = models.CharField(_("response (start)"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["-attempted_at"]

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.response_status or self.error}"
