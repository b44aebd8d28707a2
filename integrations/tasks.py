import smtplib
from typing import Any

from celery import shared_task

from integrations.email import email_deliver


@shared_task(
    name="integrations.tasks.send_email_task",
    autoretry_for=(smtplib.SMTPException, ConnectionError, TimeoutError, OSError),
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=8,
)
def send_email_task(*, to: list[str], template: str, context: dict[str, Any], language: str) -> None:
    email_deliver(to=to, template=template, context=context, language=language)
