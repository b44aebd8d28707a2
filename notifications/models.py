"""What an influencer was told, and how they want to be told.

A notification stores the event and its parameters, not rendered text: the portal renders it in
the reader's language at display time, and the email in the influencer's language when sent."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notifications.placeholders import EVENT_CHOICES, email_text_check


class Kind(models.TextChoices):
    """What a person chooses about (preferences are per kind, not per event)."""

    APPLICATION = "application", _("Application and membership")
    COMMISSION = "commission", _("Commissions")
    WITHDRAWAL = "withdrawal", _("Withdrawals")
    PAYOUT_DATA = "payout_data", _("Payout data")
    POLICY = "policy", _("Terms and privacy updates")
    CLAIM = "claim", _("Missing-order claims")
    CREATIVE = "creative", _("New creatives")


class Notification(models.Model):
    BRAND_FIELD = "brand"

    class Email(models.TextChoices):
        NONE = "none", _("Not emailed")
        PENDING = "pending", _("Waiting for the daily summary")
        SENT = "sent", _("Emailed")

    brand = models.ForeignKey(
        "brands.Brand", on_delete=models.CASCADE, related_name="notifications", verbose_name=_("brand")
    )
    influencer = models.ForeignKey(
        "affiliates.Influencer", on_delete=models.CASCADE, related_name="notifications", verbose_name=_("influencer")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    event = models.CharField(_("event"), max_length=40)
    params = models.JSONField(_("details"), default=dict, blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    # One notification per fact: a handler that runs twice for the same fact adds nothing.
    key = models.CharField(_("key"), max_length=120)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    email = models.CharField(_("email"), max_length=10, choices=Email.choices, default=Email.NONE)
    emailed_at = models.DateTimeField(_("emailed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["influencer", "key"], name="uniq_notification_per_fact")]
        indexes = [
            models.Index(fields=["influencer", "brand", "read_at"], name="notif_unread_idx"),
            models.Index(fields=["email", "created_at"], name="notif_email_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.influencer_id}"


class NotificationPreference(models.Model):
    """How one influencer wants email (the in-portal centre always shows everything)."""

    influencer = models.OneToOneField(
        "affiliates.Influencer",
        on_delete=models.CASCADE,
        related_name="notification_preference",
        verbose_name=_("influencer"),
    )
    #: kinds the influencer does not want email about
    email_off = models.JSONField(_("no email for"), default=list, blank=True)
    #: everything in one email a day instead of one email per fact
    daily_digest = models.BooleanField(_("one summary email a day"), default=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return str(self.influencer_id)


class EmailText(models.Model):
    """A brand's own wording of one notification email in one language. Without one, the
    shipped text is sent (notifications.messages); placeholders such as {amount} are filled
    from the notification (notifications.email_texts lists them per event)."""

    BRAND_FIELD = "brand"

    brand = models.ForeignKey(
        "brands.Brand", on_delete=models.CASCADE, related_name="email_texts", verbose_name=_("brand")
    )
    event = models.CharField(_("email"), max_length=40, choices=EVENT_CHOICES)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"), max_length=4000)
    is_active = models.BooleanField(
        _("in use"), default=True, help_text=_("Untick to send the shipped text again without losing this one.")
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("email text")
        verbose_name_plural = _("email texts")
        ordering = ["brand_id", "event", "language"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "event", "language"], name="uniq_email_text_per_language")
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()} · {self.get_language_display()}"

    def clean(self) -> None:
        email_text_check(event=self.event, subject=self.subject, body=self.body)
