"""Templated email in the recipient's language, always sent by the worker after the
transaction that caused it commits (a rolled-back change never emails anyone)."""

from email.utils import formataddr, parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

SUPPORTED = {code for code, _name in settings.LANGUAGES}


def email_send(*, to: list[str], template: str, context: dict[str, Any], language: str | None = None) -> None:
    """Queue `templates/email/<template>/{subject.txt,body.txt,body.html}` for `to`.

    `context` must be JSON-serialisable: the worker renders it, not this process."""
    recipients = [address for address in to if address]
    if not recipients:
        return
    from integrations.tasks import send_email_task  # noqa: PLC0415 tasks↔services cycle inside the app

    lang = language if language in SUPPORTED else settings.LANGUAGE_CODE
    transaction.on_commit(
        lambda: send_email_task.delay(to=recipients, template=template, context=context, language=lang)
    )


def email_render(*, template: str, context: dict[str, Any], language: str) -> tuple[str, str, str]:
    ctx = {"site_url": settings.SITE_URL, **context}
    with translation.override(language):
        subject = render_to_string(f"email/{template}/subject.txt", ctx).strip().replace("\n", " ")
        text = render_to_string(f"email/{template}/body.txt", ctx)
        html = render_to_string(f"email/{template}/body.html", ctx)
    return subject, text, html


def email_deliver(
    *,
    to: list[str],
    template: str,
    context: dict[str, Any],
    language: str,
    attachments: list[tuple[str, bytes, str]] | None = None,
) -> None:
    """Render and send now (in the worker). `attachments` are (filename, content, mimetype)."""
    subject, text, html = email_render(template=template, context=context, language=language)
    # A brand's email to its influencers carries the brand's name (context "sender_brand"), in
    # the subject and as the sender's display name; the platform's own mail says MGM.
    sender_brand = str(context.get("sender_brand") or "")
    prefix = f"[{sender_brand}] " if sender_brand else settings.ACCOUNT_EMAIL_SUBJECT_PREFIX
    from_email = None
    if sender_brand:
        _name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
        from_email = formataddr((sender_brand, address)) if address else None
    message = EmailMultiAlternatives(subject=f"{prefix}{subject}", body=text, to=to, from_email=from_email)
    message.attach_alternative(html, "text/html")
    for filename, content, mimetype in attachments or []:
        message.attach(filename, content, mimetype)
    message.send()
