"""Telling influencers what happened: one notification per fact in the portal's centre, and
email as the influencer chose (per kind, or one summary a day). Commission news always goes in the
daily summary: a busy influencer would otherwise get one email per order line."""

import logging
from collections import defaultdict
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.services import audit_record
from core import batching
from core.errors import ApplicationError
from core.generations import generations_move_on_commit
from integrations.email import email_send
from notifications.email_texts import email_message, email_text_fill, email_text_for
from notifications.locks import notifications_pending_claim, preference_lock
from notifications.messages import notification_message
from notifications.models import Kind, Notification, NotificationPreference
from notifications.selectors import notification_preference_get, unread_scope

logger = logging.getLogger(__name__)

#: kinds whose email always waits for the daily summary (a brand uploads pieces in bunches)
DIGEST_ONLY = {Kind.COMMISSION, Kind.CREATIVE}
#: kinds told in the portal only: the security email about payout data is sent by affiliates
#: whatever the preferences say (nobody may switch off being told their bank account changed)
PORTAL_ONLY = {Kind.PAYOUT_DATA}
#: kinds a person may switch email off for
EMAIL_KINDS = [k for k in Kind if k not in PORTAL_ONLY]


def _language(influencer: Any) -> str:
    language = getattr(influencer.user, "preferred_language", "") or settings.LANGUAGE_CODE
    return language


def _brand_context(brand: Any) -> dict[str, Any]:
    return {
        "brand": brand.name,
        "sender_brand": brand.name,
        "brand_color": brand.primary_color,
        "portal_path": f"/portal/{brand.slug}/",
    }


def notification_create(
    *,
    brand: Any,
    influencer: Any,
    kind: str,
    event: str,
    key: str,
    params: dict[str, Any] | None = None,
    url: str = "",
    email_template: str = "",
    email_context: dict[str, Any] | None = None,
) -> Notification | None:
    """Record one notification for a fact (`key` names it; a second call for the same fact does
    nothing and returns None) and email it now, later in the summary, or not at all, as the
    influencer chose. Call inside the transaction of the fact: both commit or roll back together,
    and the email leaves after the commit.

    `email_template` is a template under templates/email/ for facts that have their own wording
    (with `email_context`); the others use the generic one with the notification's text.

    Inside a batch (core.batching), a notification that sends nothing now is inserted when the
    batch ends and returned unsaved (a repeated fact is then skipped at the insert)."""
    params = params or {}
    # Decided before the insert, so a notification that waits for the summary (every commission)
    # is one INSERT, not an INSERT and an UPDATE. Read once per batch (core.batching).
    preference = batching.memo(
        ("notifications.preference", influencer.pk), lambda: notification_preference_get(influencer=influencer)
    )
    email: str
    if kind in PORTAL_ONLY or kind in (preference.email_off or []):
        email = Notification.Email.NONE
    elif kind in DIGEST_ONLY or preference.daily_digest:
        email = Notification.Email.PENDING
    else:
        email = ""  # sent below, once created
    values = {"brand": brand, "kind": kind, "event": event, "params": params, "url": url}
    if email and batching.current() is not None:
        # Nothing to send now: inside a batch (core.batching) the row is inserted with the
        # batch's others when it ends, a fact already told skipped by the unique constraint.
        notification = Notification(influencer=influencer, key=key[:120], email=email, **values)
        batching.defer_insert(notification, ignore_conflicts=True)
        # The bell moves once the batch commits; once per influencer and brand, not per row.
        scope = unread_scope(influencer_id=influencer.pk, brand_id=brand.pk)
        batching.memo(("unread-moves", scope), lambda: generations_move_on_commit([scope]))
        return notification
    notification, created = Notification.objects.get_or_create(
        influencer=influencer, key=key[:120], defaults={**values, "email": email or Notification.Email.NONE}
    )
    if not created:
        return None
    generations_move_on_commit([unread_scope(influencer_id=influencer.pk, brand_id=brand.pk)])
    if email:
        return notification
    language = _language(influencer)
    # The brand's own wording of this email, if it wrote one for this language (decision 0040).
    custom = email_text_for(brand_id=brand.pk, event=event, language=language)
    with translation.override(language):
        if custom is not None:
            message = email_text_fill(custom, params=params, brand_name=brand.name, name=influencer.display_name)
        else:
            message = notification_message(event=event, params=params, brand=brand.name)
        context = {
            "name": influencer.display_name,
            **_brand_context(brand),
            "title": message.title,
            "body": message.body,
            "url": url,
            **(email_context or {}),
        }
    # A brand text replaces the whole wording, so it goes out in the generic layout.
    template = "notification" if custom is not None else (email_template or "notification")
    email_send(to=[influencer.user.email], template=template, language=language, context=context)
    notification.email = Notification.Email.SENT
    notification.emailed_at = timezone.now()
    notification.save(update_fields=["email", "emailed_at"])
    return notification


def notifications_mark_read(*, influencer: Any, brand: Any, ids: list[int] | None = None) -> int:
    """Mark the influencer's unread notifications with `brand` read (only `ids` when given).
    Someone else's ids are ignored, not an error: they simply match nothing."""
    unread = Notification.objects.filter(influencer=influencer, brand=brand, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    marked = unread.update(read_at=timezone.now())
    if marked:
        generations_move_on_commit([unread_scope(influencer_id=influencer.pk, brand_id=brand.pk)])
    return marked


def notification_preference_update(
    *, influencer: Any, email_off: list[str], daily_digest: bool, actor: Any = None
) -> NotificationPreference:
    unknown = set(email_off) - {k.value for k in EMAIL_KINDS}
    if unknown:
        raise ApplicationError(_("Choose kinds of notice from the list."), code="unknown_kind")
    with transaction.atomic():
        preference = preference_lock(influencer=influencer)
        before = {"email_off": preference.email_off, "daily_digest": preference.daily_digest}
        preference.email_off = sorted(set(email_off))
        preference.daily_digest = daily_digest
        preference.save()
        after = {"email_off": preference.email_off, "daily_digest": preference.daily_digest}
        if before != after:
            audit_record(
                action="notifications.preferences_updated", target=preference, actor=actor, before=before, after=after
            )
    return preference


def notifications_digest_send(*, now: datetime | None = None) -> int:
    """Send each influencer one summary per brand of the notifications waiting for it (created
    before `now`). Safe to run twice or in two workers at once: rows are claimed under
    SKIP LOCKED and marked sent in the same transaction, so each is summarised once."""
    now = now or timezone.now()
    sent = 0
    with transaction.atomic():
        waiting = notifications_pending_claim(now=now)
        groups: dict[tuple[int, int], list[Notification]] = defaultdict(list)
        for notification in waiting:
            groups[(notification.influencer_id, notification.brand_id)].append(notification)
        preferences = {
            p.influencer_id: p for p in NotificationPreference.objects.filter(influencer_id__in={k[0] for k in groups})
        }
        for (influencer_id, _brand_id), items in groups.items():
            preference = preferences.get(influencer_id)
            off = set(preference.email_off) if preference else set()
            # The person may have switched a kind off after it was queued.
            dropped = [n.pk for n in items if n.kind in off]
            items = [n for n in items if n.kind not in off]
            Notification.objects.filter(pk__in=dropped).update(email=Notification.Email.NONE)
            if not items:
                continue
            influencer, brand = items[0].influencer, items[0].brand
            language = _language(influencer)
            with translation.override(language):
                lines = [
                    {
                        "title": m.title,
                        "body": m.body,
                        "when": timezone.localtime(n.created_at, brand.tz).strftime("%Y-%m-%d %H:%M"),
                    }
                    for n in items
                    for m in [
                        email_message(
                            brand=brand, event=n.event, params=n.params, language=language, name=influencer.display_name
                        )
                    ]
                ]
            email_send(
                to=[influencer.user.email],
                template="notifications_digest",
                language=language,
                context={"name": influencer.display_name, **_brand_context(brand), "items": lines},
            )
            Notification.objects.filter(pk__in=[n.pk for n in items]).update(
                email=Notification.Email.SENT, emailed_at=now
            )
            sent += 1
    return sent
